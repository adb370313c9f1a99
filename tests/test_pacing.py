"""The bot token's global rate limit, shared between the bot and the web app / Celery."""

import asyncio
import threading
import uuid

import pytest
from django.core.cache import caches

from botworker.bot import build_bot
from botworker.discord_rest import DiscordREST, pacing
from botworker.emulator import defaults as discord


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_it_never_lets_more_than_the_limit_through_in_any_window():
    clock = Clock()
    window = pacing.SlidingWindow(5, per=1.0, clock=clock)
    taken = []
    for step in range(400):  # uneven gaps: bursts, then pauses
        clock.now += 0.37 if step % 9 == 0 else 0.013
        if window.reserve() == 0.0:
            taken.append(clock.now)
    assert len(taken) > 50
    for i, start in enumerate(taken):
        within = [t for t in taken[i:] if t - start < 1.0]
        assert len(within) <= 5, f"{len(within)} sends within a second from {start}"


def test_it_says_when_the_oldest_slot_frees():
    clock = Clock()
    window = pacing.SlidingWindow(2, per=1.0, clock=clock)
    assert window.reserve() == 0.0
    clock.now += 0.25
    assert window.reserve() == 0.0
    clock.now += 0.25
    assert window.reserve() == pytest.approx(0.5)
    clock.now += 0.5
    assert window.reserve() == 0.0


def test_it_keeps_headroom_for_other_callers():
    clock = Clock()
    window = pacing.SlidingWindow(4, per=1.0, clock=clock)
    assert [window.reserve(headroom=1) for _ in range(3)] == [0.0, 0.0, 0.0]
    assert window.reserve(headroom=1) == pytest.approx(1.0)
    assert window.reserve() == 0.0
    clock.now += 0.5
    assert window.reserve() == pytest.approx(0.5)


def test_the_shares_add_up_to_the_global_rate(settings):
    settings.DISCORD_GLOBAL_RATE = 50
    settings.DISCORD_BOT_RATE_SHARE = 0.6
    assert pacing.shares() == (30, 20)
    settings.DISCORD_GLOBAL_RATE = 2
    settings.DISCORD_BOT_RATE_SHARE = 0.95
    assert pacing.shares() == (1, 1)


def test_rest_calls_in_the_bot_process_leave_the_bot_room_in_its_share(discord_emulator, settings):
    settings.DISCORD_GLOBAL_RATE = 10
    settings.DISCORD_BOT_RATE_SHARE = 0.6
    bot = build_bot(extensions=[])
    for _ in range(4):
        assert pacing.rest_reserve(discord.BOT_TOKEN) == 0.0
    assert pacing.rest_reserve(discord.BOT_TOKEN) > 0  # two of six kept for nextcord
    assert [bot.global_pace.reserve() for _ in range(3)][:2] == [0.0, 0.0]
    assert bot.global_pace.reserve() > 0


def test_interaction_answers_are_not_paced():
    assert pacing.exempt("/interactions/1/token/callback")
    assert pacing.exempt("/webhooks/1/token")
    assert not pacing.exempt("/channels/1/messages")


def test_processes_share_one_window_through_redis(settings):
    if not settings.REDIS_URL:
        pytest.skip("the shared window lives in Redis: set REDIS_URL=redis://… to run")
    # Two cache objects with their own connection pools stand for two processes.
    first, second = caches.create_connection("default"), caches.create_connection("default")
    key = f"test-window:{uuid.uuid4().hex}"
    waits = [
        (first if i % 2 else second).take_slot(key, 6, 5.0, uuid.uuid4().hex) for i in range(12)
    ]
    assert waits[:6] == [0.0] * 6
    assert all(0 < wait <= 5.0 for wait in waits[6:])


@pytest.fixture
def strict_global_limit(discord_emulator, settings, monkeypatch):
    """The local Discord allows the token 10 requests per second; the app is told 8, the
    margin a loaded machine needs between taking a slot and the request's arrival (CI runs two
    suites on two cores)."""
    monkeypatch.setattr(pacing, "_local", {})
    settings.DISCORD_GLOBAL_RATE = 8
    settings.DISCORD_BOT_RATE_SHARE = 0.5
    faults = discord_emulator.emulator.faults
    before = faults.global_rate
    discord_emulator.call(setattr, faults, "global_rate", 10)
    yield faults
    discord_emulator.call(setattr, faults, "global_rate", before)


def test_the_bot_and_the_web_app_together_never_earn_a_global_429(
    discord_emulator, strict_global_limit, monkeypatch
):
    # Given the bot and a web process, each with several times its share to send at once
    bot = build_bot(extensions=[])
    monkeypatch.setattr(pacing, "_process_window", None)  # the web app: another process
    rest = DiscordREST(discord_emulator.api_base, discord.BOT_TOKEN, timeout=5)
    rest_results: list[object] = []

    def web() -> None:
        for _ in range(15):
            rest_results.append(len(rest.guild_roles(discord.GUILD_ID)))

    async def bot_calls() -> list[object]:
        await bot.login(discord.BOT_TOKEN)
        try:
            return await asyncio.gather(
                *(bot.http.get_roles(int(discord.GUILD_ID)) for _ in range(15))
            )
        finally:
            await bot.http.close()

    # When both send together
    thread = threading.Thread(target=web)
    thread.start()
    bot_results = asyncio.run(bot_calls())
    thread.join(30)

    # Then every call succeeded and Discord refused none
    assert len(rest_results) == 15 and len(bot_results) == 15
    assert sum(strict_global_limit.refusals.values()) == 0, strict_global_limit.refusals
