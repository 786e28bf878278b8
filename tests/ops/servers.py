"""Real servers for the operations tests, on loopback, each waited for by polling with a deadline."""
from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, *, process: subprocess.Popen, timeout: float, what: str, log: Path | None = None):
    """Poll ``condition`` until it holds, in between waiting on the server ``process``: a server that
    dies is reported at once, not after the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            result = condition()
        except Exception:  # noqa: BLE001 - not yet
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        try:
            process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        output = log.read_text(errors="replace") if log and log.exists() else ""
        raise RuntimeError(f"the server exited while waiting for {what}: {output[-3000:]}")


class Redis:
    """A private redis-server on a free port (no persistence)."""

    def __init__(self, port: int | None = None):
        self.port = port or free_port()
        self.process = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        self.process = subprocess.Popen([binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                         "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        wait_for(client.ping, process=self.process, timeout=10, what="redis-server")
        return self

    def kill(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


class Gunicorn:
    """``gunicorn -w N 'backend:create_app()'`` with the given environment."""

    def __init__(self, env: dict, log: Path, workers: int = 2):
        self.port = free_port()
        self.log = log
        self.env = {**os.environ, **env}
        self.workers = workers
        self.process = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> "Gunicorn":
        config = ROOT / "tests" / "ops" / "gunicorn_test_conf.py"
        self.process = subprocess.Popen(
            [str(Path(os.sys.executable).parent / "gunicorn"), "-w", str(self.workers), "-b", f"127.0.0.1:{self.port}",
             "-c", str(config), "--timeout", "30", "backend:create_app()"],
            cwd=ROOT, env=self.env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
        self.wait_for(lambda: requests.get(f"{self.url}/healthz", timeout=1).status_code == 200, timeout=30,
                      what="gunicorn")
        return self

    def wait_for(self, condition, *, timeout: float, what: str):
        return wait_for(condition, process=self.process, timeout=timeout, what=what, log=self.log)

    def stop(self) -> str:
        """Stop the server (SIGTERM, then SIGKILL after 15 s); its log."""
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        return self.log.read_text(errors="replace") if self.log.exists() else ""
