from django.contrib import admin

from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent


class ReadOnlyAdmin(admin.ModelAdmin):
    """Analytics rows are written by the product only; the admin shows them."""

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


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
        "is_unique",
    ]
    list_filter = ["event_type", "device_type", "campaign", "is_unique"]
    search_fields = ["link__referral_code", "discord_user_id", "visitor_id"]
    list_select_related = ["link", "campaign"]
    date_hierarchy = "created_at"


@admin.register(OnboardingResponse)
class OnboardingResponseAdmin(ReadOnlyAdmin):
    list_display = ["campaign", "discord_user_id", "field_key", "value", "updated_at"]
    list_filter = ["campaign", "field_key"]
    search_fields = ["discord_user_id", "value"]
    list_select_related = ["campaign"]


@admin.register(Conversion)
class ConversionAdmin(ReadOnlyAdmin):
    list_display = [
        "created_at",
        "campaign",
        "referral_code",
        "discord_user_id",
        "discord_username",
    ]
    list_filter = ["campaign"]
    search_fields = ["referral_code", "discord_user_id", "discord_username"]
    list_select_related = ["campaign", "link"]
    date_hierarchy = "created_at"


@admin.register(OnboardingSession)
class OnboardingSessionAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "campaign", "discord_user_id", "referral_code", "status"]
    list_filter = ["status", "campaign"]
    search_fields = ["discord_user_id", "discord_username", "referral_code", "id"]
    list_select_related = ["campaign"]
    date_hierarchy = "created_at"
