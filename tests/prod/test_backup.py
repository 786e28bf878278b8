"""The restore drill, as ``./dev.sh backup`` and ``./dev.sh restore`` run it: pg_dump a database full of
the demo's history (vouchers spent and settled, events with seats, visits), restore it into a new
database, and the app's own checks pass on the copy (``flask vouchers check``, ``flask events check``)
with every table's rows all there."""
from __future__ import annotations

import os
import subprocess
import sys
import uuid

import psycopg
import pytest

from deploy import backup
from tests.conftest import PG_ADMIN_URL, TEST_SECRETS
from tests.prod.conftest import ROOT


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("backup-source")
    name = f"cyql_backup_{uuid.uuid4().hex[:8]}"
    url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, **TEST_SECRETS, "FLASK_APP": "backend", "DATABASE_URL": url,
           "INSTANCE_PATH": str(tmp_path / "instance")}
    env.pop("APP_ENV", None)
    for command in (["db", "upgrade"], ["seed-demo", "--history"]):
        subprocess.run([sys.executable, "-m", "flask", *command], env=env, cwd=ROOT, check=True, capture_output=True)
    yield url, env
    backup.drop(url, name)


def test_a_backup_restores_into_a_new_database_and_passes_the_checks(source, tmp_path):
    url, env = source
    file = tmp_path / "cyql.dump"
    script = [sys.executable, str(ROOT / "deploy" / "backup.py")]
    dumped = subprocess.run([*script, "dump", str(file)], env=env, cwd=ROOT, capture_output=True, text=True)
    assert dumped.returncode == 0, dumped.stderr
    assert file.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    new_db = f"cyql_restored_{uuid.uuid4().hex[:8]}"
    try:
        restored = subprocess.run([*script, "restore", str(file), new_db], env=env, cwd=ROOT, capture_output=True,
                                  text=True)
        assert restored.returncode == 0, restored.stdout + restored.stderr
        assert "账目一致 / ledger ok" in restored.stdout and "名额一致 / seats ok" in restored.stdout
        source_counts, copy = backup.row_counts(url), backup.row_counts(backup.with_database(url, new_db))
        assert copy == source_counts
        for table in ("voucher", "voucher_ledger", "redemption", "settlement_statement", "registration", "visit",
                      "notification", "alembic_version"):
            assert copy[table] > 0, table
        assert sum(copy.values()) > 500
        # a restore never writes over a database that exists
        again = subprocess.run([*script, "restore", str(file), new_db], env=env, cwd=ROOT, capture_output=True,
                               text=True)
        assert again.returncode != 0 and "exists" in again.stdout + again.stderr
    finally:
        backup.drop(url, new_db)


def test_the_drill_catches_a_copy_that_differs(source, tmp_path, monkeypatch):
    """The drill compares the copy with the source: a row deleted from the source after the dump shows up.
    (Runs after the restore test: it changes the module's source database.)"""
    url, env = source
    real_dump = backup.dump

    def dump_then_write(db_url, path=None):
        written = real_dump(db_url, path)
        with psycopg.connect(backup.plain(db_url)) as conn:
            conn.execute("DELETE FROM notification WHERE id = (SELECT min(id) FROM notification)")
        return written

    monkeypatch.setattr(backup, "dump", dump_then_write)
    monkeypatch.setattr(os, "environ", {**os.environ, **{k: v for k, v in env.items() if k != "DATABASE_URL"}})
    problems = backup.drill(url, tmp_path)
    assert [p for p in problems if p.startswith("notification:")], problems
