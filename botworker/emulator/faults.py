"""Rate limits, injected faults, call counting and strict-mode bookkeeping for the REST API.

Discord's rate limits (its "Rate Limits" topic): every bot response carries `X-RateLimit-Limit`,
`-Remaining`, `-Reset`, `-Reset-After` and `-Bucket`, counted per route bucket and top-level
resource (channel, guild, webhook); a global limit of 50 requests/s per bot applies on top
(interaction endpoints are exempt). A 429 has a JSON body with `retry_after` (seconds, float)
and `global`, plus `Retry-After`, `X-RateLimit-Scope` and — as Discord's edge adds it — `Via`
(without it nextcord takes the 429 for a Cloudflare ban and gives up).

Routes are named `METHOD /template`, e.g. `POST /channels/{channel_id}/messages`; patterns in
the configuration are shell-style globs over those names (`*`, `POST *`, `* /invites/*`).
"""

from __future__ import annotations

import hashlib
import math
import random
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from typing import Any

MAJOR_PARAMETERS = ("channel_id", "guild_id", "webhook_id", "interaction_id")


@dataclass
class _Injected:
    pattern: str
    remaining: int | None  # None: no count limit (then `probability` decides)
    probability: float = 1.0
    status: int = 500
    retry_after: float = 0.0
    is_global: bool = False


@dataclass
class _Window:
    limit: int
    per: float
    reset_at: float
    count: int = 0


@dataclass
class RateLimitResult:
    headers: dict[str, str] = field(default_factory=dict)
    retry_after: float | None = None  # set when the request is refused with a 429
    is_global: bool = False

    def body(self) -> dict[str, Any]:
        return {
            "message": "You are being rate limited.",
            "retry_after": self.retry_after,
            "global": self.is_global,
            "code": 0,
        }


# inject_failure's status for a connection closed without an answer.
DROP = 0


def route_name(method: str, template: str) -> str:
    return f"{method.upper()} {template}"


def parse_rate(text: str) -> tuple[int, float]:
    """ "5/1" or "5/1s" → (5 requests, per 1.0 s)."""
    count, _, per = text.partition("/")
    return int(count), float(per.rstrip("s") or 1)


class Faults:
    """Per-run configuration and records. Time is real (monotonic), not the world's clock."""

    def __init__(
        self,
        *,
        seed: int = 0,
        route_rate: tuple[int, float] | None = (50, 1.0),
        global_rate: int | None = 50,
        strict: bool = False,
    ) -> None:
        self.rng = random.Random(seed)
        self.route_rate = route_rate
        self.route_rates: dict[str, tuple[int, float]] = {}
        self.global_rate = global_rate
        self.strict = strict
        self.latency: dict[str, float] = {}
        # The network's delay under every call (the emulator's `latency_ms`): kept by clear().
        self.base_latency = 0.0
        self._injected_429: list[_Injected] = []
        self._injected_5xx: list[_Injected] = []
        self._windows: dict[tuple[str, str, str], _Window] = {}
        self._global: dict[str, deque[float]] = {}
        self.calls: Counter[str] = Counter()
        self.refusals: Counter[str] = Counter()  # 429s sent, by route
        self.violations: list[dict[str, Any]] = []

    # -- configuration -----------------------------------------------------------------------

    def set_route_rate(self, pattern: str, limit: int, per: float = 1.0) -> None:
        """Bucket limit for routes matching `pattern` (earlier-set patterns win ties)."""
        self.route_rates[pattern] = (limit, per)

    def inject_rate_limit(
        self,
        pattern: str = "*",
        *,
        count: int = 1,
        retry_after: float = 0.05,
        is_global: bool = False,
    ) -> None:
        """Answer the next `count` matching requests with a 429."""
        self._injected_429.append(
            _Injected(pattern, count, status=429, retry_after=retry_after, is_global=is_global)
        )

    def inject_failure(
        self,
        pattern: str = "*",
        *,
        status: int = 500,
        count: int | None = 1,
        probability: float = 1.0,
    ) -> None:
        """Answer matching requests with a 5xx: the next `count`, or each with `probability`.
        `status` DROP (0): no answer at all, the connection closed (a network failure)."""
        self._injected_5xx.append(_Injected(pattern, count, probability, status))

    def set_latency(self, pattern: str, seconds: float) -> None:
        self.latency[pattern] = seconds

    def clear(self) -> None:
        """Drop injected faults, latency rules, limits state and records (not the base rates
        or the base latency)."""
        self._injected_429.clear()
        self._injected_5xx.clear()
        self.latency.clear()
        self.route_rates.clear()
        self._windows.clear()
        self._global.clear()
        self.calls.clear()
        self.refusals.clear()
        self.violations.clear()

    # -- per request -------------------------------------------------------------------------

    def latency_for(self, route: str) -> float:
        """The base latency plus the slowest matching injected rule."""
        extra = max((s for p, s in self.latency.items() if fnmatchcase(route, p)), default=0.0)
        return self.base_latency + extra

    def _take(self, rules: list[_Injected], route: str) -> _Injected | None:
        for rule in rules:
            if not fnmatchcase(route, rule.pattern):
                continue
            if rule.remaining is not None:
                if rule.remaining <= 0:
                    continue
                rule.remaining -= 1
                return rule
            if self.rng.random() < rule.probability:
                return rule
        return None

    def injected_failure(self, route: str) -> int | None:
        rule = self._take(self._injected_5xx, route)
        return rule.status if rule else None

    def bucket_hash(self, route: str) -> str:
        return hashlib.sha1(route.encode()).hexdigest()[:16]

    def rate_limit(
        self, route: str, params: dict[str, str], auth: str, *, exempt_global: bool = False
    ) -> RateLimitResult:
        """Count one request; return headers to send and, when over a limit, the 429 to send."""
        now = time.monotonic()
        result = RateLimitResult()
        forced = self._take(self._injected_429, route)
        if forced is not None:
            return self._refuse(result, forced.retry_after, forced.is_global, route)
        if self.global_rate and not exempt_global:
            stamps = self._global.setdefault(auth, deque())
            while stamps and now - stamps[0] >= 1.0:
                stamps.popleft()
            if len(stamps) >= self.global_rate:
                return self._refuse(result, 1.0 - (now - stamps[0]), True, route)
            stamps.append(now)
        rate = next(
            (r for p, r in self.route_rates.items() if fnmatchcase(route, p)), self.route_rate
        )
        if rate is None:
            return result
        major = ":".join(params.get(k, "") for k in MAJOR_PARAMETERS)
        key = (auth, route, major)
        window = self._windows.get(key)
        if window is None or now >= window.reset_at or (window.limit, window.per) != rate:
            window = self._windows[key] = _Window(rate[0], rate[1], now + rate[1])
        reset_after = max(window.reset_at - now, 0.0)
        result.headers = {
            "X-RateLimit-Limit": str(window.limit),
            "X-RateLimit-Reset": f"{time.time() + reset_after:.3f}",
            "X-RateLimit-Reset-After": f"{reset_after:.3f}",
            "X-RateLimit-Bucket": self.bucket_hash(route),
        }
        if window.count >= window.limit:
            result.headers["X-RateLimit-Remaining"] = "0"
            return self._refuse(result, reset_after, False, route)
        window.count += 1
        result.headers["X-RateLimit-Remaining"] = str(window.limit - window.count)
        return result

    def _refuse(
        self, result: RateLimitResult, retry_after: float, is_global: bool, route: str
    ) -> RateLimitResult:
        retry_after = round(max(retry_after, 0.001), 3)
        self.refusals[route] += 1
        result.retry_after = retry_after
        result.is_global = is_global
        result.headers.update(
            {
                "Retry-After": str(math.ceil(retry_after)),
                "X-RateLimit-Scope": "global" if is_global else "user",
                "Via": "1.1 google",
            }
        )
        if is_global:
            result.headers["X-RateLimit-Global"] = "true"
        else:
            result.headers.setdefault("X-RateLimit-Bucket", self.bucket_hash(route))
            result.headers.setdefault("X-RateLimit-Limit", "1")
            result.headers.setdefault("X-RateLimit-Remaining", "0")
            result.headers.setdefault("X-RateLimit-Reset-After", f"{retry_after:.3f}")
            result.headers.setdefault("X-RateLimit-Reset", f"{time.time() + retry_after:.3f}")
        return result

    # -- records -----------------------------------------------------------------------------

    def record_violation(self, kind: str, method: str, path: str, detail: Any) -> None:
        """Strict mode: something a real Discord would refuse or we could not check."""
        self.violations.append({"kind": kind, "method": method, "path": path, "detail": detail})

    def assert_clean(self) -> None:
        """Fail a test when strict mode saw unknown routes or invalid payloads."""
        if self.violations:
            lines = "\n".join(
                f"- {v['kind']}: {v['method']} {v['path']}: {v['detail']}" for v in self.violations
            )
            raise AssertionError(f"the Discord emulator recorded violations:\n{lines}")
