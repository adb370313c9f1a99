"""OAuth joins seen by the real bot: recorded once (by the web app or the bot, whichever is
first), welcomed once, and kept out of invite attribution."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError, connection, connections
from django.test import Client
from emulator_fixtures import EventLog

from analytics import oauth_joins
from analytics.models import ReferralEvent
from botworker.emulator import defaults
from campaigns.models import JoinMethod
from tests.oauth_support import join_with_discord

from .helpers import give_invite, stop_bot

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def oauth_campaign(tracked_campaign):
    tracked_campaign.join_method = JoinMethod.BOTH
    tracked_campaign.save(update_fields=["join_method"])
    return tracked_campaign


def joins() -> list[ReferralEvent]:
    return list(ReferralEvent.objects.filter(event_type=ReferralEvent.EventType.DISCORD_JOIN))


async def oauth_join(emu, link, user_id: str) -> None:
    """A visitor goes through "Join with Discord". On PostgreSQL the web app runs on its own
    thread, racing the bot for real; SQLite's in-memory test database fails concurrent writers
    at once ("table is locked"), so there it shares the bot's database thread."""
    if connection.vendor == "sqlite":
        response = await sync_to_async(join_with_discord)(Client(), emu, link, user_id)
    else:
        response = await asyncio.to_thread(_on_own_thread, emu, link, user_id)
    assert response.status_code == 302, response.content[:300]


def _on_own_thread(emu, link, user_id: str):
    try:
        return join_with_discord(Client(), emu, link, user_id)
    finally:
        connections.close_all()  # or PostgreSQL cannot drop the test database at the end


async def test_it_records_an_oauth_join_once_and_welcomes_it_like_an_invite_join(
    discord_emulator, run_bot, oauth_campaign, bob_link
):
    # given a running bot
    bot, log = await run_bot()
    welcomes = EventLog(bot, ("welcome_sent",))
    hana = discord_emulator.create_user("hana")

    # when a visitor of bob's link joins with Discord
    await oauth_join(discord_emulator, bob_link, hana.id)

    # then the bot links its GUILD_MEMBER_ADD to the OAuth join: one exact/oauth join
    await log.wait("join_recorded", lambda g, m, o: m == hana.id)
    (event,) = await sync_to_async(joins)()
    assert (event.discord_user_id, event.link_id) == (hana.id, bob_link.pk)
    assert (event.metadata["decision"], event.metadata["source"]) == ("exact", "oauth")
    # and welcomes the member in the welcome channel, with the onboarding button
    member, welcome, where = await welcomes.wait("welcome_sent", timeout=10)
    assert str(member.id) == hana.id and where == defaults.WELCOME_CHANNEL_ID
    (posted,) = [
        m
        for m in discord_emulator.messages(defaults.WELCOME_CHANNEL_ID)
        if f"<@{hana.id}>" in m["content"]
    ]
    assert posted["components"]


async def test_it_welcomes_an_oauth_join_once_when_discord_repeats_the_member_add(
    discord_emulator, run_bot, oauth_campaign, bob_link
):
    # given a member who joined with Discord and was welcomed
    bot, log = await run_bot()
    hana = discord_emulator.create_user("hana")
    await oauth_join(discord_emulator, bob_link, hana.id)
    await log.wait("member_attributed", lambda member, outcome: str(member.id) == hana.id)

    # when Discord sends GUILD_MEMBER_ADD for them again
    discord_emulator.duplicate_member_add(hana.id)

    # then nothing more is recorded, and no second welcome
    await log.wait("join_recorded", lambda g, m, o: m == hana.id, count=2)
    assert len(await sync_to_async(joins)()) == 1
    assert len(log.events["member_attributed"]) == 1


async def test_an_oauth_join_in_a_burst_leaves_the_invite_joins_exact(
    discord_emulator, run_bot, oauth_campaign, bob_link, charlie_link
):
    # given a running bot and an invite handed to a visitor of charlie's link
    bot, log = await run_bot()
    code = await give_invite(charlie_link, "visitor-c")
    hana = discord_emulator.create_user("hana")

    # when one visitor joins through the invite while another joins with Discord
    invited = discord_emulator.accept_invite(code)
    await oauth_join(discord_emulator, bob_link, hana.id)

    # then each join is credited exactly, to its own link
    await log.wait("join_recorded", count=2)
    recorded = {e.discord_user_id: e for e in await sync_to_async(joins)()}
    assert recorded[invited.user_id].metadata["decision"] == "exact"
    assert recorded[invited.user_id].link_id == charlie_link.pk
    assert recorded[hana.id].metadata["source"] == "oauth"
    assert recorded[hana.id].link_id == bob_link.pk


def _welcomes_for(emu, member_id: str) -> list[dict]:
    return [
        m for m in emu.messages(defaults.WELCOME_CHANNEL_ID) if f"<@{member_id}>" in m["content"]
    ]


async def _welcome_posted(emu, member_id: str) -> list[dict]:
    """The welcome messages for the member, once there is one (polled, with a deadline)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 10
    while not (posted := _welcomes_for(emu, member_id)) and loop.time() < deadline:
        await asyncio.sleep(0.02)
    return posted


async def test_an_oauth_join_made_while_the_bot_is_offline_is_welcomed_once_at_start(
    discord_emulator, run_bot, oauth_campaign, bob_link
):
    # given a bot that took its snapshot and was stopped
    bot, _ = await run_bot()
    await stop_bot(bot)

    # when a visitor of bob's link joins with Discord meanwhile (the web app records it)
    hana = discord_emulator.create_user("hana")
    await oauth_join(discord_emulator, bob_link, hana.id)
    # and the bot starts again
    bot, log = await run_bot()

    # then the OAuth join is linked, kept out of invite attribution, and welcomed
    attributed, outcome = await log.wait("member_attributed", timeout=10)
    assert str(attributed.id) == hana.id and outcome.welcome is not None
    assert len(await _welcome_posted(discord_emulator, hana.id)) == 1
    (event,) = await sync_to_async(joins)()
    assert (event.metadata["source"], event.link_id) == ("oauth", bob_link.pk)

    # and when the bot restarts once more, nobody is welcomed again
    await stop_bot(bot)
    _, log = await run_bot()
    assert log.events["member_attributed"] == []
    assert len(_welcomes_for(discord_emulator, hana.id)) == 1
    assert len(await sync_to_async(joins)()) == 1


async def test_an_oauth_join_the_bot_cannot_link_yet_stays_out_of_invite_attribution(
    discord_emulator, run_bot, oauth_campaign, bob_link, charlie_link, monkeypatch, settings
):
    # given a running bot whose first attempt to link an OAuth join fails (database error)
    settings.BOT_RECORD_RETRY_SECONDS = 0.05
    real, failed = oauth_joins.record_oauth_join, []

    def record_oauth_join(**kwargs):
        if not failed:
            failed.append(kwargs["member_id"])
            raise OperationalError("server closed the connection unexpectedly")
        return real(**kwargs)

    monkeypatch.setattr(oauth_joins, "record_oauth_join", record_oauth_join)
    bot, log = await run_bot()
    code = await give_invite(charlie_link, "visitor-c")
    hana = discord_emulator.create_user("hana")

    # when one visitor joins with Discord while another joins through an invite
    await oauth_join(discord_emulator, bob_link, hana.id)
    invited = discord_emulator.accept_invite(code)

    # then the OAuth join is linked once the database answers, and welcomed
    *_, outcome = await log.wait("join_recorded", lambda g, m, o: m == hana.id, timeout=10)
    assert failed == [hana.id] and outcome.decision == "exact"
    await log.wait("member_attributed", lambda member, o: str(member.id) == hana.id)
    # and the invite join is still exact, through charlie's invite
    await log.wait("join_recorded", lambda g, m, o: m == invited.user_id, timeout=10)
    recorded = {e.discord_user_id: e for e in await sync_to_async(joins)()}
    assert recorded[invited.user_id].metadata["decision"] == "exact"
    assert recorded[invited.user_id].link_id == charlie_link.pk
    assert (recorded[hana.id].metadata["source"], recorded[hana.id].link_id) == (
        "oauth",
        bob_link.pk,
    )
    assert len([e for e in log.events["join_recorded"] if e[1] == hana.id]) == 1
