"""Conversion webhooks: a campaign's endpoints, one delivery per (endpoint, event), and every
attempt to send it (the log a manager reads in the admin)."""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MinLengthValidator
from django.db import models

from analytics.models import ReferralEvent
from analytics.webhooks.addresses import url_problem
from campaigns.models import Campaign


class EventKind(models.TextChoices):
    JOIN = "join", "Join (a member joined; with the attribution decision)"
    ONBOARDING_START = "onboarding_start", "Onboarding start"
    CONVERSION = "conversion", "Conversion (a member completed onboarding)"


# The journey's event types, as webhooks name them.
KIND_OF_EVENT = {
    ReferralEvent.EventType.DISCORD_JOIN: EventKind.JOIN,
    ReferralEvent.EventType.ONBOARDING_START: EventKind.ONBOARDING_START,
    ReferralEvent.EventType.CONVERSION: EventKind.CONVERSION,
}
DEFAULT_EVENTS = [EventKind.JOIN.value, EventKind.CONVERSION.value]


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


def default_events() -> list[str]:
    return list(DEFAULT_EVENTS)


def validate_events(value) -> None:
    known = set(EventKind.values)
    if not isinstance(value, list) or not value:
        raise ValidationError("Choose at least one event.")
    unknown = [v for v in value if v not in known]
    if unknown:
        raise ValidationError(
            f"Unknown event(s): {', '.join(map(str, unknown))}; known: {', '.join(sorted(known))}."
        )


def validate_endpoint_url(value: str) -> None:
    problem = url_problem(value, allow_loopback_http=settings.WEBHOOK_ALLOW_HTTP_LOOPBACK)
    if problem:
        raise ValidationError(problem)


class WebhookEndpoint(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(
        "URL",
        max_length=500,
        validators=[validate_endpoint_url],
        help_text="HTTPS address that receives a signed JSON POST for each chosen event.",
    )
    description = models.CharField(max_length=200, blank=True)
    secret = models.CharField(
        max_length=100,
        default=new_secret,
        validators=[MinLengthValidator(16, "Use a secret of at least 16 characters.")],
        help_text="Signs every request (Invitetrail-Signature header): give it to the receiver.",
    )
    events = models.JSONField(
        default=default_events,
        validators=[validate_events],
        help_text="join, onboarding_start, conversion.",
    )
    is_active = models.BooleanField(
        "active",
        default=True,
        help_text="Switched off automatically when every attempt has failed for a day "
        "(see “disabled reason”); switch it on again once the receiver is fixed.",
    )
    # Since when every attempt failed (NULL: the last attempt succeeded, or none was made).
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_at = models.DateTimeField(null=True, blank=True, editable=False)
    disabled_reason = models.TextField(blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "created_at"]
        verbose_name = "webhook endpoint"

    def __str__(self) -> str:
        return self.url

    def save(self, *args, **kwargs) -> None:
        if self.is_active and self.disabled_at:
            # Switched on again by a manager: the failure streak starts afresh.
            self.disabled_at = self.failing_since = None
            self.disabled_reason = ""
        super().save(*args, **kwargs)

    def wants(self, kind: str) -> bool:
        return isinstance(self.events, list) and kind in self.events


class WebhookDelivery(models.Model):
    """One event for one endpoint: its frozen JSON body and where its retries stand."""

    class Status(models.TextChoices):
        PENDING = "pending", "Pending (will be sent or retried)"
        DELIVERED = "delivered", "Delivered"
        FAILED = "failed", "Failed (gave up)"

    endpoint = models.ForeignKey(
        WebhookEndpoint, on_delete=models.CASCADE, related_name="deliveries"
    )
    event = models.ForeignKey(
        ReferralEvent, on_delete=models.PROTECT, related_name="webhook_deliveries"
    )
    kind = models.CharField(max_length=20, choices=EventKind.choices)
    # The body exactly as every attempt sends it (the receiver dedupes on its "id").
    body = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    attempts = models.PositiveIntegerField(default=0)
    # When the next attempt is due; a claimed attempt pushes it forward (a lease), so two workers
    # never send the same delivery at once.
    next_attempt_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Retries stop after this; "send again" starts a new window.
    retry_until = models.DateTimeField()
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    last_status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        constraints = [
            models.UniqueConstraint(
                fields=["endpoint", "event"], name="webhook_delivery_once_per_event"
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=["pending", "delivered", "failed"]),
                name="webhook_delivery_status_known",
            ),
        ]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="webhook_due")]

    def __str__(self) -> str:
        return f"{self.kind} → {self.endpoint}"


class WebhookAttempt(models.Model):
    """One POST: what the receiver answered (or why there was no answer) and how long it took."""

    delivery = models.ForeignKey(WebhookDelivery, on_delete=models.CASCADE, related_name="log")
    attempted_at = models.DateTimeField()
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    succeeded = models.BooleanField(default=False)
    latency_ms = models.PositiveIntegerField("latency (ms)", default=0)
    error = models.CharField(max_length=300, blank=True)
    response_excerpt = models.TextField(max_length=500, blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]

    def __str__(self) -> str:
        return f"{self.status_code or self.error} @ {self.attempted_at:%Y-%m-%d %H:%M:%S}"
