import sqlalchemy as sa

from backend.accounts import service
from backend.accounts.models import User
from backend.places.models import Place


def test_seed_demo_is_idempotent_and_prints_logins(app, session):
    runner = app.test_cli_runner()
    first = runner.invoke(args=["seed-demo"])
    assert first.exit_code == 0, first.output
    assert "19900000001" in first.output and "admin" in first.output
    places = session.scalar(sa.select(sa.func.count()).select_from(Place))
    users = session.scalar(sa.select(sa.func.count()).select_from(User))
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(Place)) == places
    assert session.scalar(sa.select(sa.func.count()).select_from(User)) == users
    kinds = session.scalars(sa.select(Place.kind)).all()
    assert sorted(k.value for k in kinds) == ["loan_station"] * 3 + ["space", "street"]


def test_create_admin(app, session):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["create-admin", "--phone", "13600000001", "--name", "周管理"])
    assert result.exit_code == 0, result.output
    assert service.find_by_phone(phone="13600000001").roles == ["admin"]
    bad = runner.invoke(args=["create-admin", "--phone", "123", "--name", "x"])
    assert bad.exit_code != 0 and "手机号" in bad.output


def test_keys_rotate_list_retire(app, session):
    """Commands commit to the test's savepoint (rolled back after), as every request does."""
    from backend.core.keys import SigningKey, keyring

    runner = app.test_cli_runner()
    assert "nothing made" in runner.invoke(args=["keys", "rotate", "--if-none"]).output
    assert "kid 2" in runner.invoke(args=["keys", "rotate"]).output
    listing = runner.invoke(args=["keys", "list"]).output
    assert "kid   1  active" in listing and "kid   2  active" in listing
    stored = session.get(SigningKey, 2)
    assert stored.private_key.startswith("gAAAA")  # a Fernet token: the private key is encrypted at rest
    assert runner.invoke(args=["keys", "retire", "1"]).exit_code == 0
    with app.app_context():
        assert list(keyring().public_keys()) == [2]
    refused = runner.invoke(args=["keys", "retire", "2"])
    assert refused.exit_code != 0 and "唯一" in refused.output
    assert runner.invoke(args=["keys", "retire", "9"]).exit_code != 0


def test_events_check_and_remind(app, session):
    from backend.events.models import Event
    from tests.factories import make_event

    runner = app.test_cli_runner()
    event = make_event()
    session.commit()
    assert "seats ok" in runner.invoke(args=["events", "check"]).output
    session.get(Event, event.id).seats_taken = 1  # a counter that disagrees with the rows
    session.commit()
    broken = runner.invoke(args=["events", "check"])
    assert broken.exit_code != 0 and f"event {event.id}: seats_taken 1 but 0 registered" in broken.output
    reminded = runner.invoke(args=["events", "remind"])
    assert reminded.exit_code == 0 and "已提醒" in reminded.output


def test_seed_demo_fills_every_admin_area_and_keeps_the_books(app, session):
    """What a newcomer's administrator finds: visits over the last 60 days at every place, statements in
    each state, providers under review and on notice, a person with two roles, a district
    administrator; and the voucher ledger still checks out (`flask vouchers check`)."""
    from backend.accounts.models import RoleGrant
    from backend.checkins.models import Visit
    from backend.vouchers.models import Provider, SettlementStatement

    runner = app.test_cli_runner()
    bare = runner.invoke(args=["seed-demo", "--no-history"])
    assert bare.exit_code == 0, bare.output
    assert session.scalar(sa.select(sa.func.count()).select_from(Visit)) == 0
    assert session.scalar(sa.select(sa.func.count()).select_from(SettlementStatement)) == 0
    full = runner.invoke(args=["seed-demo"])
    assert full.exit_code == 0, full.output
    days, places = session.execute(sa.select(sa.func.count(sa.distinct(Visit.day)),
                                             sa.func.count(sa.distinct(Visit.place_id)))).one()
    assert days >= 50 and places == 5
    states = session.scalars(sa.select(SettlementStatement.state)).all()
    assert sorted(s.value for s in states) == ["approved", "paid", "rejected", "submitted"]
    assert sorted(p.value for p in session.scalars(sa.select(Provider.status))).count("pending") == 2
    both = service.find_by_phone(phone="19900000007")
    assert sorted(both.roles) == ["organiser", "station_staff"]
    district = service.find_by_phone(phone="19900000006")
    assert [g.region_code for g in district.grants] == ["370811"]
    assert session.scalar(sa.select(RoleGrant.region_code).where(
        RoleGrant.user_id == service.find_by_phone(phone="19900000005").id)) == "370000"
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0 and session.scalar(sa.select(sa.func.count()).select_from(SettlementStatement)) == 4
    check = runner.invoke(args=["vouchers", "check"])
    assert check.exit_code == 0, check.output
