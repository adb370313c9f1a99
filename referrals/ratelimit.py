"""Fixed-window rate limits kept in the cache (atomic `add` + `incr` on Redis and locmem).

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
    limit, window = rate
    if limit == 0:
        return None
    now = time.time()
    key = _key(scope, subject, window, now)
    try:
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # evicted between add and incr: count this request as the first
            cache.add(key, 1, timeout=window + 1)
            count = 1
    except Exception as exc:  # the cache is unreachable: do not turn a visit into a 500
        log.warning("rate limit %s not counted, letting the request through: %r", scope, exc)
        return None
    if count > limit:
        return max(1, int(window - now % window + 0.999))
    return None


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
