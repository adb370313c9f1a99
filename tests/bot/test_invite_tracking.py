"""Attribution of live joins by the real bot: exact, bursts, INVITE_DELETE order, duplicates."""

from __future__ import annotations

import asyncio

import pytest
from asgiref.sync import sync_to_async
from django.contrib.auth import get_user_model

from analytics.models import ReferralEvent
from botworker.emulator import defaults
from botworker.emulator import permissions as perms
from referrals.models import ManagedInvite, ReferralLink

from .helpers import give_invite

pytestmark = pytest.mark.django_db(transaction=True)


def joins() -> dict[str, ReferralEvent]:
    events = ReferralEvent.objects.filter(event_type=ReferralEvent.EventType.DISCORD_JOIN)
    return {e.discord_user_id: e for e in events}


async def recorded_joins() -> dict[str, ReferralEvent]:
    return await sync_to_async(joins)()


def invite_list_calls(emu) -> int:
    return sum(
        n
        for route, n in emu.calls.items()
        if route.startswith("GET /guilds/") and route.endswith("/invites")
    )


async def test_it_attributes_one_visitor_exactly(
    discord_emulator, run_bot, tracked_campaign, bob_link
):
    # given a running bot and an invite handed to one visitor of bob's link
    bot, log = await run_bot()
    code = await give_invite(bob_link, "visitor-1")

    # when the visitor accepts it on Discord
    member = discord_emulator.accept_invite(code)

    # then the join is recorded as exact, for that invite and bob's link
    await log.wait("join_recorded", lambda g, m, o: m == member.user_id)
    event = (await recorded_joins())[member.user_id]
    assert event.metadata["decision"] == "exact"
    assert event.metadata["invite_code"] == code
    assert event.link_id == bob_link.pk
    # and the managed invite is marked used by that member
    invite = await ManagedInvite.objects.aget(discord_invite_code=code)
    assert invite.status == ManagedInvite.Status.USED
    assert invite.used_by_discord_user_id == member.user_id
    # and the onboarding extension was told about the new member
    (attributed, outcome) = await log.wait("member_attributed")
    assert str(attributed.id) == member.user_id and outcome.link_id == str(bob_link.pk)


def _links(campaign, count: int) -> list[ReferralLink]:
    influencer = get_user_model().objects.create_user("dora", "dora@example.com", "dora-pw-1")
    return [
        ReferralLink.objects.create(
            campaign=campaign, influencer=influencer, title=f"Link {n}", platform="youtube"
        )
        for n in range(count)
    ]


async def _burst(emu, codes: list[str]) -> list[str]:
    """Every code accepted by a new user, back to back, while the bot keeps running."""

    def accept_all() -> list[str]:
        return [emu.accept_invite(code).user_id for code in codes]

    return await asyncio.to_thread(accept_all)


def _assert_none_wrong(emu, recorded: dict[str, ReferralEvent], allowed: set[str]) -> None:
    managed = dict(ManagedInvite.objects.values_list("discord_invite_code", "referral_link_id"))
    truth = {t["user_id"]: t["invite_code"] for t in emu.ground_truth() if t["via"] == "invite"}
    for member_id, event in recorded.items():
        decision = event.metadata["decision"]
        assert decision in allowed, (member_id, decision)
        if decision == "exact":
            assert event.metadata["invite_code"] == truth[member_id]
        if decision in ("exact", "link"):
            assert event.link_id == managed[truth[member_id]]


async def test_it_never_credits_a_wrong_link_in_a_burst_through_50_links(
    discord_emulator, run_bot, tracked_campaign
):
    # given 50 links with one visitor's invite each, and a running bot
    links = await sync_to_async(_links)(tracked_campaign, 50)
    codes = [await give_invite(link, f"visitor-{n}") for n, link in enumerate(links)]
    bot, log = await run_bot()
    fetches_before = invite_list_calls(discord_emulator)

    # when 50 members join within one second, one through each invite
    members = await _burst(discord_emulator, codes)

    # then every join is recorded, exact or ambiguous, and none is credited wrongly
    await log.wait("join_recorded", count=50, timeout=20)
    recorded = await recorded_joins()
    assert set(recorded) == set(members)
    await sync_to_async(_assert_none_wrong)(discord_emulator, recorded, {"exact", "ambiguous"})
    # and the invite list was fetched far fewer times than there were joins
    assert invite_list_calls(discord_emulator) - fetches_before <= 10


async def test_it_credits_a_burst_through_one_link_to_that_link(
    discord_emulator, run_bot, tracked_campaign, bob_link
):
    # given 50 invites handed to visitors of bob's link, and a running bot
    codes = [await give_invite(bob_link, f"visitor-{n}") for n in range(50)]
    bot, log = await run_bot()

    # when 50 members join within one second through them
    members = await _burst(discord_emulator, codes)

    # then every join is credited to bob's link
    await log.wait("join_recorded", count=50, timeout=20)
    recorded = await recorded_joins()
    assert set(recorded) == set(members)
    assert {e.link_id for e in recorded.values()} == {bob_link.pk}
    await sync_to_async(_assert_none_wrong)(discord_emulator, recorded, {"exact", "link"})


@pytest.mark.parametrize("order", ["before", "after"])
async def test_it_attributes_the_same_whichever_comes_first_invite_delete_or_member_add(
    discord_emulator, run_bot, tracked_campaign, bob_link, charlie_link, order
):
    # given a running bot and one invite each for bob's and charlie's visitors
    bot, log = await run_bot()
    bob_code = await give_invite(bob_link, "visitor-b")
    charlie_code = await give_invite(charlie_link, "visitor-c")
    discord_emulator.set_invite_delete_order(order)

    # when bob's visitor joins (INVITE_DELETE before/after GUILD_MEMBER_ADD), then charlie's
    first = discord_emulator.accept_invite(bob_code)
    await log.wait("join_recorded", lambda g, m, o: m == first.user_id)
    second = discord_emulator.accept_invite(charlie_code)
    await log.wait("join_recorded", lambda g, m, o: m == second.user_id)

    # then each join is exact, credited to its own link
    recorded = await recorded_joins()
    assert recorded[first.user_id].metadata["decision"] == "exact"
    assert recorded[first.user_id].link_id == bob_link.pk
    assert recorded[second.user_id].metadata["decision"] == "exact"
    assert recorded[second.user_id].link_id == charlie_link.pk


async def test_it_records_an_unmanaged_invite_as_organic(
    discord_emulator, run_bot, tracked_campaign
):
    # given a running bot and an invite someone made by hand
    bot, log = await run_bot()
    invite = discord_emulator.create_invite(max_uses=0)

    # when a member joins through it
    member = discord_emulator.accept_invite(invite.code)

    # then the join is organic: recorded, credited to no link
    await log.wait("join_recorded", lambda g, m, o: m == member.user_id)
    event = (await recorded_joins())[member.user_id]
    assert event.metadata["decision"] == "organic" and event.link_id is None


async def test_it_records_joins_as_unknown_when_invites_cannot_be_listed(
    discord_emulator, run_bot, tracked_campaign, bob_link, caplog
):
    # given a bot whose role lacks Manage Guild (it cannot list invites)
    def revoke() -> None:
        guild = discord_emulator.world.guilds[defaults.GUILD_ID]
        guild.roles[defaults.BOT_ROLE_ID].permissions &= ~perms.MANAGE_GUILD

    discord_emulator.call(revoke)
    bot, log = await run_bot(wait_snapshot=False)
    code = await give_invite(bob_link, "visitor-1")

    # when a visitor joins
    member = discord_emulator.accept_invite(code)

    # then the join is still recorded, as unknown, and the log says why
    await log.wait("join_recorded", lambda g, m, o: m == member.user_id)
    event = (await recorded_joins())[member.user_id]
    assert event.metadata["decision"] == "unknown" and event.link_id is None
    assert "invite list not fetched (HTTP 403" in caplog.text
    assert "needs Manage Guild" in caplog.text
