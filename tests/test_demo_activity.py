"""`manage.py demo_activity`: every chart of the demo has data, and a rerun adds nothing."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics import reports, rollups
from analytics.models import Conversion, DailyRollup, OnboardingSession, ReferralEvent
from referrals.models import ReferralLink


@pytest.fixture
def demo(db, settings):
    settings.DEBUG = True
    call_command("demo_data", stdout=StringIO())


def test_it_fills_every_chart(demo, alice):
    call_command("demo_activity", "--days", "10", stdout=StringIO())

    r = reports.report(alice, reports.Filters.last(10))
    f = r.funnel
    assert min(f.clicks, f.unique_clicks, f.previews, f.joins, f.starts, f.conversions) > 0
    assert f.clicks > f.unique_clicks
    assert all(shares for _, _, shares in r.breakdowns)
    assert {s.label for s in r.attribution} >= {"Exact", "Organic"}
    assert sum(1 for n in r.series["click"] if n) >= 5
    assert len(r.leaderboard.influencers) == 3


def test_it_adds_nothing_the_second_time(demo):
    call_command("demo_activity", "--days", "3", stdout=StringIO())
    events = ReferralEvent.objects.count()
    out = StringIO()
    call_command("demo_activity", "--days", "3", stdout=out)
    assert ReferralEvent.objects.count() == events
    assert "0 events added" in out.getvalue()


def test_it_keeps_rollups_and_counters_true(demo):
    call_command("demo_activity", "--days", "3", stdout=StringIO())
    live = {
        (r.day, r.campaign_id, r.link_id, r.event_type, r.dimension, r.value): [
            r.count,
            r.unique_count,
        ]
        for r in DailyRollup.objects.all()
    }
    assert live == rollups.aggregate_events()
    for link in ReferralLink.objects.all():
        events = ReferralEvent.objects.filter(link=link)
        assert link.clicks == events.filter(event_type="click", is_unique=True).count()
        assert link.conversions == events.filter(event_type="conversion").count()


def test_it_writes_nothing_in_the_future(demo):
    # given the demo runs today, when today's visits may reach the current minute
    call_command("demo_activity", "--days", "2", stdout=StringIO())

    # then every event, session and conversion is dated now or earlier
    now = timezone.now()
    assert ReferralEvent.objects.filter(created_at__date=now.date()).exists()
    assert not ReferralEvent.objects.filter(created_at__gt=now).exists()
    assert not Conversion.objects.filter(created_at__gt=now).exists()
    assert not OnboardingSession.objects.filter(created_at__gt=now).exists()
    assert not OnboardingSession.objects.filter(completed_at__gt=now).exists()


def test_it_needs_the_demo_campaign(db):
    with pytest.raises(CommandError, match="demo_data"):
        call_command("demo_activity", stdout=StringIO())


@pytest.mark.parametrize("days", ["-5", "0", "91", "99999999999999999999", "a week"])
def test_it_refuses_a_number_of_days_it_would_not_honour(db, days):
    with pytest.raises(CommandError, match="--days"):
        call_command("demo_activity", "--days", days)
