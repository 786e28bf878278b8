"""What the permission matrices (tests/*/test_permissions.py) share: filling placeholders into a
request body, the verdict on one answer, and the check that every route of a domain is in its table."""
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


def assert_permission(response, who: str, allowed: set) -> None:
    """Allowed callers are never refused (a domain rule may still say 404/409/422, never a 500);
    others get exactly 401 unauthorized (anonymous) or 403 forbidden."""
    answer = response.get_json(silent=True) or {}
    if who in allowed:
        assert response.status_code not in (401, 403), answer
        assert response.status_code < 500, answer
    elif who == "anonymous":
        assert response.status_code == 401 and answer["code"] == "unauthorized", answer
    else:
        assert response.status_code == 403 and answer["code"] == "forbidden", answer


def table_rules(endpoints, placeholders: dict) -> set[tuple[str, str]]:
    """(method, Flask rule) of each row of a matrix."""
    table = set()
    for method, path, _, _ in endpoints:
        rule = path.split("?")[0].replace("/cover/card", "/cover/<any(card, full):size>")
        for placeholder, name in placeholders.items():
            rule = rule.replace(placeholder, f"<int(max=2147483647):{name}>")
        table.add((method, rule))
    return table


def app_rules(app, prefixes: tuple[str, ...]) -> set[tuple[str, str]]:
    return {(m, r.rule) for r in app.url_map.iter_rules() if r.rule.startswith(prefixes)
            for m in r.methods - {"HEAD", "OPTIONS"}}
