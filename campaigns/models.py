"""Campaigns: a Discord guild, its landing page content, invite settings and onboarding form."""

import uuid

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone

from campaigns.validators import validate_hex_colour, validate_snowflake, validate_snowflake_list

# Discord's bounds for an invite's max_age (seconds; 0 means never, which we refuse for pools).
MAX_INVITE_AGE = 604_800
MIN_INVITE_AGE = 60
# Invites a campaign keeps ready; a guild holds about 1000 invites in all.
MAX_POOL_SIZE = 100

DEFAULT_WELCOME = (
    "Welcome, {member}! You joined through **{campaign}**, thanks to {influencer}. "
    "Press the button below to get started."
)


def readable_text_on(background: str) -> str:
    def channel(hex_pair: str) -> float:
        c = int(hex_pair, 16) / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    try:
        r, g, b = (channel(background[i : i + 2]) for i in (1, 3, 5))
    except (TypeError, ValueError):
        return "#ffffff"
    luminance = 0.2126 * r + 0.7152 * g + 0.0722 * b
    on_white = 1.05 / (luminance + 0.05)
    on_dark = (luminance + 0.05) / 0.0565  # #111111 has a luminance of about 0.0065
    return "#ffffff" if on_white >= on_dark else "#111111"


class ReferralRoles(models.TextChoices):
    PER_LINK = "per_link", "A role per referral link (exact attribution)"
    OFF = "off", "Off (invite-use diff only)"


class JoinMethod(models.TextChoices):
    INVITE = "invite", "Invite link"
    OAUTH = "oauth", "Join with Discord (OAuth2)"
    BOTH = "both", "Both: Join with Discord first, invite link second"


class Campaign(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    campaign_name = models.CharField(
        max_length=100, help_text="Internal name, seen in the admin and the dashboards."
    )
    public_title = models.CharField(
        max_length=100,
        blank=True,
        help_text="What visitors and members see (page header, title, link previews, the "
        "welcome's {campaign}); empty: the internal name.",
    )

    guild_id = models.CharField(
        "guild id", max_length=20, validators=[validate_snowflake], db_index=True
    )
    channel_id = models.CharField(
        "invite channel id",
        max_length=20,
        validators=[validate_snowflake],
        help_text="Channel the managed invites point at.",
    )
    welcome_channel_id = models.CharField(
        "welcome channel id",
        max_length=20,
        blank=True,
        validators=[validate_snowflake],
        help_text="Where the bot welcomes new members; empty: the guild's system channel.",
    )
    welcome_message = models.TextField(
        max_length=1500,
        default=DEFAULT_WELCOME,
        help_text="Placeholders: {member}, {campaign}, {influencer}.",
    )

    # Landing page
    headline = models.CharField(max_length=120, blank=True)
    offer_title = models.CharField(max_length=120, blank=True)
    description = models.TextField(max_length=2000, blank=True)
    highlights = models.TextField(
        max_length=1000, blank=True, help_text="One highlight per line (at most 6 are shown)."
    )
    hero_image_url = models.URLField(blank=True)
    brand_color = models.CharField(
        "brand colour", max_length=7, default="#5865F2", validators=[validate_hex_colour]
    )
    button_label = models.CharField(max_length=40, default="Join Discord")

    # Invites
    invite_max_age_seconds = models.PositiveIntegerField(
        default=600,
        validators=[MinValueValidator(MIN_INVITE_AGE), MaxValueValidator(MAX_INVITE_AGE)],
        help_text="Lifetime of each single-use invite (60 s to 7 days).",
    )
    invite_pool_size = models.PositiveSmallIntegerField(
        default=5,
        validators=[MaxValueValidator(MAX_POOL_SIZE)],
        help_text="Invites kept ready so visitors never wait on Discord (0 to 100).",
    )
    fallback_invite_url = models.URLField(
        blank=True, help_text="A permanent invite used, untracked, when Discord cannot be reached."
    )

    # Where a visitor goes when their link has expired or was switched off.
    public_server_url = models.URLField(
        "public server link",
        blank=True,
        help_text="A permanent public invite to the server, e.g. https://discord.gg/yourserver.",
    )
    offer_server_when_unavailable = models.BooleanField(
        "offer the server when a link is unavailable",
        default=False,
        help_text="An expired or switched-off link's page (or an ended campaign's) offers the "
        "public server link instead of a dead end. Such joins are organic, not credited.",
    )

    # How visitors join: a tracked invite, OAuth2 guilds.join (exact by construction), or both.
    join_method = models.CharField(
        max_length=8,
        choices=JoinMethod.choices,
        default=JoinMethod.INVITE,
        help_text='"Join with Discord" adds the visitor with OAuth2; no invite is spent.',
    )
    join_role_ids = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_snowflake_list],
        help_text='Role ids given when a visitor joins with Discord, e.g. ["1300000000000000300"].',
    )

    # Referral roles: each link's invites give the member that link's role (Discord's role
    # invites), which tells the bot which link a member came through however many join at once.
    referral_roles = models.CharField(
        max_length=8,
        choices=ReferralRoles.choices,
        default=ReferralRoles.PER_LINK,
        help_text="Give each referral link its own Discord role, carried by its invites.",
    )
    referral_role_name = models.CharField(
        max_length=100,
        default="via {link}",
        help_text="Name of each link's role; {link} is the link's title, {campaign} the "
        "campaign's name (cut to Discord's 100 characters).",
    )
    keep_referral_role = models.BooleanField(
        default=False,
        help_text='Keep the link\'s role on the member as a visible "came via" badge '
        "(off: removed once the join is credited).",
    )

    # Privacy: members' answers (e-mail addresses included) are the campaign managers' data.
    influencers_see_answers = models.BooleanField(
        "influencers see onboarding answers",
        default=False,
        help_text="Off: influencers see onboarding progress and counts for their links, not "
        "what members answered (in the admin, the dashboards and the CSV exports).",
    )

    # Roles
    auto_role_assignment = models.BooleanField(default=False)
    target_role_ids = models.JSONField(
        default=list,
        blank=True,
        validators=[validate_snowflake_list],
        help_text='Role ids given on conversion, e.g. ["1300000000000000300"].',
    )

    is_active = models.BooleanField(default=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        db_table = "discord_guild_campaigns"
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(invite_max_age_seconds__gte=60)
                & models.Q(invite_max_age_seconds__lte=MAX_INVITE_AGE),
                name="campaign_invite_max_age_in_discord_range",
            ),
            models.CheckConstraint(
                condition=models.Q(invite_pool_size__lte=MAX_POOL_SIZE),
                name="campaign_invite_pool_size_bounded",
            ),
            models.CheckConstraint(
                condition=models.Q(starts_at__isnull=True)
                | models.Q(ends_at__isnull=True)
                | models.Q(ends_at__gt=models.F("starts_at")),
                name="campaign_ends_after_it_starts",
            ),
            models.CheckConstraint(
                condition=models.Q(referral_roles__in=["per_link", "off"]),
                name="campaign_referral_roles_known",
            ),
            models.CheckConstraint(
                condition=models.Q(join_method__in=["invite", "oauth", "both"]),
                name="campaign_join_method_known",
            ),
        ]

    def __str__(self) -> str:
        return self.campaign_name

    @property
    def display_title(self) -> str:
        """The campaign's name as visitors and members see it."""
        return self.public_title or self.campaign_name

    @property
    def way_forward_url(self) -> str:
        """Where an unavailable link's page may send the visitor ("" when the manager said no)."""
        return self.public_server_url if self.offer_server_when_unavailable else ""

    def clean(self) -> None:
        if self.starts_at and self.ends_at and self.ends_at <= self.starts_at:
            raise ValidationError({"ends_at": "The campaign must end after it starts."})
        if self.offer_server_when_unavailable and not self.public_server_url:
            raise ValidationError(
                {"public_server_url": "Offering the server needs its public server link."}
            )
        if self.auto_role_assignment and not self.target_role_ids:
            raise ValidationError(
                {"target_role_ids": "Automatic role assignment needs at least one role id."}
            )

    def state(self, now=None) -> str:
        """'live', 'inactive', 'not_started' or 'ended' — what a visitor's page depends on."""
        now = now or timezone.now()
        if not self.is_active:
            return "inactive"
        if self.starts_at and now < self.starts_at:
            return "not_started"
        if self.ends_at and now >= self.ends_at:
            return "ended"
        return "live"

    @property
    def uses_referral_roles(self) -> bool:
        return self.referral_roles == ReferralRoles.PER_LINK

    @property
    def offers_oauth(self) -> bool:
        return self.join_method in (JoinMethod.OAUTH, JoinMethod.BOTH)

    @property
    def offers_invite(self) -> bool:
        return self.join_method in (JoinMethod.INVITE, JoinMethod.BOTH)

    @property
    def button_text_colour(self) -> str:
        """White or near-black, whichever contrasts more with the brand colour (WCAG)."""
        return readable_text_on(self.brand_color)

    @property
    def highlight_list(self) -> list[str]:
        return [line.strip() for line in self.highlights.splitlines() if line.strip()][:6]


class OnboardingField(models.Model):
    """One question of a campaign's onboarding form, shown as a Discord modal text input."""

    class FieldType(models.TextChoices):
        SHORT_TEXT = "short_text", "Short text"
        PARAGRAPH = "paragraph", "Paragraph"
        EMAIL = "email", "Email address"
        NUMBER = "number", "Number"
        URL = "url", "Web address"
        CHOICE = "choice", "Choice"

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="fields")
    key = models.SlugField(
        max_length=40, help_text="Stable identifier used in exports, e.g. 'favourite_game'."
    )
    # Discord limits: text input label ≤ 45, placeholder ≤ 100, value ≤ 4000 characters.
    label = models.CharField(max_length=45)
    field_type = models.CharField(
        max_length=16, choices=FieldType.choices, default=FieldType.SHORT_TEXT
    )
    required = models.BooleanField(default=True)
    placeholder = models.CharField(max_length=100, blank=True)
    min_length = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(4000)]
    )
    max_length = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(4000)]
    )
    choices = models.JSONField(
        default=list, blank=True, help_text='For "choice" fields: the allowed answers.'
    )
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "id"]
        constraints = [
            models.UniqueConstraint(fields=["campaign", "key"], name="onboarding_field_key_unique"),
            models.CheckConstraint(
                condition=models.Q(min_length__isnull=True)
                | models.Q(max_length__isnull=True)
                | models.Q(max_length__gte=models.F("min_length")),
                name="onboarding_field_length_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.label} ({self.key})"

    def clean(self) -> None:
        if self.field_type == self.FieldType.CHOICE:
            if not isinstance(self.choices, list) or not self.choices:
                raise ValidationError({"choices": "A choice field needs at least one answer."})
            if not all(isinstance(c, str) and c.strip() and "\x00" not in c for c in self.choices):
                raise ValidationError(
                    {"choices": "Each answer must be non-empty text (no NUL characters)."}
                )
        elif self.choices:
            raise ValidationError({"choices": "Only choice fields take a list of answers."})
        if self.min_length and self.max_length and self.max_length < self.min_length:
            raise ValidationError({"max_length": "Must be at least the minimum length."})
