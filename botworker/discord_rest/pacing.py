"""One bot token, several processes, one global rate limit.

Discord lets a bot make 50 requests per second in all, counted per token (its "Rate Limits"
topic, "Global Rate Limit"; interaction endpoints are not bound to it), and no response header
says how close a token is: only the 429 that follows. The bot (nextcord) and the web app and
Celery workers (`discord_rest`) spend the same token, and each used to pace only itself, so
together they went over: at 10 joins/s one `simulate` run earned 105 global 429s, each welcome
among them waiting up to a second. So the budget is split in fixed shares:

- the bot keeps `DISCORD_BOT_RATE_SHARE` of `DISCORD_GLOBAL_RATE` (one process: a window in
  memory), for nextcord's calls and for any `discord_rest` call made in its process (eager
  tasks on the embedded defaults);
- the REST clients share the rest: through Redis when the cache is Redis, so every web and
  Celery process draws from one window, in memory otherwise (the embedded defaults run one
  web process, its tasks eager).

Each share is a sliding window — never more than N sends in any `WINDOW` seconds — not a count
that resets each second, which lets 2N through around the reset. The window is a little
longer than Discord's second, to absorb the network's jitter between our send and Discord's
count.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable

from django.conf import settings
from django.core.cache import caches

log = logging.getLogger(__name__)

WINDOW = 1.1  # seconds: Discord's second, plus jitter
# In the bot's process, calls made through `discord_rest` (conversion roles, eager tasks) leave
# this share of the bot's window to nextcord: welcomes and invite-list fetches come first.
BACKGROUND_HEADROOM = 1 / 3
EXEMPT_PREFIXES = ("/interactions/", "/webhooks/")


def exempt(path: str) -> bool:
    """Interaction responses and follow-ups (webhook routes) are not bound to the global limit."""
    return path.startswith(EXEMPT_PREFIXES)


def shares() -> tuple[int, int]:
    """(bot, REST clients) requests per window, together `DISCORD_GLOBAL_RATE`."""
    total = settings.DISCORD_GLOBAL_RATE
    bot = max(1, min(total - 1, round(total * settings.DISCORD_BOT_RATE_SHARE)))
    return bot, total - bot


class SlidingWindow:
    """At most `limit` slots taken in any `per` seconds. Thread-safe; the clock is injectable."""

    def __init__(
        self, limit: int, per: float = WINDOW, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.limit, self.per, self._clock = limit, per, clock
        self._taken: deque[float] = deque()
        self._lock = threading.Lock()

    def reserve(self, headroom: int = 0) -> float:
        """Take a slot now (0.0), or say how many seconds until one frees. With `headroom`,
        only while that many slots would stay free for other callers."""
        with self._lock:
            now = self._clock()
            while self._taken and now - self._taken[0] >= self.per:
                self._taken.popleft()
            limit = max(1, self.limit - headroom)
            if len(self._taken) < limit:
                self._taken.append(now)
                return 0.0
            return self._taken[len(self._taken) - limit] + self.per - now


# -- the bot's share ---------------------------------------------------------------------------


def pace_bot(http: object, window: SlidingWindow | None = None) -> SlidingWindow:
    """Make nextcord's HTTP client wait for a slot of the bot's share before every request
    that counts against the global limit (its own per-route buckets still apply after)."""
    global _process_window
    window = window or SlidingWindow(shares()[0])
    _process_window = window
    send = http.request  # type: ignore[attr-defined]

    async def request(route, **kwargs):  # noqa: ANN001, ANN202 — nextcord's signature
        if not exempt(route.path):
            while (wait := window.reserve()) > 0:
                await asyncio.sleep(wait)
        return await send(route, **kwargs)

    http.request = request  # type: ignore[attr-defined]
    return window


# -- the REST clients' share -------------------------------------------------------------------


@functools.cache
def _window_key(token: str) -> str:
    """The token's window, named by a hash (never the token itself)."""
    return "discord-global:" + hashlib.sha256(token.encode()).hexdigest()[:16]


_process_window: SlidingWindow | None = None  # the bot's, in the bot's process
_local: dict[tuple[str, int], SlidingWindow] = {}
_local_lock = threading.Lock()
_redis_failed = False


def rest_reserve(token: str) -> float:
    """Take a slot of this process's share for `token` (the bot's in the bot's process, the
    REST clients' elsewhere): 0.0, or seconds to wait first."""
    global _redis_failed
    if _process_window is not None:
        return _process_window.reserve(round(_process_window.limit * BACKGROUND_HEADROOM))
    limit = shares()[1]
    key = _window_key(token)
    take = getattr(caches["default"], "take_slot", None)
    if take is not None:
        try:
            wait = take(key, limit, WINDOW, uuid.uuid4().hex)
            _redis_failed = False
            return wait
        except Exception as exc:  # Redis down: pace this process alone rather than fail the call
            if not _redis_failed:
                log.warning("global rate window not shared (%s); pacing this process alone", exc)
            _redis_failed = True
    with _local_lock:
        window = _local.get((key, limit))
        if window is None:
            window = _local[(key, limit)] = SlidingWindow(limit)
    return window.reserve()
