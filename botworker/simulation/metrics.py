"""Thread-safe counters and latency samples, filled by the driver's threads while a run goes."""

from __future__ import annotations

import math
import threading
from collections import Counter

FUNNEL_STEPS = (
    "visitors",
    "landing",
    "invite",
    "joined",
    "joined_oauth",  # of which through "Join with Discord" (no invite)
    "join_recorded",
    "welcomed",
    "onboarding_started",
    "submitted",
    "converted",
)
LATENCIES = (
    "landing",
    "join_redirect",
    "oauth_callback",  # Discord's redirect back → our 302 to the channel (member added)
    "join_to_welcome",
    "submit_to_conversion",
)


class Recorder:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.funnel: Counter[str] = Counter({step: 0 for step in FUNNEL_STEPS})
        self.errors: Counter[str] = Counter()
        self.samples: dict[str, list[float]] = {name: [] for name in LATENCIES}
        self.finished = 0  # visitors whose journey is over, wherever it ended

    def finish(self) -> None:
        with self._lock:
            self.finished += 1

    def step(self, name: str) -> None:
        with self._lock:
            self.funnel[name] += 1

    def error(self, kind: str) -> None:
        with self._lock:
            self.errors[kind] += 1

    def latency(self, name: str, seconds: float) -> None:
        with self._lock:
            self.samples[name].append(seconds * 1000)

    def snapshot(self) -> tuple[dict[str, int], int, int]:
        with self._lock:
            return dict(self.funnel), sum(self.errors.values()), self.finished


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (no interpolation: every figure is a latency that happened)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return round(ordered[rank - 1], 1)


def summarise(samples: dict[str, list[float]]) -> dict[str, dict[str, float | int | None]]:
    return {
        name: {
            "n": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
            "p99": percentile(values, 99),
            "max": round(max(values), 1) if values else None,
        }
        for name, values in samples.items()
    }
