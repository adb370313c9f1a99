"""Writing landing-page events to the database: one statement per table for any number of them.

`store` is shared by both ways a click arrives: one at a time, written as the request happens
(`record_direct`, the embedded defaults), or in batches drained from the Redis buffer. It is
idempotent by event id, so a batch written twice counts once.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Case, F, IntegerField, Value, When
from django.utils import timezone

from analytics import bulk
from analytics.models import ReferralEvent
from referrals.models import ReferralLink


def store(events: list[ReferralEvent]) -> list[ReferralEvent]:
    """Write the events whose ids are not stored yet, and count exactly those: one INSERT for
    the events, one UPDATE for the links' `clicks`, one upsert for the rollups.

    Runs in one transaction (the caller's, or its own): the events and their counts commit
    together or not at all, and events written by an earlier run are neither written nor
    counted again.
    """
    with transaction.atomic():
        return _write(events)


def _write(events: list[ReferralEvent]) -> list[ReferralEvent]:
    new_ids = bulk.insert_new(events)
    new = [event for event in events if event.pk in new_ids]
    _count_unique_clicks(new)
    bulk.written(new)
    return new


def record_direct(event: ReferralEvent, *, check_unique: bool) -> ReferralEvent:
    """Write one landing-page event now, deciding whether a click is unique race-free.

    With `check_unique`, the click is unique unless the visitor made a counted click on the link
    within the dedupe window. Two first requests carrying the same cookie must not both see "no
    earlier click": on PostgreSQL they queue on a transaction-scoped advisory lock for (link,
    visitor), so the second checks after the first has committed; SQLite's IMMEDIATE
    transactions (config/settings.py) already let one writer in at a time.
    """
    with transaction.atomic():
        if check_unique:
            if connection.vendor == "postgresql":
                with connection.cursor() as cursor:
                    cursor.execute(
                        "SELECT pg_advisory_xact_lock(%s)",
                        [_lock_id(event.link_id, event.visitor_id)],
                    )
            event.is_unique = first_visit_in_window(event.link_id, event.visitor_id)
        _write([event])
    return event


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


def _lock_id(link_id, visitor_id: str) -> int:
    digest = hashlib.blake2b(f"click:{link_id}:{visitor_id}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _count_unique_clicks(events: list[ReferralEvent]) -> None:
    """One UPDATE adds each link's unique clicks of the batch to its `clicks` counter."""
    per_link = Counter(
        event.link_id
        for event in events
        if event.event_type == ReferralEvent.EventType.CLICK and event.is_unique
    )
    if not per_link:
        return
    links = sorted(per_link, key=str)
    if len(links) == 1:
        increment = Value(per_link[links[0]])
    else:
        increment = Case(
            *(When(pk=link_id, then=Value(per_link[link_id])) for link_id in links),
            default=Value(0),
            output_field=IntegerField(),
        )
    ReferralLink.objects.filter(pk__in=links).update(clicks=F("clicks") + increment)
