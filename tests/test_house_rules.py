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
