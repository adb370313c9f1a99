"""Calling the ORM from the bot's event loop.

Domain functions are plain and synchronous; the bot awaits them through `sync_to_async` on
threads of its own, in two lanes: `run_sync` (onboarding, welcomes, leaves: BOT_DB_THREADS
threads) and `run_sync_joins` (the invite tracker's reads and join records: threads of their
own), so a burst of button presses waiting on database locks never delays a join decision, and
a slow unit never holds up the others as one shared thread would. Each unit closes connections
that went stale or broke before it, and closes its connections after it: pool threads are not
request threads, and a connection left open on one would outlive its use (and keep PostgreSQL
from dropping a test database).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections

JOIN_THREADS = 4


@cache
def _executor(lane: str) -> ThreadPoolExecutor:
    threads = JOIN_THREADS if lane == "joins" else settings.BOT_DB_THREADS
    return ThreadPoolExecutor(threads, thread_name_prefix=f"bot-{lane}")


async def _run[T](lane: str, fn: Callable[..., T], args: Any, kwargs: Any) -> T:
    def unit() -> T:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await sync_to_async(unit, thread_sensitive=False, executor=_executor(lane))()


async def run_sync[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` as one unit of work off the event loop."""
    return await _run("db", fn, args, kwargs)


async def run_sync_joins[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """`run_sync` in the invite tracker's own lane."""
    return await _run("joins", fn, args, kwargs)
