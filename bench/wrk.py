"""Shared by the wrk benchmarks (issue 16): the app with production settings, its ceilings, wrk runs
with server CPU per request, and interleaved A/B rounds.

    with Bench("redeem") as bench:                   # a fresh database, migrated, production settings
        with bench.app_context(): ...                 # prepare data in this process (same secrets)
        ceiling = bench.ceiling("bench.bare_app:create()")   # a second gunicorn, same shape
        rounds = bench.interleave({"app": Target(bench.url, lines, bench.app_pids),
                                   "bare": Target(ceiling.url, bare_lines, ceiling.pids)})
        rate, low, high = spread([r.rate for r in rounds["app"]])

The app runs as production runs it (deploy/serve.py's gunicorn command and settings, APP_ENV=production
with real secrets, rate limiting on and stored in Redis, Prometheus multiprocess metrics), one app server of
2 workers × 4 threads, its port hit directly. Load: Debian's wrk, 2 threads × 16 connections, on loopback,
every request a unique line of a prepared file (bench/unique.lua), a discarded warm-up, then a fixed
measured duration. CPU per request: utime + stime from /proc of the gunicorn master and workers and of the
PostgreSQL client backends of the bench's database (wrk's own CPU is printed apart)."""
from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402

from bench.harness import PG_ADMIN_URL, gunicorn  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
LUA = ROOT / "bench" / "unique.lua"
WRK_THREADS = 2

# pretix 2026.8.0 on this kind of machine (issue 16): gunicorn 2 sync workers, local PostgreSQL, wrk 16
# connections, median of 3 passes on one day
PRETIX = {"checkin": 46, "giftcard": 134, "order": 19}


def cpu_seconds(pids) -> dict[int, float]:
    found = {}
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            found[pid] = (int(fields[11]) + int(fields[12])) / TICK  # utime + stime
        except (FileNotFoundError, ProcessLookupError, IndexError):
            continue
    return found


def group_pids(leader: int) -> list[int]:
    """A process and everything in its process group (gunicorn's master and workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if os.getpgid(int(entry.name)) == leader:
                    found.append(int(entry.name))
            except (ProcessLookupError, PermissionError):
                continue
    return found


@dataclass
class Run:
    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    ok: int
    conflict: int
    other: int
    socket_errors: int
    wrapped: int
    furthest: int
    cpu: dict = field(default_factory=dict)  # group → CPU seconds during the run

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def cpu_ms(self, *groups: str) -> float:
        """CPU milliseconds per request of the named groups (all server groups when none named)."""
        names = groups or [name for name in self.cpu if name != "wrk"]
        return sum(self.cpu.get(name, 0.0) for name in names) * 1000 / max(self.requests, 1)


@dataclass
class Target:
    """What one variant of a comparison drives: a URL, its prepared lines, and the pids whose CPU counts
    (called at each run, as gunicorn may have restarted a worker)."""
    url: str
    lines: list
    pids: Callable[[], dict[str, list[int]]]
    cursor: int = 0
    runs: list = field(default_factory=list)

    def take(self) -> list:
        return self.lines[self.cursor:]


def line(method: str, path: str, body: dict | str | None = None, *headers: str) -> str:
    """One prepared request: METHOD \\t PATH \\t BODY \\t HEADER… (JSON bodies carry no tab or newline)."""
    text = "" if body is None else body if isinstance(body, str) else json.dumps(body, separators=(",", ":"))
    return "\t".join([method, path, text, *headers])


_children = [0.0]


def _children_cpu() -> float:
    times = os.times()
    total = times.children_user + times.children_system
    delta, _children[0] = total - _children[0], total
    return delta


def wrk(url: str, lines: list, seconds: float, pids: Callable[[], dict[str, list[int]]],
        connections: int = 16) -> Run:
    with tempfile.NamedTemporaryFile("w", suffix=".tsv", delete=False) as f:
        f.write("\n".join(lines) + "\n")
    groups = pids()
    before = {name: cpu_seconds(p) for name, p in groups.items()}
    _children_cpu()
    proc = subprocess.run(["wrk", f"-t{WRK_THREADS}", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--timeout", "10s",
                           "-s", str(LUA), url, "--", f.name, str(WRK_THREADS)],
                          capture_output=True, text=True, timeout=seconds + 120)
    after = {name: cpu_seconds(p) for name, p in groups.items()}
    wrk_cpu = _children_cpu()
    os.unlink(f.name)
    found = [row for row in proc.stdout.splitlines() if row.startswith("RESULT ")]
    if not found:
        raise RuntimeError(f"wrk printed no result:\n{proc.stdout}\n{proc.stderr}")
    r = json.loads(found[0][len("RESULT "):])
    cpu = {name: sum(after[name].get(pid, t) - t for pid, t in before[name].items()) for name in groups}
    cpu["wrk"] = wrk_cpu
    return Run(requests=r["requests"], seconds=r["duration_us"] / 1e6, p50_ms=r["p50_us"] / 1000,
               p99_ms=r["p99_us"] / 1000, ok=r["ok"], conflict=r["conflict"], other=r["other"],
               socket_errors=r["socket_errors"], wrapped=r["wrapped"], furthest=r["furthest"], cpu=cpu)


def spread(values: list[float]) -> tuple[float, float, float]:
    """(median, lowest, highest)."""
    return statistics.median(values), min(values), max(values)


def pg_backends(database: str) -> list[int]:
    """The database's client backends (the app's and the ceilings' connections). Autovacuum workers are
    left out: they clean up after whichever run wrote before, so their CPU landed on the wrong run."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        return [row[0] for row in conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s "
                                               "AND backend_type = 'client backend'", (database,))]


class Ceiling:
    def __init__(self, url: str, pids: Callable[[], dict[str, list[int]]]):
        self.url, self.pids = url, pids


class Bench:
    """A throwaway database, the app on it as production runs it, and what the benchmark compares."""

    def __init__(self, name: str, workers: int = 2, threads: int = 4, seconds: float = 10, warmup: float = 3,
                 rounds: int = 3, connections: int = 16):
        self.name, self.workers, self.threads = name, workers, threads
        self.seconds, self.warmup, self.rounds, self.connections = seconds, warmup, rounds, connections
        self.database = f"cyql_{name}_{uuid.uuid4().hex[:8]}"
        self._stack = None
        self._exit = contextlib.ExitStack()

    # --- setting up ------------------------------------------------------------------------------
    def __enter__(self) -> "Bench":
        if not shutil.which("wrk"):
            raise SystemExit("wrk is not installed: apt-get install wrk (Debian)")
        from cryptography.fernet import Fernet

        from deploy.serve import Stack

        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.database}"')
        self._exit.callback(self._drop)
        self.database_url = PG_ADMIN_URL.rsplit("/", 1)[0] + "/" + self.database
        run = Path(tempfile.mkdtemp(prefix=f"cyql-{self.name}-"))
        if os.geteuid() == 0:
            run.chmod(0o711)
        self._exit.callback(shutil.rmtree, run, True)
        self.secrets = {"SECRET_KEY": secrets.token_urlsafe(48), "JWT_SECRET_KEY": secrets.token_urlsafe(48),
                        "PII_KEY": Fernet.generate_key().decode(), "PII_HASH_KEY": secrets.token_urlsafe(48),
                        "KEY_ENCRYPTION_KEY": Fernet.generate_key().decode()}
        redis = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
        env = {**self.secrets, "RATELIMIT_ENABLED": "true", "PUBLIC_BASE_URL": "http://127.0.0.1"}
        self._stack = Stack(run_dir=run, database_url=self.database_url, redis_url=redis, servers=1,
                            workers=self.workers, threads=self.threads, scheduler=False, env=env, production=True)
        self._exit.enter_context(self._stack)
        self.env = {**self._stack.base_env(), "INSTANCE_PATH": str(run / "cli")}
        self.url = f"http://127.0.0.1:{self._stack.ports[0]}"
        return self

    def __exit__(self, *exc):
        self._exit.close()

    def _drop(self):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{self.database}" WITH (FORCE)')

    @contextlib.contextmanager
    def app_context(self):
        """The app in this process on the bench's database, with the served app's secrets and keys."""
        os.environ.update({k: v for k, v in self.env.items() if k in self.secrets or k in
                           ("DATABASE_URL", "INSTANCE_PATH", "APP_ENV", "REDIS_URL", "PUBLIC_BASE_URL")})
        from backend import create_app
        from backend.extensions import db

        app = create_app({"RATELIMIT_ENABLED": False})
        with app.app_context():
            yield app
            db.session.remove()
            db.engine.dispose()

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return self._stack.flask(*args, check=check)

    def app_pids(self) -> dict[str, list[int]]:
        return {"app": self._stack.servers[0].pids(), "postgres": pg_backends(self.database)}

    def ceiling(self, spec: str, probe: str = "/") -> Ceiling:
        """Another WSGI app (a ceiling) under gunicorn with the same workers × threads, on the same database."""
        env = {**self.env, "DATABASE_URL": self.database_url}
        url = self._exit.enter_context(gunicorn(spec, env, self.workers, self.threads, probe=probe))
        port = int(url.rsplit(":", 1)[1])
        return Ceiling(url, lambda: {"app": _listening_group(port), "postgres": pg_backends(self.database)})

    # --- measuring -------------------------------------------------------------------------------
    def run(self, target: Target, seconds: float) -> Run:
        result = wrk(target.url, target.take(), seconds, target.pids, self.connections)
        target.cursor += result.furthest * WRK_THREADS
        return result

    def interleave(self, targets: dict[str, Target], rounds: int | None = None) -> dict[str, list[Run]]:
        """A discarded warm-up of each, then ``rounds`` rounds of each in turn (A, B, …, A, B, …)."""
        for target in targets.values():
            self.run(target, self.warmup)
        found = {name: [] for name in targets}
        for round_ in range(rounds or self.rounds):
            for name, target in targets.items():
                result = self.run(target, self.seconds)
                found[name].append(result)
                target.runs.append(result)
                print(row(f"{name} #{round_ + 1}", result), flush=True)
        return found


def _listening_group(port: int) -> list[int]:
    """The gunicorn process group listening on ``port`` (found through /proc/net/tcp's socket inodes)."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(FileNotFoundError):
            for entry in Path(table).read_text().splitlines()[1:]:
                parts = entry.split()
                if parts[3] == "0A" and int(parts[1].rsplit(":", 1)[1], 16) == port:
                    inodes.add(parts[9])
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            for fd in (entry / "fd").iterdir():
                target = os.readlink(fd)
                if target.startswith("socket:[") and target[8:-1] in inodes:
                    return group_pids(os.getpgid(int(entry.name)))
    return []


def row(label: str, run: Run) -> str:
    cpu = " ".join(f"{name} {seconds * 1000 / max(run.requests, 1):.2f}" for name, seconds in run.cpu.items())
    return (f"{label:<14} {run.rate:8,.0f} req/s  p50 {run.p50_ms:6.1f} ms  p99 {run.p99_ms:6.1f} ms  "
            f"n={run.requests:<6} 2xx={run.ok} 409={run.conflict} other={run.other} "
            f"errors={run.socket_errors} wraps={run.wrapped}  cpu ms/req: {cpu}")


def median_of(runs: list[Run], attr: str = "rate") -> float:
    return statistics.median(getattr(r, attr) if attr != "cpu" else r.cpu_ms() for r in runs)


def ratios(a: list[Run], b: list[Run]) -> tuple[float, float, float]:
    """Per-round ratio of a's rate to b's (each pair measured back to back), as (median, low, high)."""
    return spread([x.rate / y.rate for x, y in zip(a, b)])


def describe(name: str, runs: list[Run]) -> str:
    rate, low, high = spread([r.rate for r in runs])
    p99 = statistics.median(r.p99_ms for r in runs)
    cpu = statistics.median(r.cpu_ms() for r in runs)
    return f"{name}: median {rate:,.0f} req/s ({low:,.0f}–{high:,.0f}), p99 {p99:.0f} ms, server cpu {cpu:.2f} ms/req"


def token_header(token: str) -> str:
    return f"Authorization: Bearer {token}"
