"""No pool_pre_ping: a pooled PostgreSQL connection is checked by the BEGIN its transaction sends
anyway, sent at checkout (backend/core/ops.py); one a restart killed is replaced before use."""
import psycopg
import sqlalchemy as sa
from psycopg import pq

from backend.config import normalise_db_url
from backend.core import ops
from tests.conftest import PG_ADMIN_URL

PID = sa.text("SELECT pg_backend_pid()")


def test_a_pooled_connection_is_checked_by_its_begin_and_replaced_when_dead(monkeypatch):
    engine = sa.create_engine(normalise_db_url(PG_ADMIN_URL), pool_size=1, max_overflow=0)
    ops._begin_at_checkout(engine)
    pings = []
    monkeypatch.setattr(engine.dialect, "do_ping", lambda connection: pings.append(connection) or True)
    try:
        with engine.connect() as conn:  # a new connection: nothing to check
            pid = conn.execute(PID).scalar()
        with engine.connect() as conn:  # the pooled one: its BEGIN went out at checkout
            dbapi = conn.connection.dbapi_connection
            assert dbapi.pgconn.transaction_status == pq.TransactionStatus.INTRANS
            assert conn.execute(PID).scalar() == pid
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:  # what a restart does to it
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            while admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone():
                pass  # until the server has let it go (polled, no sleep)
        with engine.connect() as conn:  # its BEGIN failed: thrown away, a fresh one given instead
            assert conn.execute(PID).scalar() != pid
        assert pings == []  # never a SELECT 1 round trip
    finally:
        engine.dispose()
