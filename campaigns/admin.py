from django.contrib import admin

from campaigns.models import Campaign, OnboardingField


class OnboardingFieldInline(admin.TabularInline):
    model = OnboardingField
    extra = 0
    fields = [
        "order",
        "key",
        "label",
        "field_type",
        "required",
        "placeholder",
        "min_length",
        "max_length",
        "choices",
    ]
    ordering = ["order"]


@admin.register(Campaign)
class CampaignAdmin(admin.ModelAdmin):
    list_display = ["campaign_name", "guild_id", "is_active", "starts_at", "ends_at", "link_count"]
    list_filter = ["is_active", "auto_role_assignment"]
    search_fields = ["campaign_name", "guild_id", "headline"]
    inlines = [OnboardingFieldInline]
    fieldsets = [
        (None, {"fields": ["campaign_name", "is_active", "starts_at", "ends_at"]}),
        (
            "Discord",
            {"fields": ["guild_id", "channel_id", "welcome_channel_id", "welcome_message"]},
        ),
        (
            "Landing page",
            {
                "fields": [
                    "headline",
                    "offer_title",
                    "description",
                    "highlights",
                    "hero_image_url",
                    "brand_color",
                    "button_label",
                ]
            },
        ),
        (
            "Invites",
            {"fields": ["invite_max_age_seconds", "invite_pool_size", "fallback_invite_url"]},
        ),
        ("Roles on conversion", {"fields": ["auto_role_assignment", "target_role_ids"]}),
    ]

    @admin.display(description="links")
    def link_count(self, obj: Campaign) -> int:
        return obj.links.count()
