"""Calling the ORM from the bot's event loop.

Domain functions are plain and synchronous; the bot awaits them through `sync_to_async`
(thread-sensitive, so every ORM call runs on one thread) and closes connections that went stale
or broke before and after each unit of work, as Django's request cycle would.
"""

from collections.abc import Callable
from typing import Any

from asgiref.sync import sync_to_async
from django.db import close_old_connections


async def run_sync[T](fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
    """Run `fn(*args, **kwargs)` as one unit of work off the event loop."""

    def unit() -> T:
        close_old_connections()
        try:
            return fn(*args, **kwargs)
        finally:
            close_old_connections()

    return await sync_to_async(unit, thread_sensitive=True)()
