"""The models and the migrations agree: after `upgrade` on an empty database, autogenerate
finds nothing to do.  Runs on SQLite and on PostgreSQL like the rest of the suite."""
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from backend.core.db import NAMING_CONVENTION
from backend.extensions import db


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
