"""A small closed-loop load generator for 127.0.0.1 only: N requests over C threads."""

from __future__ import annotations

import math
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import requests


@dataclass
class Result:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float]
    statuses: Counter

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        ordered = sorted(self.latencies_ms)
        return ordered[max(1, math.ceil(q / 100 * len(ordered))) - 1] if ordered else 0.0

    def row(self) -> dict:
        return {
            "requests": self.requests,
            "req_per_s": round(self.rps, 1),
            "p50_ms": round(self.pct(50), 2),
            "p95_ms": round(self.pct(95), 2),
            "p99_ms": round(self.pct(99), 2),
            "statuses": dict(self.statuses),
        }


def run(
    name: str,
    count: int,
    concurrency: int,
    request: Callable[[requests.Session, int], requests.Response],
    prepare: Callable[[requests.Session], None] | None = None,
    max_seconds: float = 120.0,
) -> Result:
    """`count` requests (fewer if `max_seconds` runs out), `concurrency` at a time."""
    lock = threading.Lock()
    next_index = [0]
    latencies: list[float] = []
    statuses: Counter = Counter()
    deadline = time.monotonic() + max_seconds

    def worker() -> None:
        session = requests.Session()
        if prepare is not None:
            prepare(session)
        while time.monotonic() < deadline:
            with lock:
                if next_index[0] >= count:
                    return
                i = next_index[0]
                next_index[0] += 1
            started = time.perf_counter()
            response = request(session, i)
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                latencies.append(elapsed)
                statuses[response.status_code] += 1

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Result(name, len(latencies), time.monotonic() - started, latencies, statuses)


def combine(parts: list[Result]) -> Result:
    """Several runs of one scenario as one: requests and busy seconds added up."""
    statuses: Counter = Counter()
    for part in parts:
        statuses.update(part.statuses)
    return Result(
        parts[0].name,
        sum(p.requests for p in parts),
        sum(p.seconds for p in parts),
        [ms for p in parts for ms in p.latencies_ms],
        statuses,
    )


def loopback_only(url: str) -> None:
    host = urlsplit(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"refusing to load {host}: benchmarks only target this machine")
