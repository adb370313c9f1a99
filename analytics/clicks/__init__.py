"""Recording landing-page visits (clicks and previews) at the cost of one write.

With Redis configured (REDIS_URL, CLICK_BUFFER on by default then) a visit is one round trip to
a Redis stream and `drain_clicks_task` (Celery beat, every CLICK_DRAIN_SECONDS) moves the stream
into the database in batches; if Redis cannot take a visit, it is written directly instead. On
the embedded defaults it is written directly, in one transaction with one statement per table.
Either way the events table is the record: `referral_links.clicks` and the daily rollups equal
what the events say once the buffer is drained (`manage.py rebuild_analytics` recomputes both).
"""

from __future__ import annotations

import logging

import redis
from django.conf import settings

from analytics.clicks import _buffer, _store
from analytics.clicks._buffer import BufferStatus
from analytics.models import ReferralEvent

__all__ = ["BufferStatus", "buffering", "drain", "record", "status"]

log = logging.getLogger(__name__)

ALWAYS, NEVER, ONCE = "always", "never", "once"


def buffering() -> bool:
    return bool(settings.CLICK_BUFFER and settings.REDIS_URL)


def record(event: ReferralEvent, *, uniqueness: str, new_visitor: bool = False) -> ReferralEvent:
    """Record an unsaved landing-page event. `uniqueness`: ALWAYS (a click without a visitor
    id, or no dedupe window), NEVER (a preview) or ONCE (a click that is unique unless the
    visitor made a counted click on the link within CLICK_DEDUPE_SECONDS). A `new_visitor`'s
    id was made for this request: nothing to look up (the buffer still notes it as seen)."""
    event.is_unique = uniqueness == ALWAYS
    if buffering():
        try:
            _buffer.push(event, uniqueness=uniqueness)
            return event
        except redis.RedisError as exc:
            log.warning("click buffer unreachable (%s): link %s written directly", exc,
                        event.link_id)  # fmt: skip
    if uniqueness == ONCE and new_visitor:
        event.is_unique = True
    return _store.record_direct(event, check_unique=uniqueness == ONCE and not new_visitor)


def drain() -> int:
    """Move buffered clicks into the database; how many were new (0 when not buffering)."""
    return _buffer.drain() if buffering() else 0


def status() -> BufferStatus:
    """How current the click numbers are (for the dashboards)."""
    return _buffer.status() if buffering() else BufferStatus(buffered=False)
