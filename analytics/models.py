"""Analytics: the append-only event log (the source of truth), onboarding answers, conversions."""

import secrets
import uuid

from django.db import models

from campaigns.models import Campaign
from referrals.models import ReferralLink


class ReferralEvent(models.Model):
    """One thing that happened on the referral journey. Never updated, never deleted."""

    class EventType(models.TextChoices):
        CLICK = "click", "Click"
        PREVIEW = "preview", "Preview / bot"
        DISCORD_JOIN = "discord_join", "Discord join"
        ONBOARDING_START = "onboarding_start", "Onboarding start"
        CONVERSION = "conversion", "Conversion"
        LEAVE = "leave", "Leave"
        # A member already in the guild who accepted a link's role invite: not a join.
        RETURN_VISIT = "return_visit", "Returning member"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Organic joins have no link; a link with history cannot be deleted.
    link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.PROTECT, null=True, blank=True, related_name="events"
    )
    event_type = models.CharField(max_length=20, choices=EventType.choices)
    user_agent = models.TextField(max_length=512, blank=True)
    # Truncated (IPv4 /24, IPv6 /48) or empty: see IP_ANONYMIZATION. Never the raw address.
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True)
    referrer = models.TextField(max_length=1024, blank=True)
    device_type = models.CharField(max_length=20, blank=True)
    browser = models.CharField(max_length=50, blank=True)
    os = models.CharField(max_length=50, blank=True)
    visitor_id = models.CharField(max_length=64, blank=True)
    # Clicks: whether this one counts as unique (not a repeat within the dedupe window).
    is_unique = models.BooleanField(default=False)
    discord_user_id = models.CharField(max_length=20, blank=True)
    conversion_value = models.DecimalField(max_digits=12, decimal_places=2, default=0)
    metadata = models.JSONField(default=dict, blank=True)
    # Makes recording idempotent where the event has a natural key (a join, a conversion).
    dedupe_key = models.CharField(max_length=120, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "referral_analytics"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(
                    event_type__in=[
                        "click",
                        "preview",
                        "discord_join",
                        "onboarding_start",
                        "conversion",
                        "leave",
                        "return_visit",
                    ]
                ),
                name="referral_event_type_known",
            ),
        ]
        indexes = [
            models.Index(fields=["link", "event_type", "created_at"], name="event_link_type_time"),
            models.Index(fields=["event_type", "created_at"], name="event_type_time"),
            models.Index(fields=["discord_user_id", "event_type"], name="event_member_type"),
            models.Index(fields=["link", "visitor_id", "created_at"], name="event_link_visitor"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} @ {self.created_at:%Y-%m-%d %H:%M}"


class OnboardingResponse(models.Model):
    """A member's answer to one onboarding field; re-answering replaces the value."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="responses")
    link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, null=True, blank=True, related_name="responses"
    )
    discord_user_id = models.CharField(max_length=20)
    field_key = models.CharField(max_length=40)
    value = models.TextField(max_length=4000)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["campaign", "discord_user_id", "field_key"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "discord_user_id", "field_key"],
                name="onboarding_response_unique_per_field",
            )
        ]

    def __str__(self) -> str:
        return f"{self.discord_user_id}: {self.field_key}"


class Conversion(models.Model):
    """At most one per (campaign, member): the member finished the campaign's onboarding."""

    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="conversions")
    link = models.ForeignKey(
        ReferralLink,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversion_rows",
    )
    # Kept as text too, so an export still says which code converted.
    referral_code = models.CharField(max_length=64, blank=True)
    discord_user_id = models.CharField(max_length=20)
    discord_username = models.CharField(max_length=64, blank=True)
    roles_assigned = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    # When the side effects (roles, telling the member) finished; NULL while a sweep must still
    # (re)queue them. The conversion itself never waits for them.
    side_effects_done_at = models.DateTimeField(null=True, blank=True)
    # When they were last queued (NULL: not queued, e.g. the broker was down): the sweep waits
    # for a queued task's retries before queueing again.
    side_effects_queued_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "discord_user_id"], name="conversion_unique_per_member"
            )
        ]
        indexes = [
            models.Index(
                fields=["created_at"],
                condition=models.Q(side_effects_done_at__isnull=True),
                name="conversion_side_effects_due",
            )
        ]

    def __str__(self) -> str:
        return f"{self.discord_user_id} → {self.campaign}"


class OnboardingSession(models.Model):
    """A member's onboarding for one campaign: what the welcome button points at.

    Its short random id is the button's custom_id payload, so buttons keep working after a bot
    restart and never carry user data (Discord allows 100 characters in a custom_id).
    """

    class Status(models.TextChoices):
        WELCOMED = "welcomed", "Welcomed"
        STARTED = "started", "Started"
        COMPLETED = "completed", "Completed"

    id = models.CharField(primary_key=True, max_length=24, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="sessions")
    link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, null=True, blank=True, related_name="sessions"
    )
    referral_code = models.CharField(max_length=64, blank=True)
    guild_id = models.CharField(max_length=20)
    discord_user_id = models.CharField(max_length=20)
    discord_username = models.CharField(max_length=64, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.WELCOMED)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "discord_user_id"], name="onboarding_session_unique_per_member"
            )
        ]

    def __str__(self) -> str:
        return f"{self.discord_user_id} in {self.campaign}"

    def save(self, *args, **kwargs) -> None:
        if not self.id:
            self.id = secrets.token_urlsafe(12)
        super().save(*args, **kwargs)


class DailyRollup(models.Model):
    """Derived from `ReferralEvent`: how many events of a type happened on a day, per link (and
    campaign), in total (dimension "all") or per value of one dimension (device, referrer, …).

    Dashboards read these instead of grouping raw events on every page view. They are kept
    current on write (`analytics.rollups`) and can always be rebuilt from the events
    (`manage.py rebuild_analytics`), so nothing here is a source of truth.
    """

    # A digest of (day, campaign, link, event type, dimension, value): one unique column that
    # works with NULL links on every database, so an upsert can rely on it.
    key = models.CharField(max_length=40, unique=True)
    day = models.DateField()
    campaign = models.ForeignKey(
        Campaign, on_delete=models.CASCADE, null=True, blank=True, related_name="+"
    )
    link = models.ForeignKey(
        ReferralLink, on_delete=models.CASCADE, null=True, blank=True, related_name="rollups"
    )
    event_type = models.CharField(max_length=20)
    dimension = models.CharField(max_length=20)
    value = models.CharField(max_length=255, blank=True)
    count = models.BigIntegerField(default=0)
    # Clicks counted as unique (is_unique); zero for every other event type.
    unique_count = models.BigIntegerField(default=0)

    class Meta:
        db_table = "analytics_daily_rollup"
        indexes = [
            models.Index(fields=["dimension", "day", "event_type"], name="rollup_dim_day_type"),
            models.Index(fields=["link", "dimension", "day"], name="rollup_link_dim_day"),
            models.Index(fields=["campaign", "dimension", "day"], name="rollup_campaign_dim_day"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.event_type} {self.dimension}={self.value}: {self.count}"


class Dashboard(ReferralEvent):
    """No data of its own: gives the analytics dashboards a place in the admin and a
    permission (`analytics.view_dashboard`) that decides who may open them."""

    class Meta:
        proxy = True
        verbose_name = "dashboard"
        verbose_name_plural = "dashboards"
