"""Counters and invite assignment under concurrent load, proven on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from analytics.models import ReferralEvent
from referrals.invites import top_up_pool
from referrals.models import ManagedInvite
from tests.test_classify import WINDOWS_CHROME
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: set DATABASE_URL=postgres://… to run")


def in_parallel(count, fn, workers=20):
    def run(i):
        try:
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(run, range(count)))


def test_200_concurrent_first_visits_count_200_clicks(bob_link):
    def first_visit(_):
        return Client().get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)

    responses = in_parallel(200, first_visit)

    bob_link.refresh_from_db()
    assert [r.status_code for r in responses] == [200] * 200
    assert bob_link.clicks == 200
    assert ReferralEvent.objects.filter(event_type="click", is_unique=True).count() == 200


def test_50_concurrent_joins_on_one_link_get_50_different_invites(
    bob_link, discord_emulator, settings
):
    # Given a pool smaller than the crowd, so some visitors are served from the pool and the
    # rest by invites created on the spot
    settings.JOIN_RATE_LIMIT_PER_IP = (0, 60)
    bob_link.campaign.invite_pool_size = 20
    bob_link.campaign.save()
    top_up_pool(bob_link.campaign_id)

    def join(_):
        return Client().post(f"/r/{bob_link.referral_code}/join", HTTP_USER_AGENT=WINDOWS_CHROME)

    responses = in_parallel(50, join)

    locations = [r["Location"] for r in responses]
    assert [r.status_code for r in responses] == [302] * 50
    assert len(set(locations)) == 50
    assigned = ManagedInvite.objects.filter(status="assigned", referral_link=bob_link)
    assert assigned.count() == 50
    assert {i.discord_invite_url for i in assigned} == set(locations)


def test_a_visitors_concurrent_join_presses_get_one_invite(bob_link, discord_emulator, settings):
    # Given a visitor whose double-click (and more) sends several Join presses at once, with
    # a pool to draw from and a Discord slow enough that the presses overlap
    settings.JOIN_RATE_LIMIT_PER_IP = (0, 60)
    bob_link.campaign.referral_roles = "off"
    bob_link.campaign.save()
    top_up_pool(bob_link.campaign_id)
    discord_emulator.set_latency(100)
    cookie = "visitor-pressing-twice-0123"

    def press(_):
        client = Client()
        client.cookies["it_vid"] = cookie
        return client.post(f"/r/{bob_link.referral_code}/join", HTTP_USER_AGENT=WINDOWS_CHROME)

    responses = in_parallel(6, press, workers=6)

    # Then every press leads to the same invite, and only one was taken
    assert [r.status_code for r in responses] == [302] * 6
    assert len({r["Location"] for r in responses}) == 1
    assigned = ManagedInvite.objects.get(status="assigned")
    assert (assigned.visitor_id, assigned.discord_invite_url) == (cookie, responses[0]["Location"])


def test_200_concurrent_clicks_leave_one_rollup_row_per_key(bob_link):
    from analytics.models import DailyRollup
    from analytics.rollups import aggregate_events

    # Given no rollup row yet for today, so every request races to insert the same rows
    def first_visit(_):
        return Client().get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)

    in_parallel(200, first_visit)

    total = DailyRollup.objects.get(dimension="all", event_type="click")
    assert (total.count, total.unique_count) == (200, 200)
    live = {
        (r.day, r.campaign_id, r.link_id, r.event_type, r.dimension, r.value): [
            r.count,
            r.unique_count,
        ]
        for r in DailyRollup.objects.all()
    }
    assert live == aggregate_events()


def test_concurrent_top_ups_in_one_guild_never_pass_the_invite_cap(
    campaign, discord_emulator, settings
):
    from botworker.emulator import defaults as discord
    from campaigns.models import Campaign

    # Given two campaigns in one guild that want 10 invites between them, a cap of 5, and a
    # Discord slow enough that both top-ups have creations in flight at the same time
    settings.GUILD_INVITE_CAP = 5
    campaign.referral_roles = "off"
    campaign.invite_pool_size = 5
    campaign.save()
    other = Campaign.objects.create(
        campaign_name="Second launch",
        guild_id=campaign.guild_id,
        channel_id=campaign.channel_id,
        welcome_channel_id=campaign.welcome_channel_id,
        referral_roles="off",
        invite_pool_size=5,
    )
    discord_emulator.set_latency(150)

    # When both top up at once
    created = in_parallel(2, lambda i: top_up_pool([campaign, other][i].pk), workers=2)

    # Then the guild holds exactly the cap, in our records and on Discord; every invite that
    # lost the race is recorded as revoked and gone from Discord
    active = ManagedInvite.objects.filter(status__in=["pooled", "assigned"])
    assert active.count() == sum(created) == 5
    on_discord = {i["code"] for i in discord_emulator.invites(discord.GUILD_ID)}
    assert on_discord == set(active.values_list("discord_invite_code", flat=True))
    assert set(ManagedInvite.objects.exclude(pk__in=active).values_list("status", flat=True)) <= {
        "revoked"
    }


def test_the_invite_cap_check_waits_for_a_concurrent_creator(campaign, discord_emulator, settings):
    import threading

    from django.db import transaction

    from referrals.invites import InviteCapReached, create_invite
    from referrals.invites._pool import _lock_guild_invites

    # Given a creator that holds the guild's lock and has not yet committed the invites that
    # bring the guild to its cap
    settings.GUILD_INVITE_CAP = 2
    outcome = {}

    def second_creator():
        try:
            outcome["invite"] = create_invite(campaign)
        except InviteCapReached as refused:
            outcome["refused"] = str(refused)
        finally:
            connections.close_all()

    with transaction.atomic():
        _lock_guild_invites(campaign.guild_id)
        for n in range(2):
            ManagedInvite.objects.create(
                campaign=campaign,
                discord_invite_code=f"held{n}",
                discord_invite_url=f"https://discord.invalid/held{n}",
                guild_id=campaign.guild_id,
                channel_id=campaign.channel_id,
            )
        # When a second creator, who still sees a guild below its cap, makes an invite
        thread = threading.Thread(target=second_creator)
        thread.start()
        wait_until(lambda: advisory_lock_waiters() == 1, "the second creator waits on the lock")
    thread.join(timeout=30)

    # Then, once the first commits, the second counts again, refuses, and leaves no trace
    assert "already holds 2 managed invites" in outcome["refused"]
    assert ManagedInvite.objects.filter(status="pooled").count() == 2
    lost = ManagedInvite.objects.get(status="revoked")
    on_discord = {i["code"] for i in discord_emulator.invites(campaign.guild_id)}
    assert lost.discord_invite_code not in on_discord


def advisory_lock_waiters() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")
        return cursor.fetchone()[0]
