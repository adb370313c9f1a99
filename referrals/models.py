"""Referral links and the Discord invites bound to them (tables named as in the seed)."""

import uuid

from django.conf import settings
from django.db import models

from campaigns.models import Campaign
from campaigns.validators import validate_snowflake
from referrals.codes import CODE_MAX_LENGTH, generate_code


class ReferralLink(models.Model):
    class Platform(models.TextChoices):
        X = "x", "X / Twitter"
        YOUTUBE = "youtube", "YouTube"
        TIKTOK = "tiktok", "TikTok"
        INSTAGRAM = "instagram", "Instagram"
        TWITCH = "twitch", "Twitch"
        REDDIT = "reddit", "Reddit"
        DISCORD = "discord", "Discord"
        NEWSLETTER = "newsletter", "Newsletter"
        WEBSITE = "website", "Website / blog"
        OTHER = "other", "Other"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # A link's history must outlive neither its influencer nor its campaign by accident.
    influencer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="referral_links"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="links")
    title = models.CharField(max_length=120)
    description = models.TextField(max_length=1000, blank=True)
    platform = models.CharField(max_length=20, choices=Platform.choices, default=Platform.OTHER)
    referral_code = models.CharField(max_length=64, unique=True, editable=False)
    referral_url = models.URLField(max_length=300, editable=False)
    discord_invite_url = models.URLField(blank=True, editable=False)
    # The link's referral role on Discord (see Campaign.referral_roles); empty while it has none.
    referral_role_id = models.CharField(max_length=20, blank=True, editable=False)
    clicks = models.IntegerField(default=0, editable=False)
    conversions = models.IntegerField(default=0, editable=False)
    is_active = models.BooleanField(default=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "referral_links"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(clicks__gte=0), name="link_clicks_gte_0"),
            models.CheckConstraint(
                condition=models.Q(conversions__gte=0), name="link_conversions_gte_0"
            ),
        ]
        indexes = [models.Index(fields=["campaign", "is_active"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.referral_code})"

    def save(self, *args, **kwargs) -> None:
        if not self.referral_code:
            self.referral_code = generate_code(self.title)
        if not self.referral_url:
            self.referral_url = self.build_url()
        super().save(*args, **kwargs)

    def build_url(self) -> str:
        return f"{settings.PUBLIC_BASE_URL}/r/{self.referral_code}"


assert ReferralLink._meta.get_field("referral_code").max_length >= CODE_MAX_LENGTH


class ManagedInvite(models.Model):
    """A single-use Discord invite we created, and what became of it."""

    class Status(models.TextChoices):
        POOLED = "pooled", "Pooled (ready)"
        ASSIGNED = "assigned", "Assigned to a visitor"
        USED = "used", "Used by a member"
        EXPIRED = "expired", "Expired"
        REVOKED = "revoked", "Revoked"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign = models.ForeignKey(Campaign, on_delete=models.PROTECT, related_name="invites")
    # Empty while pooled; set when the invite is handed to a visitor of that link.
    referral_link = models.ForeignKey(
        ReferralLink, on_delete=models.PROTECT, null=True, blank=True, related_name="invites"
    )
    discord_invite_code = models.CharField(max_length=32, unique=True)
    discord_invite_url = models.URLField()
    guild_id = models.CharField(max_length=20, validators=[validate_snowflake])
    channel_id = models.CharField(max_length=20, validators=[validate_snowflake])
    max_uses = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.POOLED)
    visitor_id = models.CharField(max_length=64, blank=True)
    assigned_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)
    used_by_discord_user_id = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        db_table = "discord_invite_links"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["campaign", "status", "expires_at"]),
            models.Index(fields=["guild_id", "status"]),
            # "Does this visitor already hold an invite of this link?" on every Join.
            models.Index(fields=["referral_link", "visitor_id"], name="invite_link_visitor_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(status="assigned") | models.Q(referral_link__isnull=False),
                name="assigned_invite_has_link",
            ),
        ]

    def __str__(self) -> str:
        return self.discord_invite_code


class UntrackedHandout(models.Model):
    """A visitor sent to the campaign's fallback invite because Discord could not give a tracked
    one: their join cannot be attributed, but the miss is counted, not lost."""

    link = models.ForeignKey(ReferralLink, on_delete=models.PROTECT, related_name="untracked")
    visitor_id = models.CharField(max_length=64, blank=True)
    reason = models.CharField(max_length=200)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.link.referral_code} @ {self.created_at:%Y-%m-%d %H:%M}"


class OAuthJoinAttempt(models.Model):
    """One return from Discord's consent page ("Join with Discord"), created when its state is
    first used — the unique nonce is what makes a state single-use.

    Before the member is added it names the Discord user (`status=joining`), so the bot can tell
    the GUILD_MEMBER_ADD that follows is this OAuth join and not an invite join; `welcomed_at`
    is claimed once, by the bot, so the member is welcomed exactly once. No token is kept.
    """

    class Status(models.TextChoices):
        STARTED = "started", "State used"
        JOINING = "joining", "Adding the member"
        JOINED = "joined", "Joined"
        ALREADY_MEMBER = "already", "Already a member"
        FAILED = "failed", "Failed"

    nonce = models.CharField(max_length=32, unique=True)
    link = models.ForeignKey(ReferralLink, on_delete=models.PROTECT, related_name="oauth_joins")
    visitor_id = models.CharField(max_length=64, blank=True)
    guild_id = models.CharField(max_length=20, blank=True)
    discord_user_id = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.STARTED)
    error = models.CharField(max_length=100, blank=True)
    joined_at = models.DateTimeField(null=True, blank=True)
    welcomed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        db_table = "oauth_join_attempts"
        verbose_name = "OAuth join attempt"
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["guild_id", "discord_user_id", "status"])]

    def __str__(self) -> str:
        return f"{self.discord_user_id or '?'} via {self.link_id} ({self.status})"
