"""Fixtures for the bot's tests: the real bot (`build_bot`) against the session's emulator.

The bot runs on the test's event loop and the emulator on its own thread, so an emulator call
from the test (`discord_emulator.accept_invite(...)`) is a real Discord-side action the bot
learns about over the gateway. Tests wait on the bot's events (`EventLog`), never on the clock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import nextcord
import pytest
import pytest_asyncio
from asgiref.sync import SyncToAsync, sync_to_async
from django.conf import settings
from django.db import connections
from emulator_fixtures import EventLog

from botworker.bot import build_bot

from .helpers import stop_bot

BOT_EVENTS = (
    "ready",
    "invite_snapshot",
    "join_recorded",
    "member_attributed",
    "leave_recorded",
    "startup_report",
    "referral_roles_dropped",
    "return_visit_recorded",
    "guild_remove",
)


@pytest.fixture(scope="session", autouse=True)
def _close_bot_thread_connections():
    """The bot's ORM calls run on asgiref's one thread-sensitive executor thread. Its
    connection (kept open: CONN_MAX_AGE) must be closed, or PostgreSQL refuses to drop the test
    database at the end of the session and the next run cannot create it."""
    yield
    SyncToAsync.single_thread_executor.submit(connections.close_all).result(10)


@pytest.fixture(autouse=True)
def _no_persisted_snapshots():
    """Snapshots persisted in Redis outlive a test's database: start and end without them."""
    if settings.REDIS_URL:
        import redis

        client = redis.Redis.from_url(settings.REDIS_URL)
        for pattern in ("invitetrail:snapshot:*", "invitetrail:unrecorded:*"):
            for key in client.scan_iter(pattern):
                client.delete(key)
    yield


@pytest.fixture
def tracked_campaign(campaign):
    """The persona campaign without a pool: each invite in a test is one a visitor was given."""
    campaign.invite_pool_size = 0
    campaign.save(update_fields=["invite_pool_size"])
    return campaign


@pytest_asyncio.fixture
async def run_bot(discord_emulator) -> AsyncIterator[Callable[..., Any]]:
    """`bot, log = await run_bot()`: the production bot, ready and with its first snapshots.

    Stopped after the test (or earlier with `await stop_bot(bot)`), as SIGTERM would stop it.
    """
    started: list[tuple[nextcord.Client, asyncio.Task[None]]] = []
    original_base = nextcord.http.Route.BASE

    async def start(*, wait_snapshot: bool = True) -> tuple[nextcord.Client, EventLog]:
        bot = build_bot(guild_ready_timeout=0.05)

        async def quick_identify(shard_id: int | None, *, initial: bool = False) -> None:
            return None  # nextcord sleeps 5 s before every re-IDENTIFY; not in tests

        bot.before_identify_hook = quick_identify  # type: ignore[method-assign]
        log = EventLog(bot, BOT_EVENTS)
        await bot.login(settings.DISCORD_BOT_TOKEN)
        task = asyncio.create_task(bot.connect())
        started.append((bot, task))
        ready = asyncio.ensure_future(log.wait("ready", timeout=10))
        done, _ = await asyncio.wait({ready, task}, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            ready.cancel()
            task.result()
        await ready
        if wait_snapshot:
            await log.wait("invite_snapshot", timeout=10)
        return bot, log

    try:
        yield start
    finally:
        for bot, task in started:
            await stop_bot(bot, task)
        nextcord.http.Route.BASE = original_base
        await sync_to_async(connections.close_all, thread_sensitive=True)()
