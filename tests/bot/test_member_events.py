"""Duplicate GUILD_MEMBER_ADD, rejoins and GUILD_MEMBER_REMOVE, through the real bot."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async

from analytics.models import ReferralEvent

from .helpers import give_invite

pytestmark = pytest.mark.django_db(transaction=True)

JOIN, LEAVE = ReferralEvent.EventType.DISCORD_JOIN, ReferralEvent.EventType.LEAVE


def _events(kind: str, member_id: str) -> list[ReferralEvent]:
    return list(ReferralEvent.objects.filter(event_type=kind, discord_user_id=member_id))


async def test_it_records_one_join_for_a_duplicated_member_add(
    discord_emulator, run_bot, tracked_campaign, bob_link
):
    # given a member whose join the bot recorded
    bot, log = await run_bot()
    member = discord_emulator.accept_invite(await give_invite(bob_link, "visitor-1")).user_id
    await log.wait("join_recorded")

    # when Discord sends GUILD_MEMBER_ADD for them again, then another member joins
    discord_emulator.duplicate_member_add(member)
    other = discord_emulator.accept_invite(await give_invite(bob_link, "visitor-2")).user_id
    await log.wait("join_recorded", lambda g, m, o: m == other)

    # then there is still one join record for the first, and the second is unharmed
    assert len(await sync_to_async(_events)(JOIN, member)) == 1
    (second,) = await sync_to_async(_events)(JOIN, other)
    assert second.metadata["decision"] == "exact" and second.link_id == bob_link.pk
    assert len(log.events["member_attributed"]) == 2


async def test_it_records_a_leave(discord_emulator, run_bot, tracked_campaign, bob_link):
    # given a member whose join the bot recorded
    bot, log = await run_bot()
    member = discord_emulator.accept_invite(await give_invite(bob_link, "visitor-1")).user_id
    await log.wait("join_recorded")

    # when they leave the guild
    discord_emulator.remove_member(member)

    # then a `leave` event is recorded, credited to the link of their join
    await log.wait("leave_recorded")
    (leave,) = await sync_to_async(_events)(LEAVE, member)
    assert leave.link_id == bob_link.pk


async def test_it_records_a_rejoin_as_such(discord_emulator, run_bot, tracked_campaign, bob_link):
    # given a member who joined and left
    bot, log = await run_bot()
    member = discord_emulator.accept_invite(await give_invite(bob_link, "visitor-1")).user_id
    await log.wait("join_recorded")
    discord_emulator.remove_member(member)
    await log.wait("leave_recorded")

    # when they join again through another invite of the link
    discord_emulator.accept_invite(await give_invite(bob_link, "visitor-1b"), member)

    # then the second join is recorded as a rejoin, with no new welcome
    await log.wait("join_recorded", count=2)
    joins = await sync_to_async(_events)(JOIN, member)
    assert sorted(j.metadata["rejoin"] for j in joins) == [False, True]
    outcome = log.events["join_recorded"][-1][2]
    assert outcome.rejoin and outcome.welcome is None
