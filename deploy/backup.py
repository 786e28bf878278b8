"""Backups with pg_dump, and the drill that proves one restores.

    python deploy/backup.py dump [FILE]             # pg_dump -Fc of DATABASE_URL (default backups/cyql-<UTC time>.dump)
    python deploy/backup.py restore FILE NEW_DB     # restore into a new database, then check it
    python deploy/backup.py drill                   # dump, restore into a throwaway database, check, compare, drop

A restored copy is checked the way an operator would: ``flask vouchers check`` (every balance equals its
ledger, no batch over its caps) and ``flask events check`` (seats taken equal registrations) pass on it,
and in the drill every table has as many rows as in the source. ``./dev.sh backup`` and ``./dev.sh
restore`` run the first two.

The dump is custom format (compressed, restorable table by table with pg_restore); it holds personal
data encrypted as the database holds it, but keep the file as you keep the database (the PII key is
not in it: without it phone and ID numbers stay unreadable).
"""
from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cyql"


def plain(url: str) -> str:
    """libpq's form of a SQLAlchemy URL."""
    return url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")


def with_database(url: str, name: str) -> str:
    base, _, rest = plain(url).rpartition("/")
    query = "?" + rest.split("?", 1)[1] if "?" in rest else ""
    return f"{base}/{name}{query}"


def dump(url: str, path: Path | None = None) -> Path:
    path = path or ROOT / "backups" / f"cyql-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%SZ}.dump"
    path.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(["pg_dump", "--format=custom", "--no-owner", "--no-privileges", f"--file={path}",
                    f"--dbname={plain(url)}"], check=True)
    return path


def restore(path: Path, url: str, new_db: str) -> str:
    """Create ``new_db`` (refusing one that exists) and restore the dump into it; returns its URL."""
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (new_db,)).fetchone():
            raise SystemExit(f"database {new_db} exists: restore into a new one")
        conn.execute(f'CREATE DATABASE "{new_db}"')
    target = with_database(url, new_db)
    subprocess.run(["pg_restore", "--no-owner", "--no-privileges", "--exit-on-error", "--single-transaction",
                    f"--dbname={target}", str(path)], check=True)
    return target


def row_counts(url: str) -> dict[str, int]:
    import psycopg
    from psycopg import sql

    with psycopg.connect(plain(url)) as conn:
        tables = [row[0] for row in conn.execute(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")]
        return {table: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]
                for table in tables}


def checks(url: str) -> list[str]:
    """Run the app's own invariant commands on a database; returns what failed."""
    env = {**os.environ, "FLASK_APP": "backend", "DATABASE_URL": url}
    failed = []
    for command in (["vouchers", "check"], ["events", "check"]):
        result = subprocess.run([sys.executable, "-m", "flask", *command], env=env, cwd=ROOT, capture_output=True,
                                text=True)
        print(f"flask {' '.join(command)}: {result.stdout.strip() or result.stderr.strip()[-500:]}")
        if result.returncode:
            failed.append(" ".join(command))
    return failed


def drop(url: str, name: str) -> None:
    import psycopg

    with psycopg.connect(with_database(url, "postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drill(url: str, folder: Path) -> list[str]:
    """Dump, restore into a throwaway database, check it and compare every table's row count; returns
    the problems (none: the backup restores)."""
    path = dump(url, folder / "drill.dump")
    name = f"cyql_restore_{uuid.uuid4().hex[:8]}"
    try:
        restored = restore(path, url, name)
        problems = [f"flask {c} failed on the restored copy" for c in checks(restored)]
        source, copy = row_counts(url), row_counts(restored)
        problems += [f"{table}: {source.get(table)} rows in the source, {copy.get(table)} restored"
                     for table in sorted(set(source) | set(copy)) if source.get(table) != copy.get(table)]
        print(f"{len(copy)} tables, {sum(copy.values())} rows restored from {path} ({path.stat().st_size:,} bytes)")
        return problems
    finally:
        drop(url, name)


def main(argv: list[str]) -> int:
    url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not argv or argv[0] not in {"dump", "restore", "drill"}:
        print(__doc__, file=sys.stderr)
        return 2
    if argv[0] == "dump":
        path = dump(url, Path(argv[1]) if len(argv) > 1 else None)
        print(f"备份完成 / backup written: {path} ({path.stat().st_size:,} bytes)")
        return 0
    if argv[0] == "restore":
        if len(argv) != 3:
            print("usage: restore FILE NEW_DB", file=sys.stderr)
            return 2
        restored = restore(Path(argv[1]), url, argv[2])
        failed = checks(restored)
        counts = row_counts(restored)
        print(f"restored {sum(counts.values())} rows in {len(counts)} tables into {argv[2]}")
        if failed:
            print("检查未通过 / checks FAILED: " + ", ".join(failed), file=sys.stderr)
            return 1
        print(f"恢复完成，检查通过 / restored and checked: DATABASE_URL={restored}")
        return 0
    problems = drill(url, ROOT / "backups")
    for line in problems:
        print("PROBLEM", line)
    print("恢复演练通过 / restore drill ok" if not problems else "恢复演练失败 / restore drill FAILED")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
