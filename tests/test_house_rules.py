"""House rules a test can check.

Tests do not sleep: time is injected (a `now=` argument, a clock the code reads through a hook such as
itsdangerous's TimestampSigner.get_timestamp) or the test waits for something it can observe
(Playwright's expect(...), page.wait_for_function, a server's answer)."""
import re
from pathlib import Path

TESTS = Path(__file__).resolve().parent
SLEEPING = re.compile(r"\bsleep\(|wait_for_timeout\(|setTimeout\(")
# file (relative to tests/) -> why it may wait for a fixed time; none so far
MAY_SLEEP: dict[str, str] = {}


def test_no_test_sleeps():
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        name = path.relative_to(TESTS).as_posix()
        if path == Path(__file__).resolve() or name in MAY_SLEEP:
            continue
        found += [f"{name}:{n}: {line.strip()}" for n, line in enumerate(path.read_text().splitlines(), 1)
                  if SLEEPING.search(line)]
    assert found == [], "inject the time or wait for an observable condition instead:\n" + "\n".join(found)


def test_the_allow_list_gives_reasons_for_files_that_exist():
    for name, reason in MAY_SLEEP.items():
        assert (TESTS / name).is_file() and len(reason) > 20, name


BACKEND = TESTS.parent / "backend"


def test_backend_messages_address_people_as_nin():
    """Every Chinese message the server writes (errors, notifications) says 您, never 你; comments and
    docstrings are not read by anyone using the app and are not checked."""
    import ast

    found = []
    for path in sorted(BACKEND.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)
                      and isinstance(node.body[0].value, ast.Constant)}
        found += [f"{path.relative_to(BACKEND.parent).as_posix()}:{node.lineno}: {node.value}"
                  for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and "你" in node.value
                  and id(node) not in docstrings]
    assert found == [], "say 您:\n" + "\n".join(found)
