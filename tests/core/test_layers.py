"""The backend's packages form layers: no two import each other (directly or round a longer cycle),
and ``core`` imports no domain. Every import counts — at the top, inside a function, or for type
checking only — since each says one package knows the other."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

BACKEND = Path(__file__).resolve().parents[2] / "backend"
PACKAGES = {p.name for p in BACKEND.iterdir() if p.is_dir() and (p / "__init__.py").exists()}


def _package(module: str) -> str | None:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 and parts[0] == "backend" and parts[1] in PACKAGES else None


def package_imports() -> dict[str, dict[str, list[str]]]:
    """package -> imported package -> the 'module -> module' lines that make the edge."""
    edges: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for path in sorted(BACKEND.rglob("*.py")):
        module = ".".join(path.relative_to(BACKEND.parent).with_suffix("").parts)
        source = _package(module)
        if source is None:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module, *(f"{node.module}.{alias.name}" for alias in node.names)]
            elif isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                continue
            for target in targets:
                imported = _package(target)
                if imported is not None and imported != source:
                    edges[source][imported].append(f"{module}:{node.lineno} -> {target}")
    return edges


def cycles(edges) -> list[list[str]]:
    """The strongly connected groups of more than one package (Tarjan)."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in edges.get(node, {}):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                found.append(sorted(group))

    for node in sorted(set(edges) | {other for targets in edges.values() for other in targets}):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycle_between_packages():
    edges = package_imports()
    found = cycles(edges)
    explained = [f"{' ⇄ '.join(group)}: "
                 + "; ".join(line for a in group for b in group if b in edges[a] for line in edges[a][b][:2])
                 for group in found]
    assert found == [], "\n".join(explained)


def test_core_imports_no_domain():
    edges = package_imports()
    assert dict(edges.get("core", {})) == {}


def test_the_checker_sees_cycles_and_function_level_imports():
    """The test above can fail: a cycle made by an import inside a function is found."""
    assert cycles({"a": {"b": []}, "b": {"c": []}, "c": {"a": []}, "d": {"a": []}}) == [["a", "b", "c"]]
    # vouchers/ledger.py imports accounts' User inside a function: that edge is seen too
    assert any(line.startswith("backend.vouchers.ledger:") for line in package_imports()["vouchers"]["accounts"])


# --- the dependencies that were inverted still act -------------------------------------------------

def test_blocking_and_restoring_an_account_still_tells_the_scanners(client, make_user, auth, session):
    """accounts no longer imports devices: devices subscribes to the change, in the same transaction."""
    import sqlalchemy as sa

    from backend.devices.models import Revocation, RevocationKind

    admin, person = make_user("admin"), make_user()
    for active in (False, True):
        response = client.patch(f"/api/admin/users/{person.id}", headers=auth(admin), json={"is_active": active})
        assert response.status_code == 200, response.get_json()
    kinds = session.scalars(sa.select(Revocation.kind).where(Revocation.ref_id == person.id)
                            .order_by(Revocation.id)).all()
    assert kinds == [RevocationKind.user_blocked, RevocationKind.user_restored]


def test_granting_a_role_at_a_closed_or_missing_place_is_still_refused(client, make_user, auth, session):
    """accounts no longer imports places: places registers how a role's place is found."""
    from tests.factories import make_place

    admin, person = make_user("admin"), make_user()
    for place_id in (make_place(is_active=False).id, 999_999):
        response = client.post(f"/api/admin/users/{person.id}/roles", headers=auth(admin),
                               json={"role": "station_staff", "place_id": place_id})
        assert response.status_code == 404 and response.get_json()["code"] == "place_not_found"
    session.refresh(person)
    assert [grant.role.value for grant in person.grants] == ["entrepreneur"]


# --- schemas shape data ---------------------------------------------------------------------------

def _schema_imports(path: Path) -> list[str]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("backend."):
            found.append(node.module)
        elif isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names if alias.name.startswith("backend."))
    return found


def test_schemas_run_no_queries_and_call_no_service():
    """A schema declares fields: it imports core, enums and other schemas only (a service decides, and
    sets what it decided on the rows: with_state, with_reversible, with_objections, with_tickets), and
    it never touches the session."""
    allowed = ("backend.core.", "backend.core")
    offending = []
    for path in sorted(BACKEND.glob("*/schemas.py")):
        for module in _schema_imports(path):
            if not (module.startswith(allowed) or module.endswith((".enums", ".schemas"))):
                offending.append(f"{path.parent.name}/schemas.py imports {module}")
        text = path.read_text(encoding="utf-8")
        offending += [f"{path.parent.name}/schemas.py uses {word}" for word in ("db.session", "select(", ".query")
                      if word in text]
    assert offending == []


def test_the_schema_check_sees_a_service_import(tmp_path):
    path = tmp_path / "schemas.py"
    path.write_text("def f():\n    from backend.vouchers.claims import voucher_state\n", encoding="utf-8")
    assert _schema_imports(path) == ["backend.vouchers.claims"]
