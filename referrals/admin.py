from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from campaigns.scoping import ScopedAdminMixin
from referrals.models import ManagedInvite, OAuthJoinAttempt, ReferralLink, UntrackedHandout

CAMPAIGN = ("campaign", admin.RelatedOnlyFieldListFilter)


@admin.register(ReferralLink)
class ReferralLinkAdmin(ScopedAdminMixin, admin.ModelAdmin):
    influencer_path = "influencer"
    list_display = [
        "title",
        "referral_code",
        "influencer",
        "campaign",
        "platform",
        "clicks",
        "conversions",
        "is_active",
        "created_at",
        "dashboard",
    ]
    list_filter = ["is_active", "platform", CAMPAIGN]
    search_fields = ["title", "referral_code", "influencer__username", "influencer__email"]
    list_select_related = ["influencer", "campaign"]
    autocomplete_fields = ["influencer", "campaign"]
    readonly_fields = ["full_url", "referral_code", "clicks", "conversions", "created_at"]
    fields = [
        "full_url",
        "title",
        "description",
        "influencer",
        "campaign",
        "platform",
        "is_active",
        "expires_at",
        "referral_code",
        "clicks",
        "conversions",
        "created_at",
    ]

    @admin.display(description="analytics")
    def dashboard(self, obj: ReferralLink) -> str:
        url = reverse("admin:analytics_dashboard_link", args=[obj.pk])
        return format_html('<a href="{}">dashboard</a>', url)

    @admin.display(description="referral URL")
    def full_url(self, obj: ReferralLink) -> str:
        if not obj.pk:
            return "Generated when you save."
        # A read-only text box: one click selects the whole URL for copying, no JavaScript needed.
        return format_html(
            '<input type="text" readonly value="{}" size="70" aria-label="Referral URL" '
            'onfocus="this.select()"> <a href="{}" target="_blank" rel="noopener">open</a>',
            obj.referral_url,
            obj.referral_url,
        )


@admin.register(ManagedInvite)
class ManagedInviteAdmin(ScopedAdminMixin, admin.ModelAdmin):
    influencer_path = "referral_link__influencer"

    list_display = [
        "discord_invite_code",
        "campaign",
        "referral_link",
        "status",
        "created_at",
        "assigned_at",
        "expires_at",
        "used_at",
        "used_by_discord_user_id",
    ]
    list_filter = ["status", CAMPAIGN]
    search_fields = [
        "discord_invite_code",
        "used_by_discord_user_id",
        "referral_link__referral_code",
    ]
    list_select_related = ["campaign", "referral_link"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        # Invites are created on Discord by the invite pool, never typed in by hand.
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(UntrackedHandout)
class UntrackedHandoutAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Visitors sent to a fallback invite: joins that cannot be attributed, and why."""

    influencer_path = "link__influencer"
    list_display = ["created_at", "link", "reason"]
    list_filter = ["link__campaign"]
    search_fields = ["link__referral_code", "reason"]
    list_select_related = ["link"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(OAuthJoinAttempt)
class OAuthJoinAttemptAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Returns from Discord's consent page: who joined through OAuth, and why others did not."""

    influencer_path = "link__influencer"
    list_display = ["created_at", "link", "status", "discord_user_id", "error", "welcomed_at"]
    list_filter = ["status", "link__campaign"]
    search_fields = ["link__referral_code", "discord_user_id"]
    list_select_related = ["link"]
    date_hierarchy = "created_at"
    exclude = ["nonce", "visitor_id"]

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
