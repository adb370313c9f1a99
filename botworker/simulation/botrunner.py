"""The production bot on its own thread and event loop, and a board its events are posted to.

Visitors are driven from ordinary threads; they wait for what the bot did (a join recorded, a
welcome posted, an interaction answered) on `EventBoard`, which the bot's listeners fill as the
events happen. Nothing here sleeps to "let things settle".
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import nextcord
from asgiref.sync import SyncToAsync
from django.conf import settings
from django.db import connections

from botworker.bot import InvitetrailBot, build_bot
from config.celery import offload_eager_tasks


@dataclass
class _Slot:
    event: threading.Event
    at: float = 0.0
    value: Any = None


class EventBoard:
    """(kind, key) → when it happened and what it said; `wait` returns a past or future post."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._posts: Counter[tuple[str, str]] = Counter()  # duplicates included

    def _slot(self, kind: str, key: str) -> _Slot:
        with self._lock:
            return self._slots.setdefault((kind, key), _Slot(threading.Event()))

    def post(self, kind: str, key: str, value: Any = None) -> None:
        """Record the first occurrence (a duplicate GUILD_MEMBER_ADD must not move the time)."""
        slot = self._slot(kind, key)
        with self._lock:
            self._posts[(kind, key)] += 1
        if not slot.event.is_set():
            slot.at, slot.value = time.monotonic(), value
            slot.event.set()

    def wait(self, kind: str, key: str, timeout: float) -> tuple[float, Any] | None:
        """(monotonic time, value) once posted, or None after `timeout` seconds."""
        slot = self._slot(kind, key)
        if not slot.event.wait(timeout):
            return None
        return slot.at, slot.value

    def repeated(self, kind: str) -> int:
        """Keys posted more than once (a member welcomed twice, say)."""
        with self._lock:
            return sum(1 for (k, _), n in self._posts.items() if k == kind and n > 1)

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for (k, _), s in self._slots.items() if k == kind and s.event.is_set())


class BotRunner:
    """Starts, stops and restarts `build_bot()` — all extensions, as `runbot` runs it."""

    def __init__(self, board: EventBoard) -> None:
        self.board = board
        self.loop = asyncio.new_event_loop()
        self.bot: InvitetrailBot | None = None
        self._task: asyncio.Task[None] | None = None
        self.starts = 0
        self.down_since: float | None = None
        self.down_periods: list[tuple[float, float]] = []
        self._thread = threading.Thread(target=self.loop.run_forever, name="bot", daemon=True)
        self._thread.start()

    def _run(self, coro: Any) -> Future:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    def start(self, timeout: float = 30.0) -> None:
        """Connect and wait until the bot is ready and its first snapshot batch is done (the
        reconciliation of joins missed while it was down is part of that batch)."""
        self._run(self._start()).result(timeout)

    def stop(self, timeout: float = 30.0) -> None:
        self._run(self._stop()).result(timeout)

    def stop_in_background(self) -> Future:
        """Begin a graceful stop (as SIGTERM would) without blocking the caller."""
        self.down_since = time.monotonic()
        return self._run(self._stop())

    async def _start(self) -> None:
        offload_eager_tasks()  # a task's Discord calls never hold up the bot
        bot = build_bot()
        snapshot = asyncio.Event()
        self._listen(bot, snapshot)
        await bot.login(settings.DISCORD_BOT_TOKEN)
        self.bot, self._task = bot, asyncio.create_task(bot.connect(reconnect=True))
        ready = asyncio.ensure_future(snapshot.wait())
        done, _ = await asyncio.wait({ready, self._task}, return_when=asyncio.FIRST_COMPLETED)
        if self._task in done:
            ready.cancel()
            self._task.result()
            raise RuntimeError("the bot's connection ended before it was ready")
        self.starts += 1
        if self.down_since is not None:
            self.down_periods.append((self.down_since, time.monotonic()))
            self.down_since = None

    def _listen(self, bot: nextcord.Client, snapshot: asyncio.Event) -> None:
        board = self.board

        async def on_invite_snapshot(guild_id: int) -> None:
            snapshot.set()

        async def on_join_recorded(guild_id: int, member_id: str, outcome: Any) -> None:
            board.post("join_recorded", str(member_id), outcome.decision)

        async def on_welcome_sent(member: nextcord.Member, welcome: Any, where: Any) -> None:
            board.post("welcome", str(member.id), (welcome.session_id, where))

        async def on_onboarding_answered(interaction: Any, action: Any, outcome: Any) -> None:
            status = getattr(outcome, "status", None) if outcome is not None else "failed"
            board.post("answered", str(interaction.id), status)

        for listener in (
            on_invite_snapshot,
            on_join_recorded,
            on_welcome_sent,
            on_onboarding_answered,
        ):
            bot.add_listener(listener, listener.__name__)

    async def _stop(self) -> None:
        bot, task = self.bot, self._task
        if bot is None:
            return
        if not bot.is_closed():
            await bot.close()
        if task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        self.bot = self._task = None

    async def _cancel_leftovers(self) -> None:
        """nextcord leaves rate-limit reset timers behind after close(): end them quietly."""
        current = asyncio.current_task()
        leftovers = [t for t in asyncio.all_tasks() if t is not current]
        for task in leftovers:
            task.cancel()
        await asyncio.gather(*leftovers, return_exceptions=True)

    def shutdown(self) -> None:
        """Stop the bot and its loop; close the ORM connection of asgiref's worker thread (or
        PostgreSQL refuses to drop the run's database)."""
        with contextlib.suppress(Exception):
            self.stop()
        SyncToAsync.single_thread_executor.submit(connections.close_all).result(10)
        with contextlib.suppress(Exception):
            self._run(self._cancel_leftovers()).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)
