"""Counters and invite assignment under concurrent load, proven on PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, connections
from django.test import Client

from analytics.models import ReferralEvent
from referrals.invites import top_up_pool
from referrals.models import ManagedInvite
from tests.test_classify import WINDOWS_CHROME

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
