from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin_history import KeepsHistory
from campaigns.scoping import ScopedAdminMixin
from referrals import qr
from referrals.models import ManagedInvite, OAuthJoinAttempt, ReferralLink, UntrackedHandout

CAMPAIGN = ("campaign", admin.RelatedOnlyFieldListFilter)


@admin.register(ReferralLink)
class ReferralLinkAdmin(KeepsHistory, ScopedAdminMixin, admin.ModelAdmin):
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
    readonly_fields = [
        "full_url",
        "qr_code",
        "referral_code",
        "clicks",
        "conversions",
        "created_at",
    ]
    fields = [
        "full_url",
        "qr_code",
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

    @admin.display(description="QR code")
    def qr_code(self, obj: ReferralLink) -> str:
        if not obj.pk:
            return "Generated when you save."
        svg_url = reverse("admin:referrals_referrallink_qr", args=[obj.pk, "svg"])
        png_url = reverse("admin:referrals_referrallink_qr", args=[obj.pk, "png"])
        return format_html(
            '<img src="{}" alt="QR code for {}" width="164" height="164" class="qr-code"><br>'
            "Encodes <code>{}</code> (scans show as “QR code” under Medium). "
            '<a href="{}" download>Download PNG</a> · <a href="{}" download>SVG</a>',
            svg_url,
            obj.title,
            qr.target(obj),
            png_url,
            svg_url,
        )

    def get_urls(self):
        view = self.admin_site.admin_view(self.qr_view)
        own = [path("<path:object_id>/qr.<str:kind>", view, name="referrals_referrallink_qr")]
        return own + super().get_urls()

    def qr_view(self, request: HttpRequest, object_id: str, kind: str) -> HttpResponse:
        """The link's QR code as SVG (shown) or PNG (downloaded): for whoever may view the link
        (managers; an influencer only for their own links, scoped like every admin list)."""
        if kind not in ("svg", "png"):
            raise Http404("QR codes come as .svg or .png.")
        link = self.get_object(request, object_id)
        if link is None:
            raise Http404("No such referral link.")
        if not self.has_view_or_change_permission(request, link):
            raise PermissionDenied
        if kind == "svg":
            response = HttpResponse(qr.svg(link), content_type="image/svg+xml")
        else:
            response = HttpResponse(qr.png(link), content_type="image/png")
            response["Content-Disposition"] = f'attachment; filename="{link.referral_code}-qr.png"'
        response["Cache-Control"] = "private, max-age=3600"
        return response

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
