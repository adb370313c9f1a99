"""Fixed-window rate limits kept in the cache (one Lua call on Redis, atomic `add` + `incr` on
locmem).

Kept over django-ratelimit 4.1 (README, "Rate limits"): its system checks fail start-up on a
local-memory cache, our embedded default (django_ratelimit.E003), and warn on Django's own
Redis cache (W001); it refuses with 403 (PermissionDenied) unless a middleware is added to map
it to a 429; and the client address and Retry-After would still be ours to compute. These few
lines do what we need on both caches.
A limit that cannot be counted (the cache unreachable) lets the request through, logged: the
landing page must not fail because Redis blinked.
"""

import hashlib
import hmac
import logging
import time

from django.conf import settings
from django.core.cache import cache

log = logging.getLogger(__name__)


def hit(scope: str, subject: str, rate: tuple[int, int]) -> int | None:
    """Count one request by `subject`; the seconds to wait if over the limit, else None."""
    return hit_first([(scope, subject, rate)])


def hit_first(limits: list[tuple[str, str, tuple[int, int]]]) -> int | None:
    """Count one request against each (scope, subject, rate) in order, stopping at the first
    it is over (so a caller over its own limit does not use up a shared one); the seconds to
    wait if over one, else None. On Redis all of it is one round trip."""
    now = time.time()
    windows = [
        (_key(scope, subject, window, now), limit, window)
        for scope, subject, (limit, window) in limits
        if limit
    ]
    if not windows:
        return None
    try:
        counts = _count(windows)
    except Exception as exc:  # the cache is unreachable: do not turn a visit into a 500
        scopes = ", ".join(scope for scope, _, _ in limits)
        log.warning("rate limit %s not counted, letting the request through: %r", scopes, exc)
        return None
    for (_, limit, window), count in zip(windows, counts, strict=False):
        if count > limit:
            return max(1, int(window - now % window + 0.999))
    return None


def _count(windows: list[tuple[str, int, int]]) -> list[int]:
    # Kept a second past the window, so a count never vanishes while its window is current.
    count_hits = getattr(cache, "count_hits", None)  # config.cache.RedisCache: one round trip
    if count_hits is not None:
        return count_hits([(key, limit, window + 1) for key, limit, window in windows])
    counts = []
    for key, limit, window in windows:
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request as the first
            cache.add(key, 1, timeout=window + 1)
            count = 1
        counts.append(count)
        if count > limit:
            break
    return counts


def exceeded(scope: str, subject: str, rate: tuple[int, int]) -> int | None:
    """Like `hit` without counting: the seconds to wait if `subject` is over the limit."""
    limit, window = rate
    if limit == 0:
        return None
    now = time.time()
    try:
        count = cache.get(_key(scope, subject, window, now)) or 0
    except Exception as exc:
        log.warning("rate limit %s not read, letting the request through: %r", scope, exc)
        return None
    if count > limit:
        return max(1, int(window - now % window + 0.999))
    return None


def _key(scope: str, subject: str, window: int, now: float) -> str:
    # The subject may be an IP address: keep only a keyed digest of it, even in the cache.
    digest = hmac.new(settings.SECRET_KEY.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return f"rate:{scope}:{digest[:32]}:{int(now // window)}"
