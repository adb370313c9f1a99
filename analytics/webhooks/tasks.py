"""Celery tasks for webhooks: thin wrappers over `delivery`, and the event receiver."""

import logging
from functools import partial

from celery import shared_task
from django.db import DatabaseError, transaction

from analytics.webhooks import delivery
from analytics.webhooks.models import KIND_OF_EVENT

log = logging.getLogger(__name__)


@shared_task(acks_late=True, ignore_result=True, offload_when_eager=True)
def deliver_webhook_task(delivery_id: int) -> str:
    """The first attempt, right after the event commits. Retries are not Celery retries: the
    delivery row holds its schedule, and `send_due_webhooks_task` makes them (a day of
    countdowns would outlive a broker's visibility timeout). Never runs in the caller's
    thread, even without a broker: a visitor or the bot never waits on a receiver."""
    return delivery.attempt(delivery_id)


@shared_task(ignore_result=True)
def send_due_webhooks_task() -> int:
    """Celery beat: the retries (and first attempts a lost task never made)."""
    return delivery.send_due()


def queue_deliveries(delivery_ids: list[int]) -> None:
    """After commit: one task per delivery. A broker that is down is logged, not raised (the
    event is recorded; the beat sweep sends the delivery once the broker is back)."""
    for pk in delivery_ids:
        try:
            deliver_webhook_task.delay(pk)
        except Exception as exc:
            log.warning("webhook delivery %s not queued (%s): the sweep will send it", pk,
                        exc.__class__.__name__)  # fmt: skip


def on_event_recorded(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    """post_save of a ReferralEvent: its webhook deliveries, in the same transaction.

    An outbox write that fails is logged and never takes the join or conversion down with it
    (clicks and other events return before touching the database)."""
    if not created or raw or instance.event_type not in KIND_OF_EVENT:
        return
    try:
        ids = delivery.create_deliveries(instance)
    except DatabaseError:
        log.exception("webhook deliveries for event %s not written", instance.pk)
        return
    if ids:
        transaction.on_commit(partial(queue_deliveries, ids))


def on_events_written(sender, events: list, **kwargs) -> None:
    """`analytics.bulk.events_written`: the deliveries of a batch written in one INSERT (the
    bot's join records), as `on_event_recorded` makes them for one saved event."""
    try:
        ids = delivery.create_deliveries_for(events)
    except DatabaseError:
        log.exception("webhook deliveries for %d event(s) not written", len(events))
        return
    if ids:
        transaction.on_commit(partial(queue_deliveries, ids))
