"""Fixtures for the onboarding extension's tests: a strict emulator on the test's loop, a real
nextcord `commands.Bot` with the extension loaded, and joins recorded without the tracking
extension (the test dispatches `member_attributed` itself, as that extension does).

Imported by the test modules (`from .onboarding_support import *`), not a conftest, so the
bot package's other test files are free to bring their own.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import nextcord
import pytest
import pytest_asyncio
from asgiref.sync import sync_to_async
from django.db import connections
from django.utils import timezone
from emulator_fixtures import EventLog
from nextcord.ext import commands

from analytics.joins import JoinOutcome, record_join
from botworker.bot import build_bot
from botworker.emulator import Emulator, defaults
from campaigns.models import OnboardingField

__all__ = [
    "BotHarness",
    "attribute",
    "bots",
    "eager_tasks",
    "emu",
    "join",
    "six_field_campaign",
    "start_bot",
]

GUILD = int(defaults.GUILD_ID)
EXTENSION = "botworker.exts.onboarding"


@pytest_asyncio.fixture
async def emu(settings: Any, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Emulator]:
    """A strict local Discord on the test's loop; the app's sync REST client points at it too
    (the conversion task gives roles through it)."""
    from botworker import discord_rest

    emulator = Emulator(strict=True)
    await emulator.start()
    monkeypatch.setattr(discord_rest, "_client", None)
    settings.DISCORD_API_BASE = emulator.api_base
    settings.DISCORD_BOT_TOKEN = defaults.BOT_TOKEN
    settings.DISCORD_CLIENT_ID = defaults.APPLICATION_ID
    try:
        yield emulator
    finally:
        await emulator.stop()


@pytest.fixture
def eager_tasks() -> Iterator[None]:
    """Celery tasks inline, with or without REDIS_URL: no worker runs beside these tests."""
    from config.celery import app

    before = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        yield
    finally:
        app.conf.task_always_eager = before


class BotHarness:
    """A running bot and what the test needs to drive and observe it."""

    def __init__(self, bot: commands.Bot, task: asyncio.Task[None], log: EventLog) -> None:
        self.bot, self.task, self.log = bot, task, log

    @property
    def guild(self) -> nextcord.Guild:
        guild = self.bot.get_guild(GUILD)
        assert guild is not None
        return guild

    async def close(self) -> None:
        await self.bot.close()
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(self.task, 5)


async def start_bot(
    emulator: Emulator, *, extensions: tuple[str, ...] = (EXTENSION,)
) -> BotHarness:
    """The production bot (`build_bot`: its intents, REST base from settings) with only the
    given extension(s), ready against `emulator`."""
    bot = build_bot(list(extensions), guild_ready_timeout=0.05)

    async def quick_identify(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # nextcord sleeps 5 s before a re-IDENTIFY; not in tests

    bot.before_identify_hook = quick_identify  # type: ignore[method-assign]
    log = EventLog(bot, ("member_join", "welcome_sent", "onboarding_answered"))
    await bot.login(defaults.BOT_TOKEN)
    task = asyncio.create_task(bot.connect())
    ready = asyncio.ensure_future(bot.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if ready not in done:
        ready.cancel()
        await bot.close()
        raise RuntimeError("the bot did not become ready") from (
            task.exception() if task.done() else None
        )
    return BotHarness(bot, task, log)


@pytest_asyncio.fixture
async def bots() -> AsyncIterator[Callable[..., Any]]:
    """`harness = await bots(emu)`; every bot started is closed after the test."""
    started: list[BotHarness] = []
    original_base = nextcord.http.Route.BASE

    async def make(emulator: Emulator, **kwargs: Any) -> BotHarness:
        harness = await start_bot(emulator, **kwargs)
        started.append(harness)
        return harness

    try:
        yield make
    finally:
        for harness in started:
            await harness.close()
        nextcord.http.Route.BASE = original_base
        # The ORM ran in asgiref's worker thread: close its connection, or the test database
        # cannot be dropped at the end of the run.
        await sync_to_async(connections.close_all, thread_sensitive=True)()


async def join(emulator: Emulator, harness: BotHarness, username: str) -> nextcord.Member:
    """A new user joins the guild; returns the member as the bot's cache has it."""
    user = emulator.create_user(username)
    emulator.accept_invite(emulator.create_invite(max_uses=1).code, user.id)
    (member,) = await harness.log.wait("member_join", lambda m: m.id == int(user.id))
    return member


async def attribute(member: nextcord.Member, link_id: str) -> JoinOutcome:
    """Record the member's join as exact to `link_id` (what the tracking extension does)."""
    return await sync_to_async(record_join, thread_sensitive=True)(
        guild_id=defaults.GUILD_ID,
        member_id=str(member.id),
        username=member.name,
        joined_at=member.joined_at or timezone.now(),
        decision="exact",
        invite_code=f"code{member.id}"[-10:],
        link_id=link_id,
    )


@pytest.fixture
def six_field_campaign(campaign: Any) -> Any:
    """The campaign's form grown to six fields: a 5-input step and a 1-input step."""
    T = OnboardingField.FieldType
    for order, (key, label, kind, required, extra) in enumerate(
        [
            ("email", "Email", T.EMAIL, True, {}),
            ("age", "Age", T.NUMBER, True, {}),
            ("site", "Website", T.URL, False, {}),
            ("platform", "Platform", T.CHOICE, True, {"choices": ["PC", "Console"]}),
            ("bio", "About you", T.PARAGRAPH, False, {"max_length": 200}),
        ],
        start=1,
    ):
        OnboardingField.objects.create(
            campaign=campaign,
            key=key,
            label=label,
            field_type=kind,
            required=required,
            order=order,
            **extra,
        )
    return campaign
