"""Celery tasks for conversion bookkeeping: thin wrappers over analytics.conversions."""

import logging

from celery import shared_task

from analytics import conversions
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
def record_conversion_task(self, session_id: str, application_id: str = "", token: str = ""):
    """Record the conversion (once) and give the campaign's roles; safe to run twice.

    Retried with backoff while Discord is unreachable: the conversion is already recorded by
    then, and roles already given are skipped on the next run.
    """
    conversion, _ = conversions.record_conversion(session_id)
    if conversion is None:
        return None
    try:
        problems = conversions.assign_roles(conversion)
    except (DiscordUnavailable, DiscordRateLimited):
        if self.request.is_eager:
            # No worker to retry later (embedded defaults): say so, keep the conversion.
            log.warning("roles for conversion %s not given: Discord unreachable", conversion.pk)
            return str(conversion.pk)
        raise
    conversions.tell_member(application_id, token, problems)
    return str(conversion.pk)
