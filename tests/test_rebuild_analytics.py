"""`manage.py rebuild_analytics`: rollups and link counters from the event log."""

from io import StringIO

from django.core.management import call_command

from analytics.models import DailyRollup, ReferralEvent
from tests.analytics_support import click


def test_it_rebuilds_rollups_and_counters(bob_link):
    click(bob_link)
    # Written without signals, as a bulk import would: the rollups miss it until a rebuild.
    ReferralEvent.objects.bulk_create(
        [
            ReferralEvent(
                link=bob_link, campaign=bob_link.campaign, event_type="click", is_unique=True
            )
        ]
    )
    assert DailyRollup.objects.get(dimension="all").unique_count == 1

    out = StringIO()
    call_command("rebuild_analytics", stdout=out)

    assert DailyRollup.objects.get(dimension="all").unique_count == 2
    bob_link.refresh_from_db()
    assert bob_link.clicks == 2
    assert "corrected 1 link counters" in out.getvalue()
