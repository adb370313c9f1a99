"""Calling the ORM from the bot's event loop.

Domain functions are plain and synchronous; the bot awaits them through `sync_to_async` on a
small pool of threads of its own (BOT_DB_THREADS), so a slow unit of work — a conversion's
eager Celery side effects, a lock wait — never holds up a join decision or a button press
queued behind it, as one shared thread would. Each unit closes connections that went stale or
broke before it, and closes its connections after it: pool threads are not request threads,
and a connection left open on one would outlive its use (and keep PostgreSQL from dropping a
test database).
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import close_old_connections, connections


@cache
def _executor() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(settings.BOT_DB_THREADS, thread_name_prefix="bot-db")


async def run_sync[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` as one unit of work off the event loop."""

    def unit() -> T:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            connections.close_all()

    return await sync_to_async(unit, thread_sensitive=False, executor=_executor())()
