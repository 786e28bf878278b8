"""The production stack on one Debian machine: nginx in front, two (or more) gunicorn app servers
on PostgreSQL, Redis for rate limits and shared caches, and the scheduler process.

    python deploy/serve.py            # what ./dev.sh serve runs after installing and building

Settings (environment):
    DATABASE_URL    PostgreSQL (default postgresql://postgres@127.0.0.1:5432/cyql, created if absent)
    REDIS_URL       default redis://127.0.0.1:6379/0; if nothing answers there a private redis-server
                    is started on a free port inside the run folder
    HTTP_PORT       nginx's port (default 8080; 443-style TLS when TLS_CERT and TLS_KEY are set)
    TLS_CERT, TLS_KEY   certificate and key paths; unset: plain HTTP on HTTP_PORT
    SERVER_NAME     nginx server_name (default _)
    APP_SERVERS     how many gunicorn app servers (default 2), each with GUNICORN_WORKERS workers
                    (default 2) of GUNICORN_THREADS threads (default 4)
    RUN_DIR         where configs, logs and each server's instance folder live (default ./run)
    APP_ENV         production: refuses to start unless SECRET_KEY, JWT_SECRET_KEY, PII_KEY,
                    PII_HASH_KEY and KEY_ENCRYPTION_KEY are set (and logs JSON lines); development: generates them once into RUN_DIR (with a warning)
                    and loads the demo data

Each app server gets its own INSTANCE_PATH (nothing one writes there is needed by another), its own
port and its own Prometheus multiprocess folder. The supervisor restarts an app server or the
scheduler that dies; Ctrl-C (or SIGTERM) stops everything.

``Stack`` is also what tests/prod and bench/stack.py start.
"""
from __future__ import annotations

import json
import os
import secrets as _secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = Path(__file__).resolve().parent / "nginx.conf.template"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/cyql"
SECRET_NAMES = ("SECRET_KEY", "JWT_SECRET_KEY", "PII_KEY", "PII_HASH_KEY")
# production needs this one too (it encrypts the signing keys in the database); development falls back
# to PII_KEY, which every server shares
PRODUCTION_ONLY = ("KEY_ENCRYPTION_KEY",)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Died(RuntimeError):
    """A process we wait for exited instead."""


def wait_until(check, timeout: float, what: str, interval: float = 0.05):
    """Poll ``check()`` until it returns something truthy; raise with ``what`` at the deadline."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            result = check()
            if result:
                return result
        except Died:
            raise
        except Exception as error:  # noqa: BLE001 - not up yet; keep the reason for the message
            last = error
        time.sleep(interval)
    raise TimeoutError(f"{what} not ready after {timeout:.0f}s" + (f": {last}" if last else ""))


def http_status(url: str, timeout: float = 2.0) -> int:
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def redis_answers(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    try:
        with socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 6379), timeout=1) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def ensure_database(url: str) -> None:
    """CREATE DATABASE when the server answers but the database is absent."""
    import psycopg

    plain = url.replace("postgresql+psycopg://", "postgresql://").replace("postgres://", "postgresql://")
    base, name = plain.rsplit("/", 1)
    name = name.split("?")[0]
    try:
        psycopg.connect(plain, connect_timeout=3).close()
        return
    except psycopg.OperationalError as error:
        if "does not exist" not in str(error):
            raise
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=3) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    print(f"created database {name}")


def secrets_env(run_dir: Path, production: bool, environ: dict | None = None) -> dict:
    """Real secrets from the environment; in development, generated once and kept in the run folder so
    every server (and every restart) signs with the same ones."""
    environ = os.environ if environ is None else environ
    given = {name: environ[name] for name in SECRET_NAMES + PRODUCTION_ONLY if environ.get(name)}
    missing = [name for name in SECRET_NAMES + (PRODUCTION_ONLY if production else ()) if name not in given]
    if not missing:
        return given
    if production:
        raise SystemExit(f"APP_ENV=production: set {', '.join(missing)} in the environment (refusing to start)")
    from cryptography.fernet import Fernet

    path = run_dir / "dev-secrets.json"
    stored = json.loads(path.read_text()) if path.exists() else {}
    makers = {"PII_KEY": lambda: Fernet.generate_key().decode()}
    for name in missing:
        stored.setdefault(name, makers.get(name, lambda: _secrets.token_urlsafe(48))())
    path.write_text(json.dumps(stored))
    path.chmod(0o600)
    print(f"WARNING: development secrets generated in {path}; never use them in production "
          "(APP_ENV=production refuses to start without real ones)", file=sys.stderr)
    return {**stored, **given}


class Process:
    """One supervised child in its own process group (so a kill reaches its workers too)."""

    def __init__(self, name: str, argv: list[str], env: dict, log: Path):
        self.name, self.argv, self.env, self.log = name, argv, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        out = open(self.log, "ab")
        self.proc = subprocess.Popen(self.argv, env=self.env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        out.close()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                pass

    def stop(self, timeout: float = 20) -> None:
        if self.proc is None:
            return
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.proc.wait(5)
        try:  # workers left behind by a master killed with SIGKILL
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def kill(self) -> None:
        """SIGKILL the whole group: the server is gone at once, as when its machine dies."""
        self.signal(signal.SIGKILL)
        self.proc.wait(5)

    def pids(self) -> list[int]:
        """The master and its workers (for CPU accounting)."""
        if not self.alive():
            return []
        found = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    if os.getpgid(int(entry.name)) == self.proc.pid:
                        found.append(int(entry.name))
                except (ProcessLookupError, PermissionError):
                    continue
        return found


class Stack:
    def __init__(self, *, run_dir: Path, database_url: str, redis_url: str | None = None, servers: int = 2,
                 workers: int = 2, threads: int = 4, http_port: int | None = None, tls_cert: str = "",
                 tls_key: str = "", server_name: str = "_", static_dir: Path | None = None,
                 scheduler: bool | None = None, env: dict | None = None, client_timeout: int = 10,
                 app_timeout: int = 30, production: bool = False):
        self.run = Path(run_dir).resolve()
        self.database_url = database_url
        self.redis_url = redis_url
        self.servers_wanted, self.workers, self.threads = servers, workers, threads
        self.http_port = http_port or free_port()
        self.tls_cert, self.tls_key, self.server_name = tls_cert, tls_key, server_name
        self.static_dir = Path(static_dir or os.environ.get("STATIC_DIR") or ROOT / "static").resolve()
        self.scheduler_wanted = scheduler
        self.extra_env = env or {}
        self.client_timeout, self.app_timeout = client_timeout, app_timeout
        self.production = production
        self.servers: list[Process] = []
        self.ports: list[int] = []
        self.scheduler: Process | None = None
        self.redis: Process | None = None
        self.nginx: Process | None = None

    # --- settings every process shares -------------------------------------------------------
    @property
    def url(self) -> str:
        scheme = "https" if self.tls_cert else "http"
        return f"{scheme}://127.0.0.1:{self.http_port}"

    def base_env(self) -> dict:
        env = {**os.environ, "FLASK_APP": "backend", "DATABASE_URL": self.database_url, "PYTHONUNBUFFERED": "1",
               "STATIC_DIR": str(self.static_dir), "APP_ENV": "production" if self.production else
               os.environ.get("APP_ENV", "development")}
        if not hasattr(self, "_secrets"):
            self._secrets = secrets_env(self.run, self.production, {**os.environ, **self.extra_env})
        env.update(self._secrets)
        if self.redis_url:
            env.setdefault("REDIS_URL", self.redis_url)
            env.setdefault("RATELIMIT_STORAGE_URI", self.redis_url)
        env.update(self.extra_env)
        return env

    def flask(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        env = {**self.base_env(), "INSTANCE_PATH": str(self.run / "cli")}
        return subprocess.run([sys.executable, "-m", "flask", *args], env=env, cwd=ROOT, check=check,
                              capture_output=True, text=True)

    # --- the parts -----------------------------------------------------------------------------
    def _start_redis(self) -> None:
        if self.redis_url and redis_answers(self.redis_url):
            return
        port = free_port()
        folder = self.run / "redis"
        folder.mkdir(exist_ok=True)
        self.redis = Process("redis", ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                       "--appendonly", "no", "--dir", str(folder)],
                             dict(os.environ), self.run / "redis.log")
        self.redis.start()
        self.redis_url = f"redis://127.0.0.1:{port}/0"
        wait_until(lambda: redis_answers(self.redis_url), 10, "private redis-server")
        print(f"no Redis answered: started a private redis-server at {self.redis_url}")

    def _server(self, index: int) -> Process:
        port = self.ports[index]
        folder = self.run / f"server-{index + 1}"
        prom = folder / "prometheus"
        shutil.rmtree(prom, ignore_errors=True)
        prom.mkdir(parents=True)
        (folder / "instance").mkdir(exist_ok=True)
        env = {**self.base_env(), "INSTANCE_PATH": str(folder / "instance"), "PROMETHEUS_MULTIPROC_DIR": str(prom)}
        argv = [sys.executable, "-m", "gunicorn", "backend:create_app()", "--config", str(ROOT / "deploy" / "gunicorn.conf.py"),
                "--bind", f"127.0.0.1:{port}", "--workers", str(self.workers), "--threads", str(self.threads),
                "--timeout", str(self.app_timeout), "--graceful-timeout", "20", "--keep-alive", "5",
                "--limit-request-line", "8190", "--limit-request-fields", "100",
                "--limit-request-field_size", "8190", "--max-requests", "20000", "--max-requests-jitter", "2000",
                "--forwarded-allow-ips", "127.0.0.1", "--name", f"cyql-app-{index + 1}",
                "--log-level", "warning"]
        return Process(f"app-{index + 1}", argv, env, folder / "gunicorn.log")

    def start_server(self, index: int) -> None:
        self.servers[index] = self._server(index)
        self.servers[index].start()

    def wait_server(self, index: int, timeout: float = 60) -> None:
        url = f"http://127.0.0.1:{self.ports[index]}"
        wait_until(lambda: self.servers[index].alive() and http_status(url + self.probe) == 200 or
                   self._dead(self.servers[index]), timeout, f"app server {index + 1}")

    def _dead(self, process: Process) -> bool:
        if not process.alive():
            raise Died(f"{process.name} exited:\n" + process.log.read_text()[-3000:])
        return False

    @property
    def probe(self) -> str:
        """/readyz once the health endpoints exist (issue 14, H5); /api/meta before."""
        return getattr(self, "_probe", "/api/meta")

    def _has_cli(self, group: str) -> bool:
        return self.flask(group, "--help", check=False).returncode == 0

    def render_nginx(self, ports: list[int] | None = None, folder: Path | None = None,
                     http_port: int | None = None) -> Path:
        """nginx.conf in ``folder`` (run/nginx) for an upstream of ``ports`` (every app server)."""
        root = os.geteuid() == 0
        tls = bool(self.tls_cert and self.tls_key)
        folder = folder or self.run / "nginx"
        http_port = http_port or self.http_port
        values = {
            "RUN": str(folder),
            "USER_LINE": "user www-data;" if root else "",
            "STATIC": str(self.static_dir),
            "UPSTREAMS": "\n".join(f"        server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;"
                                   for port in (ports or self.ports)),
            "SERVER_NAME": self.server_name,
            "CLIENT_TIMEOUT": str(self.client_timeout),
            "APP_TIMEOUT": str(self.app_timeout + 5),
            "LISTEN": f"listen {'' if os.environ.get('LISTEN_ALL') else '127.0.0.1:'}{http_port}"
                      f"{' ssl http2' if tls else ''};",
            "TLS": (f"ssl_certificate {self.tls_cert};\n        ssl_certificate_key {self.tls_key};\n"
                    "        ssl_protocols TLSv1.2 TLSv1.3;\n        ssl_session_cache shared:SSL:10m;\n"
                    "        ssl_prefer_server_ciphers off;") if tls else "# plain HTTP: set TLS_CERT and TLS_KEY for TLS",
            "HTTP_REDIRECT": "",
        }
        text = TEMPLATE.read_text()
        for name, value in values.items():
            text = text.replace("{{" + name + "}}", value)
        for sub in ("tmp/body", "tmp/proxy", "tmp/fastcgi", "tmp/uwsgi", "tmp/scgi"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
            if root:
                shutil.chown(folder / sub, "www-data")
        headers = [
            "add_header Content-Security-Policy $csp always;",
            "add_header X-Content-Type-Options nosniff always;",
            "add_header X-Frame-Options DENY always;",
            "add_header Referrer-Policy strict-origin-when-cross-origin always;",
            'add_header Permissions-Policy "camera=(self), microphone=(), geolocation=(self), payment=()" always;',
        ] + (['add_header Strict-Transport-Security "max-age=31536000" always;'] if tls else [])
        (folder / "security-headers.conf").write_text("\n".join(headers) + "\n")
        conf = folder / "nginx.conf"
        conf.write_text(text)
        return conf

    def start(self, migrate: bool = True, seed: bool = False) -> "Stack":
        self.run.mkdir(parents=True, exist_ok=True)
        self._start_redis()
        if migrate:
            self.flask("db", "upgrade")
        if seed:
            self.flask("seed-demo", "--no-history")
        if self._has_route_readyz():
            self._probe = "/readyz"
        self.ports = [free_port() for _ in range(self.servers_wanted)]
        self.servers = [None] * self.servers_wanted  # type: ignore[list-item]
        for index in range(self.servers_wanted):
            self.start_server(index)
        for index in range(self.servers_wanted):
            self.wait_server(index)
        want_scheduler = self._has_cli("scheduler") if self.scheduler_wanted is None else self.scheduler_wanted
        if want_scheduler:
            folder = self.run / "scheduler"
            folder.mkdir(exist_ok=True)
            # its metrics (scheduler_job_runs_total, …) go to app server 1's multiprocess folder, so that
            # server's /metrics sums them with its workers' (the scheduler serves no HTTP of its own)
            self.scheduler = Process("scheduler", [sys.executable, "-m", "flask", "scheduler", "run"],
                                     {**self.base_env(), "INSTANCE_PATH": str(folder),
                                      "PROMETHEUS_MULTIPROC_DIR": str(self.run / "server-1" / "prometheus")},
                                     self.run / "scheduler.log")
            self.scheduler.start()
        self.nginx = self.start_nginx()
        return self

    def start_nginx(self, ports: list[int] | None = None, folder: Path | None = None,
                    http_port: int | None = None) -> Process:
        """An nginx in front of ``ports`` (default: every app server), answering once it is up."""
        folder = folder or self.run / "nginx"
        http_port = http_port or self.http_port
        conf = self.render_nginx(ports, folder, http_port)
        test = subprocess.run([NGINX, "-t", "-q", "-c", str(conf), "-p", str(folder)], capture_output=True, text=True)
        if test.returncode:
            raise RuntimeError("nginx configuration refused:\n" + test.stderr)
        nginx = Process("nginx", [NGINX, "-c", str(conf), "-p", str(folder)], dict(os.environ), folder / "nginx.out")
        nginx.start()
        url = f"{'https' if self.tls_cert else 'http'}://127.0.0.1:{http_port}"
        wait_until(lambda: http_status(url + "/api/meta") == 200 or self._dead(nginx), 20, "nginx")
        return nginx

    def _has_route_readyz(self) -> bool:
        out = self.flask("routes", check=False).stdout
        return "/readyz" in out

    def supervise_once(self) -> list[str]:
        """Restart what died (app servers, scheduler); nginx dying ends the stack."""
        events = []
        for index, server in enumerate(self.servers):
            if not server.alive():
                events.append(f"app server {index + 1} exited ({server.proc.returncode}); restarting")
                self.start_server(index)
        if self.scheduler and not self.scheduler.alive():
            events.append(f"scheduler exited ({self.scheduler.proc.returncode}); restarting")
            self.scheduler.start()
        if self.nginx and not self.nginx.alive():
            raise RuntimeError("nginx exited:\n" + (self.run / "nginx" / "nginx-error.log").read_text()[-2000:])
        return events

    def stop(self) -> None:
        for process in [self.nginx, self.scheduler, *self.servers, self.redis]:
            if process is not None:
                process.stop()

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()


def main() -> int:
    production = os.environ.get("APP_ENV", "development") == "production"
    run_dir = Path(os.environ.get("RUN_DIR") or ROOT / "run")
    run_dir.mkdir(parents=True, exist_ok=True)
    database_url = os.environ.get("DATABASE_URL") or DEFAULT_DB
    if not database_url.startswith(("postgresql", "postgres:")):
        raise SystemExit("./dev.sh serve runs on PostgreSQL: set DATABASE_URL=postgresql://…")
    ensure_database(database_url)
    stack = Stack(run_dir=run_dir, database_url=database_url,
                  redis_url=os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0"),
                  servers=int(os.environ.get("APP_SERVERS", "2")), workers=int(os.environ.get("GUNICORN_WORKERS", "2")),
                  threads=int(os.environ.get("GUNICORN_THREADS", "4")), http_port=int(os.environ.get("HTTP_PORT", "8080")),
                  tls_cert=os.environ.get("TLS_CERT", ""), tls_key=os.environ.get("TLS_KEY", ""),
                  server_name=os.environ.get("SERVER_NAME", "_"), production=production)
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(1))
    try:
        stack.start(seed=not production)
        print(f"创业齐鲁 (nginx + {len(stack.servers)} app servers"
              f"{' + scheduler' if stack.scheduler else ''}) at {stack.url}/   — Ctrl-C stops everything")
        print(f"app servers: {', '.join(f'127.0.0.1:{p}' for p in stack.ports)}; logs in {run_dir}")
        while not stopping:
            for line in stack.supervise_once():
                print(line, file=sys.stderr)
            time.sleep(1)
    except KeyboardInterrupt:
        pass
    finally:
        print("stopping…")
        stack.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
