"""The per-process identity cache and its bound (backend/accounts/identity.py, IDENTITY_CACHE_SECONDS):
a change made behind this process's back (plain SQL, as another server would) is unseen before the
bound and refused after it; a change made through the app is refused at once. The clock is injected."""
import pytest
import sqlalchemy as sa

from backend.accounts import identity
from backend.extensions import db

BOUND = 5.0


@pytest.fixture
def clock(app, session):
    """The identity cache of the test app, on a clock the test moves (no sleeping)."""
    cache = identity.cache_of(app)
    assert cache is not None and cache.seconds == BOUND  # the default bound is on in tests too
    now = [1000.0]
    original = cache.clock
    cache.clock = lambda: now[0]
    cache.clear()
    yield now
    cache.clock = original
    cache.clear()


@pytest.fixture
def statements(app, session):
    """The SQL statements run while the test runs."""
    seen = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    engine = db.session.get_bind()
    sa.event.listen(engine, "before_cursor_execute", record)
    yield seen
    sa.event.remove(engine, "before_cursor_execute", record)


def behind_the_back(sql: str, **params) -> None:
    """A change another server makes: plain SQL on the connection, no ORM, no session events."""
    db.session.connection().execute(sa.text(sql), params)


def test_a_cached_identity_reads_nothing_and_behaves_as_the_user(client, make_user, auth, clock, statements):
    user = make_user("admin", phone="13712340001")
    headers = auth(user)
    assert client.get("/api/me", headers=headers).status_code == 200  # fills the cache
    statements.clear()
    me = client.get("/api/me", headers=headers).get_json()
    assert not any("revoked_token" in s for s in statements)  # no identity query
    assert me["roles"] == ["admin"] and me["phone_masked"] == "137****0001"
    assert me["admin_region"]["districts"] is None  # grants are there for the properties that read them
    # a write through current_user on a cache hit is the session's own User: it is saved
    renamed = client.patch("/api/me", headers=headers, json={"name": "改名了"})
    assert renamed.status_code == 200 and renamed.get_json()["name"] == "改名了"
    assert db.session.execute(sa.text('SELECT name FROM "user" WHERE id = :id'), {"id": user.id}).scalar() == "改名了"
    assert client.get("/api/me", headers=headers).get_json()["name"] == "改名了"  # the commit dropped the copy


def test_a_role_revoked_elsewhere_is_refused_once_the_bound_has_passed(client, make_user, auth, clock):
    person = make_user("admin")
    headers = auth(person)
    assert client.get("/api/admin/users", headers=headers).status_code == 200
    behind_the_back("DELETE FROM role_grant WHERE user_id = :id", id=person.id)
    clock[0] += BOUND - 0.01
    assert client.get("/api/admin/users", headers=headers).status_code == 200  # within the bound: unseen
    clock[0] += 0.01
    response = client.get("/api/admin/users", headers=headers)
    assert response.status_code == 403 and response.get_json()["code"] == "forbidden"


def test_an_account_blocked_elsewhere_is_refused_once_the_bound_has_passed(client, make_user, auth, clock):
    person = make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    behind_the_back('UPDATE "user" SET is_active = :no WHERE id = :id', no=False, id=person.id)
    clock[0] += BOUND - 0.01
    assert client.get("/api/me", headers=headers).status_code == 200
    clock[0] += 0.01
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "account_disabled"


def test_a_token_revoked_elsewhere_is_refused_once_the_bound_has_passed(client, make_user, auth, clock):
    from flask_jwt_extended import decode_token

    person = make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    jti = decode_token(headers["Authorization"].split()[1])["jti"]
    behind_the_back("INSERT INTO revoked_token (jti, user_id, expires_at, created_at) "
                    "VALUES (:jti, :id, '2099-01-01 00:00:00', '2026-01-01 00:00:00')", jti=jti, id=person.id)
    clock[0] += BOUND - 0.01
    assert client.get("/api/me", headers=headers).status_code == 200
    clock[0] += 0.01
    response = client.get("/api/me", headers=headers)
    assert response.status_code == 401 and response.get_json()["code"] == "token_revoked"


def test_a_role_revoked_through_the_app_is_refused_at_once(client, make_user, auth, clock):
    admin, person = make_user("admin"), make_user("admin")
    headers = auth(person)
    assert client.get("/api/admin/users", headers=headers).status_code == 200
    revoked = client.delete(f"/api/admin/users/{person.id}/roles", headers=auth(admin), query_string={"role": "admin"})
    assert revoked.status_code == 200
    assert client.get("/api/admin/users", headers=headers).status_code == 403  # the clock has not moved


def test_an_account_blocked_through_the_app_is_refused_at_once(client, make_user, auth, clock):
    admin, person = make_user("admin"), make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.patch(f"/api/admin/users/{person.id}", headers=auth(admin), json={"is_active": False}).status_code == 200
    assert client.get("/api/me", headers=headers).get_json()["code"] == "account_disabled"
    assert client.patch(f"/api/admin/users/{person.id}", headers=auth(admin), json={"is_active": True}).status_code == 200
    assert client.get("/api/me", headers=headers).status_code == 200  # restored at once too


def test_a_logout_is_refused_at_once(client, make_user, auth, clock):
    person = make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    assert client.post("/api/auth/logout", headers=headers, json={}).status_code == 204
    assert client.get("/api/me", headers=headers).get_json()["code"] == "token_revoked"


def test_a_role_granted_through_the_service_is_seen_at_once(client, make_user, auth, clock, session):
    from backend.accounts import service as accounts
    from backend.accounts.enums import Role

    person = make_user()
    headers = auth(person)
    assert client.get("/api/admin/users", headers=headers).status_code == 403
    accounts.grant_role(actor=None, user=person, role=Role.admin)
    assert client.get("/api/admin/users", headers=headers).status_code == 200  # the client commits first


def test_a_bulk_update_through_the_session_drops_the_cache(client, make_user, auth, clock, session):
    from backend.accounts.models import User

    person = make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    session.execute(sa.update(User).where(User.id == person.id).values(is_active=False))
    assert client.get("/api/me", headers=headers).get_json()["code"] == "account_disabled"


def test_a_read_begun_before_a_change_here_is_not_kept(app, clock):
    cache = identity.cache_of(app)
    begun = cache.begin()
    cache.drop_users({42})  # a commit in this process, while the read was under way
    cache.put(42, "jti", object(), False, begun)
    assert cache.get(42, "jti") is None
    cache.put(42, "jti", "copy", False, cache.begin())
    assert cache.get(42, "jti") == ("copy", False)


def test_zero_turns_the_cache_off(app, client, make_user, auth, clock, monkeypatch):
    monkeypatch.setitem(app.extensions, "identity_cache", None)
    person = make_user()
    headers = auth(person)
    assert client.get("/api/me", headers=headers).status_code == 200
    behind_the_back('UPDATE "user" SET is_active = :no WHERE id = :id', no=False, id=person.id)
    assert client.get("/api/me", headers=headers).get_json()["code"] == "account_disabled"  # no bound at all


def test_the_setting_is_read_and_zero_means_off():
    assert identity.cache_for({"IDENTITY_CACHE_SECONDS": 0}) is None
    assert identity.cache_for({}) is None
    assert identity.cache_for({"IDENTITY_CACHE_SECONDS": 2.5}).seconds == 2.5
