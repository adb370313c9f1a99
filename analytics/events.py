"""Recording events: each write is the event row plus its counter, in one transaction (landing
visits: analytics.clicks, buffered or direct)."""

from django.conf import settings
from django.utils import timezone

from analytics import clicks
from analytics.models import ReferralEvent
from referrals.classify import CLICK, Visit
from referrals.models import ReferralLink

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_UTM = 200
MAX_REFERRER = 1024


def utm_parameters(query) -> dict[str, str]:
    """The UTM parameters present in a query dict, each bounded in length."""
    found = {key: storable(query[key], MAX_UTM) for key in UTM_KEYS if query.get(key)}
    return {key: value for key, value in found.items() if value}


def storable(value: str, limit: int) -> str:
    """`value` without NUL characters (PostgreSQL's text cannot hold them: one in a header or
    a query string would lose the click), cut to `limit`."""
    return value.replace("\x00", "")[:limit]


def record_landing_visit(
    link: ReferralLink,
    visit: Visit,
    *,
    visitor_id: str,
    user_agent: str,
    referrer: str,
    ip_address: str | None,
    ip_hash: str,
    utm: dict[str, str],
    new_visitor: bool = False,
) -> ReferralEvent:
    """Record a landing-page request as a `click` (a person) or a `preview` (a bot).

    A unique click — the visitor's first within the dedupe window — also counts in the link's
    `clicks`; see analytics.clicks for how (buffered or direct) and why the counter always
    equals the number of unique click events. The returned event may not be in the database
    yet (buffered): it carries its id, time and whether it was counted as unique.
    `new_visitor`: the visitor id was made for this request, so it has no history to check.
    """
    is_click = visit.kind == CLICK
    if not is_click:
        uniqueness = clicks.NEVER
    elif settings.CLICK_DEDUPE_SECONDS == 0 or not visitor_id:
        uniqueness = clicks.ALWAYS
    else:
        uniqueness = clicks.ONCE
    event = ReferralEvent(
        link_id=link.pk,
        campaign_id=link.campaign_id,
        event_type=ReferralEvent.EventType.CLICK if is_click else ReferralEvent.EventType.PREVIEW,
        user_agent=storable(user_agent, 512),
        ip_address=ip_address,
        ip_hash=ip_hash,
        referrer=storable(referrer, MAX_REFERRER),
        device_type=visit.device_type,
        browser=visit.browser,
        os=visit.os,
        visitor_id=visitor_id,
        metadata={"utm": utm} if utm else {},
        created_at=timezone.now(),
    )
    return clicks.record(event, uniqueness=uniqueness, new_visitor=new_visitor)
