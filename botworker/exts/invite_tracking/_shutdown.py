"""Stopping the invite-tracking cog as SIGTERM does: finish, record, persist what is left."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from ._logic import GuildInvites
from ._recording import Batch

log = logging.getLogger("botworker.invite_tracking")

SHUTDOWN_GRACE_SECONDS = 10.0


class Shutdown:
    """Mixed into the invite-tracking cog (which provides the workers, recorders and stores)."""

    guilds: dict[int, GuildInvites]
    _stopping: bool
    _units: dict[int, asyncio.Lock]
    _wake: dict[int, asyncio.Event]
    _workers: dict[int, asyncio.Task[None]]
    _recorded: dict[int, asyncio.Queue[Batch]]
    _recorders: dict[int, asyncio.Task[None]]
    _retries: dict[int, asyncio.Task[None]]
    _restarts: dict[int, asyncio.Task[None]]
    stop_background: Callable[[], None]
    persist_unrecorded: Callable[[int], Awaitable[None]]
    _save: Callable[..., Awaitable[None]]

    async def shutdown(self) -> None:
        """Let each guild finish the batch in progress, stop the workers, persist snapshots
        (with the joins kept unrecorded)."""
        self._stopping = True
        for guild_id, lock in list(self._units.items()):
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(lock.acquire(), SHUTDOWN_GRACE_SECONDS)
                lock.release()
            self._wake[guild_id].set()
        for task in [*self._workers.values(), *self._retries.values(), *self._restarts.values()]:
            task.cancel()
        self.stop_background()
        drained = set()
        for guild_id, queue in self._recorded.items():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(queue.join(), SHUTDOWN_GRACE_SECONDS)
                drained.add(guild_id)
        for task in self._recorders.values():
            task.cancel()
        for guild_id, tracker in list(self.guilds.items()):
            if guild_id in self._recorded and guild_id not in drained:
                log.warning("guild=%s joins still being recorded: snapshot not persisted", guild_id)
                continue
            await self._save(guild_id, *(tracker.persistable() or (None, None)))
            await self.persist_unrecorded(guild_id)
            if tracker.queue:
                log.info(
                    "guild=%s stopping with %d join(s) queued: reconciled at the next start",
                    guild_id,
                    len(tracker.queue),
                )
