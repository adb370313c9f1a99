from dataclasses import asdict

from django.contrib import admin
from django.http import JsonResponse
from django.urls import path, reverse
from django.utils.html import format_html

from campaigns.admin_form import CampaignForm
from campaigns.admin_history import KeepsHistory
from campaigns.admin_preview import previews
from campaigns.discord_directory import bot_guilds, guild_directory
from campaigns.models import Campaign, OnboardingField
from campaigns.scoping import is_influencer
from referrals.roles import coverage


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
class CampaignAdmin(KeepsHistory, admin.ModelAdmin):
    form = CampaignForm
    list_display = [
        "campaign_name",
        "guild_id",
        "is_active",
        "starts_at",
        "ends_at",
        "link_count",
        "dashboard",
    ]
    list_filter = ["is_active", "join_method", "auto_role_assignment"]
    search_fields = ["campaign_name", "guild_id", "headline"]
    inlines = [OnboardingFieldInline]
    fieldsets = [
        (
            None,
            {"fields": ["campaign_name", "public_title", "is_active", "starts_at", "ends_at"]},
        ),
        (
            "Discord",
            {
                "fields": [
                    "discord_directory",
                    "guild_id",
                    "channel_id",
                    "welcome_channel_id",
                    "welcome_message",
                ],
                "description": "Server, channels and roles are listed as the bot sees them; "
                "an id typed in the box beside a list wins.",
            },
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
                    "public_server_url",
                    "offer_server_when_unavailable",
                ]
            },
        ),
        ("Joining", {"fields": ["join_method", "join_role_ids"]}),
        (
            "Invites",
            {"fields": ["invite_max_age_seconds", "invite_pool_size", "fallback_invite_url"]},
        ),
        (
            "Referral roles",
            {
                "fields": [
                    "referral_roles",
                    "referral_role_name",
                    "keep_referral_role",
                    "referral_role_coverage",
                ],
                "description": "Each link's invites give the member that link's own role, so "
                "the bot knows which link a member came through however many join at once. "
                "The roles have no permissions; the bot needs Manage Roles and a role above them.",
            },
        ),
        ("Roles on conversion", {"fields": ["auto_role_assignment", "target_role_ids"]}),
        ("Privacy", {"fields": ["influencers_see_answers"]}),
        (
            "Preview",
            {
                "fields": ["previews"],
                "description": "As saved: save to see your changes here.",
            },
        ),
    ]
    readonly_fields = ["referral_role_coverage", "discord_directory", "previews"]

    class Media:
        css = {"all": ["campaigns/campaign_form.css"]}
        js = ["campaigns/pickers.js"]

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        form.refresh_directory = request.GET.get("refresh_directory") == "1"
        form.directory_url = reverse("admin:campaigns_campaign_discord_directory")
        return form

    def get_urls(self):
        directory = path(
            "discord-directory/",
            self.admin_site.admin_view(self.directory_view),
            name="campaigns_campaign_discord_directory",
        )
        return [directory, *super().get_urls()]

    def directory_view(self, request):
        """A guild's channels and roles as the bot sees them, for the form's script."""
        if not self.has_change_permission(request) and not self.has_add_permission(request):
            return JsonResponse({"error": "Not allowed."}, status=403)
        found = guild_directory(
            request.GET.get("guild_id", "")[:20],
            refresh=request.GET.get("refresh") == "1",
        )
        return JsonResponse(asdict(found))

    @admin.display(description="as members see it")
    def previews(self, obj: Campaign | None) -> str:
        return previews(obj)

    @admin.display(description="bot's view")
    def discord_directory(self, obj: Campaign | None) -> str:
        guilds = bot_guilds()
        status = guilds.error
        if not status and obj is not None and obj.guild_id:
            found = guild_directory(obj.guild_id)
            status = found.error or (
                f"{len(found.channels)} channels and {len(found.roles)} roles in this server."
            )
        elif not status:
            status = f"The bot is in {len(guilds.guilds)} server(s)."
        return format_html(
            '{} <a class="picker__refresh" href="?refresh_directory=1">Refresh from Discord</a>',
            status,
        )

    @admin.display(description="links with a role")
    def referral_role_coverage(self, obj: Campaign) -> str:
        if obj.pk is None:
            return "Roles are created for each link once the campaign is saved."
        state = coverage(obj)
        if not state.enabled:
            return state.reason
        text = f"{state.tagged} of {state.tagged + state.untagged} link(s) role-tagged."
        return f"{text} {state.reason}".strip()

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if is_influencer(request.user):
            # An influencer sees the campaigns their links belong to, nothing else.
            qs = qs.filter(pk__in=request.user.referral_links.values("campaign_id"))
        return qs

    @admin.display(description="links")
    def link_count(self, obj: Campaign) -> int:
        return obj.links.count()

    @admin.display(description="analytics")
    def dashboard(self, obj: Campaign) -> str:
        url = reverse("admin:analytics_dashboard_campaign", args=[obj.pk])
        return format_html('<a href="{}">dashboard</a>', url)
