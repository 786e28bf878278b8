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
