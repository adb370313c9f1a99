"""Celery tasks for conversion bookkeeping and the click buffer: thin wrappers over
analytics.conversions and analytics.clicks."""

import logging

from celery import shared_task

from analytics import clicks, conversions
from botworker.discord_rest import DiscordRateLimited, DiscordUnavailable

log = logging.getLogger(__name__)


@shared_task(
    bind=True,
    acks_late=True,
    autoretry_for=(DiscordUnavailable, DiscordRateLimited),
    retry_backoff=True,
    retry_backoff_max=300,
    max_retries=8,
)
def conversion_side_effects_task(self, conversion_id: int) -> bool:
    """Give the campaign's roles and tell the member; safe to run twice (done is done).

    Retried with backoff while Discord is unreachable; roles already given are skipped on the
    next run, and `sweep_conversions_task` picks up whatever the retries did not finish.
    """
    try:
        return conversions.finish_side_effects(conversion_id)
    except (DiscordUnavailable, DiscordRateLimited):
        if self.request.is_eager:
            # No worker to retry later (embedded defaults): the sweep will, the conversion stands.
            log.warning("side effects of conversion %s wait: Discord unreachable", conversion_id)
            return False
        raise


def on_side_effects_due(sender, conversion_id: int, **kwargs) -> None:
    """analytics.conversions asks for a conversion's side effects: queue them."""
    conversion_side_effects_task.delay(conversion_id)


@shared_task(ignore_result=True)
def sweep_conversions_task() -> dict[str, int]:
    """Celery beat: re-queue side effects that never finished, recover lost conversions."""
    return conversions.sweep()


@shared_task(bind=True, acks_late=True)
def record_conversion_task(self, session_id: str, *_legacy) -> int | None:
    """Messages queued before conversions were written with the session: record the conversion
    (a no-op when it exists) and run its side effects. Extra arguments (an interaction token,
    in the old signature) are ignored, never logged."""
    conversion, _ = conversions.record_conversion(session_id)
    if conversion is None:
        return None
    try:
        conversions.finish_side_effects(conversion.pk)
    except (DiscordUnavailable, DiscordRateLimited):
        log.warning("side effects of conversion %s wait for the sweep", conversion.pk)
    return conversion.pk


@shared_task(ignore_result=True)
def drain_clicks_task() -> int:
    """Celery beat, every CLICK_DRAIN_SECONDS: move buffered clicks into the database.

    Safe to run twice or concurrently: events are written once by id and counted once."""
    return clicks.drain()
