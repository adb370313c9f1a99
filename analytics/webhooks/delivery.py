"""Sending webhooks: one delivery per (endpoint, event), retried with exponential backoff.

The delivery rows are written in the transaction that records the event (an outbox: no event
is lost to a broker that is down, none is sent for a rolled-back join). After commit a task
makes the first attempt; `send_due()` (Celery beat) makes the retries. Every attempt is logged.
`now` is a parameter throughout, so retries and the one-day cut-offs are tested without waiting.
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from analytics.models import ReferralEvent
from analytics.webhooks import signing
from analytics.webhooks.addresses import url_problem
from analytics.webhooks.models import (
    KIND_OF_EVENT,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from analytics.webhooks.payloads import body_for

log = logging.getLogger(__name__)

Status = WebhookDelivery.Status
# Retry n waits BACKOFF_BASE * 2**(n-1), at most BACKOFF_CAP: 30 s, 1 min, 2 min … then every
# 2 hours, until the delivery's retry window (WEBHOOK_RETRY_HOURS) closes: about 18 attempts.
BACKOFF_BASE = timedelta(seconds=30)
BACKOFF_CAP = timedelta(hours=2)
# A claimed attempt holds its delivery this long (longer than any request may take).
LEASE = timedelta(minutes=2)
EXCERPT = 500
DUE_BATCH = 200
USER_AGENT = "Invitetrail-Webhooks/1"


@dataclass(frozen=True)
class Answer:
    status_code: int | None
    excerpt: str = ""
    error: str = ""


Post = Callable[[str, bytes, dict[str, str], float], Answer]


def backoff(failures: int) -> timedelta:
    """The wait after the `failures`-th failed attempt in a row."""
    return min(BACKOFF_BASE * 2 ** max(failures - 1, 0), BACKOFF_CAP)


def create_deliveries(event: ReferralEvent) -> list[int]:
    """Delivery rows for every active endpoint of the event's campaign that wants its kind;
    called inside the transaction that records the event. Ids of the new rows."""
    return create_deliveries_for([event])


def create_deliveries_for(events: list[ReferralEvent]) -> list[int]:
    """`create_deliveries` for a batch of events: one read of the endpoints, one INSERT."""
    wanted = [(e, KIND_OF_EVENT[e.event_type]) for e in events if e.event_type in KIND_OF_EVENT]
    wanted = [(e, kind) for e, kind in wanted if e.campaign_id is not None]
    if not wanted:
        return []
    endpoints = list(
        WebhookEndpoint.objects.filter(
            campaign_id__in={e.campaign_id for e, _ in wanted}, is_active=True
        )
    )
    if not endpoints:
        return []
    now = timezone.now()
    deliveries = [
        WebhookDelivery(
            endpoint=endpoint,
            event=event,
            kind=kind,
            next_attempt_at=now,
            retry_until=now + retry_window(),
        )
        for event, kind in wanted
        for endpoint in endpoints
        if endpoint.campaign_id == event.campaign_id and endpoint.wants(kind)
    ]
    if not deliveries:
        return []
    # A savepoint only where there is something to write: a campaign without endpoints costs
    # its joins one indexed read, nothing more.
    with transaction.atomic():
        rows = WebhookDelivery.objects.bulk_create(deliveries)
    return [row.pk for row in rows]


def attempt(delivery_id: int, *, now: datetime | None = None, post: Post | None = None) -> str:
    """Make one attempt if the delivery is due; returns its status afterwards ("" if gone).

    1. Claim it: a conditional update moves `next_attempt_at` a lease ahead, so a second
       worker (a re-queued task, the beat sweep) finds nothing to do.
    2. An endpoint switched off fails the delivery without a request.
    3. Freeze the body on the first attempt, sign it with the current time, POST it.
    4. Log the attempt; on success the delivery is done and the endpoint healthy. On failure
       the next attempt is scheduled with backoff, or the delivery fails once its retry
       window closes; an endpoint failing for WEBHOOK_DISABLE_AFTER_HOURS is switched off.
    """
    now = now or timezone.now()
    due = WebhookDelivery.objects.filter(pk=delivery_id, status=Status.PENDING).filter(
        Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True)
    )
    if not due.update(next_attempt_at=now + LEASE):
        status = WebhookDelivery.objects.filter(pk=delivery_id).values_list("status", flat=True)
        return status.first() or ""
    delivery = WebhookDelivery.objects.select_related("endpoint", "event").get(pk=delivery_id)
    endpoint = delivery.endpoint
    if not endpoint.is_active:
        _give_up(delivery, "endpoint switched off")
        return Status.FAILED
    if not delivery.body:
        delivery.body = body_for(
            ReferralEvent.objects.select_related("campaign", "link__influencer").get(
                pk=delivery.event_id
            )
        )
        WebhookDelivery.objects.filter(pk=delivery.pk).update(body=delivery.body)
    answer, latency_ms = _send(delivery, endpoint, now, post or post_json)
    ok = answer.status_code is not None and 200 <= answer.status_code < 300
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=now,
        status_code=answer.status_code,
        succeeded=ok,
        latency_ms=latency_ms,
        error=answer.error[:300],
        response_excerpt=answer.excerpt[:EXCERPT],
    )
    return _record_outcome(delivery, endpoint, answer, ok, now)


def send_due(*, now: datetime | None = None, post: Post | None = None) -> int:
    """Attempt every pending delivery whose time has come (oldest first); how many were tried."""
    now = now or timezone.now()
    due = (
        WebhookDelivery.objects.filter(status=Status.PENDING, next_attempt_at__lte=now)
        .order_by("next_attempt_at")
        .values_list("pk", flat=True)[:DUE_BATCH]
    )
    tried = 0
    for pk in list(due):
        try:
            attempt(pk, now=now, post=post)
        except Exception:  # one broken delivery must not stop the others
            log.exception("webhook delivery %s: attempt failed unexpectedly", pk)
        tried += 1
    return tried


def send_again(delivery_ids, *, now: datetime | None = None) -> list[int]:
    """A manager's "send again": each delivery is pending again, due now, with a fresh retry
    window (its attempt log is kept). Deliveries of switched-off endpoints are left alone."""
    now = now or timezone.now()
    rows = WebhookDelivery.objects.filter(pk__in=list(delivery_ids), endpoint__is_active=True)
    ids = list(rows.values_list("pk", flat=True))
    WebhookDelivery.objects.filter(pk__in=ids).update(
        status=Status.PENDING, next_attempt_at=now, retry_until=now + retry_window()
    )
    return ids


def post_json(url: str, body: bytes, headers: dict[str, str], timeout: float) -> Answer:
    """POST without following redirects (a receiver that moved must be updated by a manager);
    reads at most EXCERPT characters of the answer."""
    try:
        with requests.post(
            url, data=body, headers=headers, timeout=timeout, allow_redirects=False, stream=True
        ) as response:
            raw = next(response.iter_content(EXCERPT * 4), b"")
            excerpt = raw.decode(response.encoding or "utf-8", errors="replace")[:EXCERPT]
            return Answer(response.status_code, excerpt)
    except requests.Timeout:
        return Answer(None, error=f"no answer within {timeout:g} s")
    except requests.RequestException as exc:
        return Answer(None, error=f"{exc.__class__.__name__}: {_first_line(exc)}")


def retry_window() -> timedelta:
    return timedelta(hours=settings.WEBHOOK_RETRY_HOURS)


def _send(delivery, endpoint, now: datetime, post: Post) -> tuple[Answer, int]:
    problem = url_problem(endpoint.url, allow_loopback_http=settings.WEBHOOK_ALLOW_HTTP_LOOPBACK)
    if problem:
        return Answer(None, error=f"not sent: {problem}"), 0
    body = delivery.body.encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "Invitetrail-Event": delivery.kind,
        "Invitetrail-Event-Id": str(delivery.event_id),
        "Invitetrail-Delivery": str(delivery.pk),
        signing.HEADER: signing.header_value(endpoint.secret, int(now.timestamp()), body),
    }
    started = time.monotonic()
    answer = post(endpoint.url, body, headers, settings.WEBHOOK_TIMEOUT_SECONDS)
    return answer, int((time.monotonic() - started) * 1000)


def _record_outcome(delivery, endpoint, answer: Answer, ok: bool, now: datetime) -> str:
    what = f"HTTP {answer.status_code}" if answer.status_code is not None else answer.error
    failures = delivery.attempts + 1
    fields = {
        "attempts": failures,
        "last_attempt_at": now,
        "last_status_code": answer.status_code,
        "last_error": "" if ok else what[:300],
    }
    if ok:
        fields.update(status=Status.DELIVERED, delivered_at=now, next_attempt_at=None)
        WebhookEndpoint.objects.filter(pk=endpoint.pk).update(failing_since=None)
        log.info("webhook delivered delivery=%s endpoint=%s %s", delivery.pk, endpoint.pk, what)
    else:
        # The last retry is made as the window closes, so a receiver down all day has failed
        # for the whole day when its endpoint is judged.
        retry_at = min(now + backoff(failures), delivery.retry_until)
        if now >= delivery.retry_until:
            fields.update(status=Status.FAILED, next_attempt_at=None)
        else:
            fields.update(next_attempt_at=retry_at)
        log.warning(
            "webhook attempt %s failed delivery=%s endpoint=%s: %s",
            failures,
            delivery.pk,
            endpoint.pk,
            what,
        )
    WebhookDelivery.objects.filter(pk=delivery.pk).update(**fields)
    if not ok:
        _note_failure(endpoint, what, now)
    return fields.get("status", Status.PENDING)


def _note_failure(endpoint: WebhookEndpoint, what: str, now: datetime) -> None:
    """Start the endpoint's failure streak, or switch it off once the streak is a day old."""
    WebhookEndpoint.objects.filter(pk=endpoint.pk, failing_since__isnull=True).update(
        failing_since=now
    )
    since = WebhookEndpoint.objects.values_list("failing_since", flat=True).get(pk=endpoint.pk)
    limit = timedelta(hours=settings.WEBHOOK_DISABLE_AFTER_HOURS)
    if since is None or now - since < limit:
        return
    reason = (
        f"Switched off on {now:%Y-%m-%d %H:%M} UTC: every attempt since {since:%Y-%m-%d %H:%M} "
        f"UTC failed (last: {what}). Fix the receiver, then switch the endpoint on and use "
        "“send again” on the failed deliveries."
    )
    with transaction.atomic():
        switched = WebhookEndpoint.objects.filter(pk=endpoint.pk, is_active=True).update(
            is_active=False, disabled_at=now, disabled_reason=reason
        )
        WebhookDelivery.objects.filter(endpoint_id=endpoint.pk, status=Status.PENDING).update(
            status=Status.FAILED, next_attempt_at=None, last_error="endpoint switched off"
        )
    if switched:
        log.error("webhook endpoint %s (campaign %s) switched off: %s", endpoint.pk,
                  endpoint.campaign_id, what)  # fmt: skip


def _give_up(delivery: WebhookDelivery, why: str) -> None:
    WebhookDelivery.objects.filter(pk=delivery.pk).update(
        status=Status.FAILED, next_attempt_at=None, last_error=why
    )


def _first_line(exc: Exception) -> str:
    return (str(exc).splitlines() or [""])[0][:200]
