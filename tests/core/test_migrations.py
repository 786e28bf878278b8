"""The models and the migrations agree: after `upgrade` on an empty database, autogenerate
finds nothing to do.  Runs on SQLite and on PostgreSQL like the rest of the suite."""
import uuid
from datetime import datetime, timezone
from types import SimpleNamespace

import flask_migrate
import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.core.db import NAMING_CONVENTION
from backend.extensions import db
from tests.conftest import PG_ADMIN_URL


def test_models_match_migrations(app, session):
    connection = session.connection()
    context = MigrationContext.configure(connection, opts={"compare_type": True})
    diff = compare_metadata(context, db.metadata)
    assert diff == []


def test_migrations_are_at_head(app, session):
    from alembic.script import ScriptDirectory
    from flask_migrate import Config

    connection = session.connection()
    current = MigrationContext.configure(connection).get_current_heads()
    config = Config(app.extensions["migrate"].directory + "/alembic.ini")
    config.set_main_option("script_location", app.extensions["migrate"].directory)
    assert set(current) == set(ScriptDirectory.from_config(config).get_heads())


def test_constraints_follow_the_naming_convention(app, session):
    inspector = sa.inspect(session.connection())
    for table in db.metadata.sorted_tables:
        for fk in inspector.get_foreign_keys(table.name):
            if fk.get("name"):  # SQLite may not report names of inline FKs
                assert fk["name"].startswith("fk_"), fk
        for index in inspector.get_indexes(table.name):
            assert index["name"].startswith(("ix_", "uq_")), index
    assert NAMING_CONVENTION["pk"] == "pk_%(table_name)s"


@pytest.fixture
def scratch_engine(database_kind, tmp_path):
    """An empty database of the same kind, for migrating with rows in it."""
    from backend.config import normalise_db_url
    from backend.core.db import configure_sqlite

    if database_kind == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
        configure_sqlite(engine)  # foreign keys on, as the app runs
        yield engine
        engine.dispose()
        return
    name = f"cyql_migrate_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = sa.create_engine(normalise_db_url(f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"))
    yield engine
    engine.dispose()
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


BEFORE_BIGINT, BIGINT = "3a7e5c0de001", "b16a0c0de002"
ROWS = [
    ('INSERT INTO "user" (id, name, is_active, created_at, updated_at) VALUES (1, :name, :yes, :now, :now)', {}),
    ("INSERT INTO voucher_batch (id, name, description, district, face_value, per_person_limit, claim_starts_at, "
     "claim_ends_at, categories, co_pay_ratio_bp, min_bill, eligibility, mode, state, issued_count, issued_amount, "
     "returned_amount, created_at, updated_at) VALUES (1, :name, '', '370811', 50000, 1, :now, :now, '[\"rent\"]', "
     "10000, 0, '{}', 'claim', 'active', 1, 50000, 0, :now, :now)", {}),
    ("INSERT INTO voucher (id, batch_id, holder_id, face_value, balance, claimed_at, valid_from, valid_until) "
     "VALUES (1, 1, 1, 50000, 50000, :now, :now, :now)", {}),
    ("INSERT INTO voucher_ledger (id, voucher_id, kind, amount, balance_after, created_at) "
     "VALUES (1, 1, 'issue', 50000, 50000, :now)", {}),
]


def test_amounts_become_bigint_keeping_rows_constraints_and_foreign_keys(app, scratch_engine, monkeypatch):
    """SQLite rebuilds each table: with foreign keys enforced, dropping a referenced table would delete
    through them (migrations/env.py turns enforcement off for the migration and checks it after)."""
    import flask_migrate

    from backend.core.db import UTCDateTime

    monkeypatch.setattr(app.extensions["migrate"], "db", SimpleNamespace(engine=scratch_engine, metadata=db.metadata))
    params = {"name": "迁移测试", "yes": True, "now": datetime.now(timezone.utc)}
    typed = [sa.bindparam("now", type_=UTCDateTime)]
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE_BIGINT)
        with scratch_engine.begin() as conn:
            for sql, _ in ROWS:
                statement = sa.text(sql)
                conn.execute(statement.bindparams(*[p for p in typed if f":{p.key}" in sql]),
                             {k: v for k, v in params.items() if f":{k}" in sql})
        flask_migrate.upgrade(revision=BIGINT)
        with scratch_engine.begin() as conn:
            conn.execute(sa.text("UPDATE voucher_batch SET budget = 5000000000"))  # ¥50 M
            assert conn.execute(sa.text("SELECT budget FROM voucher_batch")).scalar() == 5_000_000_000
            assert conn.execute(sa.text("SELECT count(*) FROM voucher_ledger")).scalar() == 1
            columns = {c["name"]: c["type"] for c in sa.inspect(conn).get_columns("voucher")}
            assert isinstance(columns["balance"], sa.BigInteger)
        with pytest.raises(sa.exc.IntegrityError):  # the named CHECK constraints came along
            with scratch_engine.begin() as conn:
                conn.execute(sa.text("UPDATE voucher SET balance = face_value + 1"))
        if scratch_engine.dialect.name == "sqlite":
            with scratch_engine.connect() as conn:
                assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        with scratch_engine.begin() as conn:
            conn.execute(sa.text("UPDATE voucher_batch SET budget = NULL"))
        flask_migrate.downgrade(revision=BEFORE_BIGINT)
        with scratch_engine.connect() as conn:
            assert conn.execute(sa.text("SELECT count(*) FROM voucher_ledger")).scalar() == 1


LEDGER_GUARDED = "d4e1c0de0003"


def _migrate_with_rows(app, scratch_engine, monkeypatch, extra=()):
    from backend.core.db import UTCDateTime

    monkeypatch.setattr(app.extensions["migrate"], "db", SimpleNamespace(engine=scratch_engine, metadata=db.metadata))
    params = {"name": "迁移测试", "yes": True, "now": datetime.now(timezone.utc)}
    typed = [sa.bindparam("now", type_=UTCDateTime)]
    flask_migrate.upgrade(revision=BIGINT)
    with scratch_engine.begin() as conn:
        for sql, _ in [*ROWS, *extra]:
            statement = sa.text(sql)
            conn.execute(statement.bindparams(*[p for p in typed if f":{p.key}" in sql]),
                         {k: v for k, v in params.items() if f":{k}" in sql})


def test_ledger_becomes_append_only_keeping_rows(app, scratch_engine, monkeypatch):
    with app.app_context():
        _migrate_with_rows(app, scratch_engine, monkeypatch)
        flask_migrate.upgrade(revision=LEDGER_GUARDED)
        for statement in ("UPDATE voucher_ledger SET amount = 1", "DELETE FROM voucher_ledger"):
            with pytest.raises(sa.exc.DBAPIError, match="append-only"):
                with scratch_engine.begin() as conn:
                    conn.execute(sa.text(statement))
        with pytest.raises(sa.exc.IntegrityError):
            with scratch_engine.begin() as conn:
                conn.execute(sa.text("UPDATE voucher_batch SET returned_amount = -1"))
        with scratch_engine.begin() as conn:
            assert conn.execute(sa.text("SELECT amount, balance_after FROM voucher_ledger")).one() == (50000, 50000)
        flask_migrate.downgrade(revision=BIGINT)
        with scratch_engine.begin() as conn:  # the guard goes with the migration, the rows stay
            conn.execute(sa.text("UPDATE voucher_batch SET returned_amount = 0"))
            assert conn.execute(sa.text("SELECT count(*) FROM voucher_ledger")).scalar() == 1


def test_rows_that_break_a_new_constraint_stop_the_migration_with_the_reason(app, scratch_engine, monkeypatch,
                                                                             capfd):
    with app.app_context():
        _migrate_with_rows(app, scratch_engine, monkeypatch, extra=[
            ("INSERT INTO voucher_ledger (id, voucher_id, kind, amount, balance_after, created_at) "
             "VALUES (2, 1, 'redeem', 100, 50000, :now)", {})])
        with pytest.raises(SystemExit):  # flask_migrate logs the error and exits
            flask_migrate.upgrade(revision=LEDGER_GUARDED)
        assert "voucher_ledger: 1 row(s) break ck_voucher_ledger_amount_sign" in capfd.readouterr().err
        with scratch_engine.begin() as conn:  # nothing half-done: still at the revision before
            assert conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar() == BIGINT
