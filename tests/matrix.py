"""What the permission matrices (tests/*/test_permissions.py) share.

A row is (method, path, body, allowed, status): who may call the operation and the exact status each
of them gets with that request — one for every allowed caller, else {who: status}; a refusal by a domain
rule is (status, error code), e.g. (409, "no_provider").
Callers not allowed get exactly 401 unauthorized (anonymous) or 403 forbidden. Every operation of the
OpenAPI document has a row in one matrix (tests/test_permissions.py checks it)."""
from __future__ import annotations


def fill(body, ids: dict):
    """Replace "{name}" strings anywhere in ``body`` with ids[name]."""
    if isinstance(body, dict):
        return {k: fill(v, ids) for k, v in body.items()}
    if isinstance(body, list):
        return [fill(v, ids) for v in body]
    if isinstance(body, str) and body.startswith("{") and body.endswith("}"):
        return ids[body[1:-1]]
    return body


def row_id(row) -> str:
    return f"{row[0]} {row[1]}"


def expected_status(status, who: str) -> tuple[int, str | None]:
    """(status, error code or None) a caller gets."""
    cell = status[who] if isinstance(status, dict) else status
    return cell if isinstance(cell, tuple) else (cell, None)


def assert_permission(response, who: str, allowed: set, status) -> None:
    """An allowed caller gets exactly the row's status (an error in the error shape); any other caller
    exactly 401 unauthorized (anonymous) or 403 forbidden."""
    answer = response.get_json(silent=True)
    if who in allowed:
        expected, code = expected_status(status, who)
        assert response.status_code == expected, (response.status_code, answer)
        assert (expected >= 400) == (code is not None), f"a 4xx cell names its error code, a 2xx none: {status}"
        if code is not None:
            assert set(answer) == {"code", "message", "details"} and answer["code"] == code, answer
    elif who == "anonymous":
        assert response.status_code == 401 and answer["code"] == "unauthorized", answer
    else:
        assert response.status_code == 403 and answer["code"] == "forbidden", answer


def check_statuses(endpoints, whos) -> None:
    """Each row states a status for each caller it lets in (one number, or one per caller)."""
    for method, path, _, allowed, status in endpoints:
        callers = {w for w in allowed if w in whos}
        if isinstance(status, dict):
            assert set(status) == callers, f"{method} {path}: statuses for {sorted(status)}, allowed {sorted(callers)}"
        for who in callers:
            expected, code = expected_status(status, who)
            assert isinstance(expected, int) and (expected >= 400) == isinstance(code, str), \
                f"{method} {path}: {status}"


def table_rules(endpoints, placeholders: dict) -> set[tuple[str, str]]:
    """(method, Flask rule) of each row of a matrix. A placeholder is an id (``"place_id"``) or, named
    ``"str:job"``, a string part of the path."""
    table = set()
    for method, path, *_ in endpoints:
        rule = path.split("?")[0].replace("/cover/card", "/cover/<any(card, full):size>")
        for placeholder, name in placeholders.items():
            kind, _, name = name.rpartition(":")
            rule = rule.replace(placeholder, f"<{name}>" if kind == "str" else f"<int(max=2147483647):{name}>")
        table.add((method, rule))
    return table


def table_operations(endpoints, placeholders: dict) -> set[tuple[str, str]]:
    """(method, OpenAPI path) of each row of a matrix."""
    table = set()
    for method, path, *_ in endpoints:
        path = path.split("?")[0].replace("/cover/card", "/cover/{size}")
        for placeholder, name in placeholders.items():
            path = path.replace(placeholder, "{" + name.rpartition(":")[2] + "}")
        table.add((method, path))
    return table


def app_rules(app, prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith(prefixes)
            for m in r.methods - {"HEAD", "OPTIONS"}}
