"""A light HTTP load generator for the benchmarks: persistent HTTP/1.1 connections (http.client),
N threads in a second process, every answer kept for checking afterwards.

    with LoadProcess() as load:                       # a second process on loopback
        result = load.run(base_url, calls, concurrency=32)
        result.rate, result.p50_ms, result.p99_ms, result.answers   # [(status, json)] in call order
"""
from __future__ import annotations

import http.client
import json
import multiprocessing
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class Result:
    elapsed: float
    latencies: list[float]
    answers: list[tuple[int, dict]]

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed

    def pct(self, p: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))] * 1000

    @property
    def p50_ms(self) -> float:
        return self.pct(50)

    @property
    def p99_ms(self) -> float:
        return self.pct(99)


def _worker(base_url: str, calls: list, concurrency: int) -> tuple[float, list, list]:
    """calls: [(method, path, body_dict_or_None, headers)] — runs them from `concurrency` threads."""
    parts = urlsplit(base_url)
    latencies = [0.0] * len(calls)
    answers: list = [None] * len(calls)
    cursor = iter(range(len(calls)))
    lock = threading.Lock()

    def run():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        while True:
            with lock:
                index = next(cursor, None)
            if index is None:
                break
            method, path, body, headers = calls[index]
            payload = json.dumps(body).encode() if body is not None else None
            sent_headers = {"Content-Type": "application/json", **headers} if payload else dict(headers)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=payload, headers=sent_headers)
                response = conn.getresponse()
                raw = response.read()
                status = response.status
            except (http.client.HTTPException, OSError):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
                status, raw = 0, b"{}"
            latencies[index] = time.perf_counter() - start
            try:
                answers[index] = (status, json.loads(raw or b"{}"))
            except ValueError:
                answers[index] = (status, {"raw": raw[:200].decode(errors="replace")})
        conn.close()

    threads = [threading.Thread(target=run) for _ in range(concurrency)]
    start = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return time.perf_counter() - start, latencies, answers


class LoadProcess:
    def __enter__(self):
        self.pool = multiprocessing.get_context("spawn").Pool(1)
        return self

    def __exit__(self, *exc):
        self.pool.close()
        self.pool.join()

    def run(self, base_url: str, calls: list, concurrency: int = 32) -> Result:
        elapsed, latencies, answers = self.pool.apply(_worker, (base_url, calls, concurrency))
        return Result(elapsed, latencies, answers)
