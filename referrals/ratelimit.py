"""Fixed-window rate limits kept in the cache (atomic `add` + `incr` on Redis and locmem)."""

import hashlib
import hmac
import time

from django.conf import settings
from django.core.cache import cache


def hit(scope: str, subject: str, rate: tuple[int, int]) -> int | None:
    """Count one request by `subject`; the seconds to wait if over the limit, else None."""
    limit, window = rate
    if limit == 0:
        return None
    now = time.time()
    key = _key(scope, subject, window, now)
    cache.add(key, 0, timeout=window + 1)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: count this request as the first
        cache.add(key, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, int(window - now % window + 0.999))
    return None


def exceeded(scope: str, subject: str, rate: tuple[int, int]) -> int | None:
    """Like `hit` without counting: the seconds to wait if `subject` is over the limit."""
    limit, window = rate
    if limit == 0:
        return None
    now = time.time()
    if (cache.get(_key(scope, subject, window, now)) or 0) > limit:
        return max(1, int(window - now % window + 0.999))
    return None


def _key(scope: str, subject: str, window: int, now: float) -> str:
    # The subject may be an IP address: keep only a keyed digest of it, even in the cache.
    digest = hmac.new(settings.SECRET_KEY.encode(), subject.encode(), hashlib.sha256).hexdigest()
    return f"rate:{scope}:{digest[:32]}:{int(now // window)}"
