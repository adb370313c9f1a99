"""Hand-built events for the analytics tests, written through the ORM at chosen times."""

from datetime import datetime, time, timedelta

from django.utils import timezone

from analytics.management.commands.demo_activity import clock
from analytics.models import DailyRollup, ReferralEvent


def noon(days_ago: int = 0) -> datetime:
    day = timezone.localdate() - timedelta(days=days_ago)
    return timezone.make_aware(datetime.combine(day, time(12)))


def event(event_type: str, link=None, *, at: datetime | None = None, campaign=None, **fields):
    """One event as the product would write it (so rollups update on write)."""
    if campaign is None and link is not None:
        campaign = link.campaign
    with clock(at or noon()):
        return ReferralEvent.objects.create(
            event_type=event_type, link=link, campaign=campaign, **fields
        )


def click(
    link,
    *,
    unique=True,
    device="mobile",
    browser="Chrome Mobile",
    os="Android",
    referrer="",
    utm_source="",
    at=None,
):
    metadata = {"utm": {"utm_source": utm_source}} if utm_source else {}
    return event(
        "click",
        link,
        at=at,
        is_unique=unique,
        device_type=device,
        browser=browser,
        os=os,
        referrer=referrer,
        metadata=metadata,
    )


def join(link=None, *, decision="exact", campaign=None, member="1", at=None):
    return event(
        "discord_join",
        link,
        at=at,
        campaign=campaign,
        discord_user_id=member,
        metadata={"guild_id": "1", "decision": decision},
    )


def journey(bob_link, charlie_link, campaign):
    """The reference set the report tests check by hand (see tests/test_reports.py)."""
    yesterday = noon(1)
    click(
        bob_link,
        device="mobile",
        browser="Mobile Safari",
        os="iOS",
        referrer="https://www.youtube.com/watch?v=1",
        utm_source="yt",
        at=yesterday,
    )
    click(
        bob_link,
        unique=False,
        device="mobile",
        browser="Mobile Safari",
        os="iOS",
        referrer="https://www.youtube.com/watch?v=1",
        utm_source="yt",
        at=yesterday,
    )
    click(bob_link, device="desktop", browser="Chrome", os="Windows")
    event("preview", bob_link, device_type="bot")
    join(bob_link, decision="exact", member="101")
    event("onboarding_start", bob_link, discord_user_id="101")
    event("conversion", bob_link, discord_user_id="101")
    click(charlie_link, referrer="https://t.co/abc", utm_source="twitter")
    join(charlie_link, decision="link", member="102")
    join(None, decision="organic", member="103")
    join(None, decision="ambiguous", campaign=campaign, member="104")


def rollup_table() -> dict:
    """The rollup rows as `rollups.aggregate_events()` states them: key → [count, unique]."""
    return {
        (r.day, r.campaign_id, r.link_id, r.event_type, r.dimension, r.value): [
            r.count,
            r.unique_count,
        ]
        for r in DailyRollup.objects.all()
    }
