from django.contrib import admin
from django.urls import path

from analytics import reports, views
from analytics.models import (
    Conversion,
    Dashboard,
    OnboardingResponse,
    OnboardingSession,
    ReferralEvent,
)
from campaigns.scoping import ScopedAdminMixin, scope_answers

CAMPAIGN = ("campaign", admin.RelatedOnlyFieldListFilter)


class ReadOnlyAdmin(ScopedAdminMixin, admin.ModelAdmin):
    """Analytics rows are written by the product only; the admin shows them (an influencer,
    only their own links' rows)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class MediumFilter(admin.SimpleListFilter):
    """Clicks by how they arrived: scans of a link's QR code carry utm_medium=qr."""

    title = "medium"
    parameter_name = "medium"

    def lookups(self, request, model_admin):
        return [("qr", "QR code"), ("other", "Other")]

    def queryset(self, request, queryset):
        if self.value() == "qr":
            return queryset.filter(metadata__utm__utm_medium="qr")
        if self.value() == "other":
            return queryset.exclude(metadata__utm__utm_medium="qr")
        return queryset


@admin.register(ReferralEvent)
class ReferralEventAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "event_type",
        "link",
        "campaign",
        "discord_user_id",
        "device_type",
        "browser",
        "medium",
        "is_unique",
    ]
    list_filter = ["event_type", "device_type", MediumFilter, CAMPAIGN, "is_unique"]
    search_fields = ["link__referral_code", "discord_user_id", "visitor_id"]
    list_select_related = ["link", "campaign"]
    date_hierarchy = "created_at"

    @admin.display(description="medium")
    def medium(self, obj: ReferralEvent) -> str:
        utm = obj.metadata.get("utm") if isinstance(obj.metadata, dict) else None
        value = utm.get("utm_medium", "") if isinstance(utm, dict) else ""
        return reports.label_of("utm_medium", value) if isinstance(value, str) and value else ""


@admin.register(OnboardingResponse)
class OnboardingResponseAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "discord_user_id", "field_key", "value", "updated_at"]
    list_filter = [CAMPAIGN, "field_key"]
    search_fields = ["discord_user_id", "value"]
    list_select_related = ["campaign"]

    def get_queryset(self, request):
        return scope_answers(super().get_queryset(request), request.user)


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "campaign",
        "referral_code",
        "discord_user_id",
        "discord_username",
    ]
    list_filter = [CAMPAIGN]
    search_fields = ["referral_code", "discord_user_id", "discord_username"]
    list_select_related = ["campaign", "link"]
    date_hierarchy = "created_at"


@admin.register(OnboardingSession)
class OnboardingSessionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "campaign", "discord_user_id", "referral_code", "status"]
    list_filter = ["status", CAMPAIGN]
    search_fields = ["discord_user_id", "discord_username", "referral_code", "id"]
    list_select_related = ["campaign"]
    date_hierarchy = "created_at"


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    """The analytics pages, under /admin/analytics/dashboard/; opening them takes the
    `analytics.view_dashboard` permission (Influencers have it, scoped to their links)."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False

    def get_urls(self):
        wrap = self.admin_site.admin_view
        name = "analytics_dashboard"
        return [
            path("", wrap(views.overview), name=f"{name}_changelist"),
            path("data.json", wrap(views.overview_json), name=f"{name}_data"),
            path(
                "campaign/<uuid:campaign_id>/", wrap(views.campaign_page), name=f"{name}_campaign"
            ),
            path("link/<uuid:link_id>/", wrap(views.link_page), name=f"{name}_link"),
            path("export/<str:kind>.csv", wrap(views.export), name=f"{name}_export"),
        ]
