"""Recording events: each write is the event row plus its counter, in one transaction."""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from analytics.models import ReferralEvent
from referrals.classify import CLICK, Visit
from referrals.models import ReferralLink

UTM_KEYS = ("utm_source", "utm_medium", "utm_campaign", "utm_term", "utm_content")
MAX_UTM = 200
MAX_REFERRER = 1024


def utm_parameters(query) -> dict[str, str]:
    """The UTM parameters present in a query dict, each bounded in length."""
    return {key: query[key][:MAX_UTM] for key in UTM_KEYS if query.get(key)}


def first_visit_in_window(link_id, visitor_id: str) -> bool:
    """True unless this visitor already made a counted click on the link within
    CLICK_DEDUPE_SECONDS. The event log is the record, so the answer survives restarts and is
    the same in every process; a visitor without the cookie is always new."""
    window = settings.CLICK_DEDUPE_SECONDS
    if window == 0 or not visitor_id:
        return True
    return not ReferralEvent.objects.filter(
        link_id=link_id,
        visitor_id=visitor_id,
        event_type=ReferralEvent.EventType.CLICK,
        is_unique=True,
        created_at__gte=timezone.now() - timedelta(seconds=window),
    ).exists()


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
) -> ReferralEvent:
    """Record a landing-page request as a `click` (a person) or a `preview` (a bot).

    A unique click — the visitor's first within the dedupe window — also bumps the link's
    `clicks` counter with an F() update in the same transaction, so the counter always equals
    the number of unique click events.
    """
    is_click = visit.kind == CLICK
    unique = is_click and first_visit_in_window(link.pk, visitor_id)
    with transaction.atomic():
        event = ReferralEvent.objects.create(
            link=link,
            campaign_id=link.campaign_id,
            event_type=ReferralEvent.EventType.CLICK
            if is_click
            else ReferralEvent.EventType.PREVIEW,
            user_agent=user_agent[:512],
            ip_address=ip_address,
            ip_hash=ip_hash,
            referrer=referrer[:MAX_REFERRER],
            device_type=visit.device_type,
            browser=visit.browser,
            os=visit.os,
            visitor_id=visitor_id,
            is_unique=unique,
            metadata={"utm": utm} if utm else {},
        )
        if unique:
            ReferralLink.objects.filter(pk=link.pk).update(clicks=F("clicks") + 1)
    return event
