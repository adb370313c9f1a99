from django.contrib import admin
from django.db.models import OuterRef, Subquery
from django.urls import path

from analytics import reports, views
from analytics.models import (
    Conversion,
    Dashboard,
    OnboardingResponse,
    OnboardingSession,
    ReferralEvent,
)
from campaigns.discord_directory import describe_roles
from campaigns.models import OnboardingField
from campaigns.scoping import ScopedAdminMixin, scope_answers

CAMPAIGN = ("campaign", admin.RelatedOnlyFieldListFilter)


class NoWritesMixin:
    """Rows the product writes and the admin only shows: nobody adds, edits or deletes them."""

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


class ReadOnlyAdmin(NoWritesMixin, ScopedAdminMixin, admin.ModelAdmin):
    """Analytics rows are written by the product only; the admin shows them (an influencer,
    only their own links' rows)."""


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
    list_display = ["campaign", "member", "question", "value", "updated_at"]
    list_filter = [CAMPAIGN, "field_key"]
    search_fields = ["discord_user_id", "value"]
    list_select_related = ["campaign"]

    def get_queryset(self, request):
        qs = (
            super()
            .get_queryset(request)
            .annotate(
                field_label=Subquery(
                    OnboardingField.objects.filter(
                        campaign_id=OuterRef("campaign_id"), key=OuterRef("field_key")
                    ).values("label")[:1]
                ),
                member_name=Subquery(
                    OnboardingSession.objects.filter(
                        campaign_id=OuterRef("campaign_id"),
                        discord_user_id=OuterRef("discord_user_id"),
                    ).values("discord_username")[:1]
                ),
            )
        )
        return scope_answers(qs, request.user)

    @admin.display(description="member", ordering="discord_user_id")
    def member(self, obj: OnboardingResponse) -> str:
        return member_label(obj.member_name, obj.discord_user_id)

    @admin.display(description="question", ordering="field_key")
    def question(self, obj: OnboardingResponse) -> str:
        # A field deleted since the member answered keeps its key.
        return obj.field_label or obj.field_key


def member_label(username: str | None, member_id: str) -> str:
    """ "ada (1300…)", or the bare id when the member's name is not known."""
    return f"{username} ({member_id})" if username else member_id


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "campaign",
        "referral_code",
        "discord_user_id",
        "discord_username",
        "roles",
    ]
    list_filter = [CAMPAIGN]
    search_fields = ["referral_code", "discord_user_id", "discord_username"]
    list_select_related = ["campaign", "link"]
    date_hierarchy = "created_at"
    exclude = ["roles_assigned"]
    readonly_fields = ["roles"]

    @admin.display(description="roles assigned")
    def roles(self, obj: Conversion) -> str:
        return describe_roles(obj.campaign.guild_id, obj.roles_assigned) or "–"


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
