"""`manage.py demo_data`: one demo campaign in the local Discord's default guild, ready to walk.

Idempotent: running it again updates the same rows instead of adding more.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from botworker.management.devonly import require
from campaigns.management.demo import DEMO_CAMPAIGN
from campaigns.models import Campaign, JoinMethod, OnboardingField
from campaigns.scoping import make_influencer
from referrals.models import ReferralLink

try:
    from botworker.emulator import defaults as discord
except ModuleNotFoundError:  # installed from the wheel, which leaves the local Discord out
    discord = None


DEMO_ADMIN = ("admin", "invitetrail-demo")

FIELDS = [
    {
        "key": "favourite_game",
        "label": "Which game do you play most?",
        "field_type": OnboardingField.FieldType.SHORT_TEXT,
        "placeholder": "e.g. Minecraft",
        "max_length": 60,
    },
    {
        "key": "email",
        "label": "Email for the drop announcement",
        "field_type": OnboardingField.FieldType.EMAIL,
        "required": False,
    },
    {
        "key": "experience",
        "label": "How long have you been playing?",
        "field_type": OnboardingField.FieldType.CHOICE,
        "choices": ["Under a year", "1-3 years", "More than 3 years"],
    },
]

INFLUENCERS = [
    ("ava", "Ava", "Stone", [("Ava on YouTube", "youtube"), ("Ava on X", "x")]),
    ("ben", "Ben", "Okafor", [("Ben on TikTok", "tiktok"), ("Ben on Twitch", "twitch")]),
    ("cara", "Cara", "Lind", [("Cara's newsletter", "newsletter"), ("Cara on Reddit", "reddit")]),
]


class Command(BaseCommand):
    help = "Create (or refresh) the demo campaign, its onboarding form, influencers and links."

    @transaction.atomic
    def handle(self, *args, **options) -> None:
        require(discord, "demo_data")
        campaign = self.campaign()
        self.fields(campaign)
        links = self.links(campaign)
        self.stdout.write(f"Campaign: {campaign.campaign_name} (guild {campaign.guild_id})")
        for link in links:
            self.stdout.write(f"  {link.influencer.username:5} {link.title:20} {link.referral_url}")
        if settings.DEBUG:
            self.superuser()
            self.influencer_logins(links)

    def campaign(self) -> Campaign:
        campaign, _ = Campaign.objects.update_or_create(
            campaign_name=DEMO_CAMPAIGN,
            defaults={
                "guild_id": discord.GUILD_ID,
                "channel_id": discord.INVITE_CHANNEL_ID,
                "welcome_channel_id": discord.WELCOME_CHANNEL_ID,
                # Visitors and members read this; "(demo)" stays in the admin's name.
                "public_title": "Summer Drop",
                "headline": "Join the Summer Drop",
                "offer_title": "Early access + an exclusive role",
                "description": (
                    "Be first in line for the summer drop: early access to the beta, weekly "
                    "giveaways and a community of players who actually show up."
                ),
                "highlights": "Early beta access\nWeekly giveaways\nThe Campaign Participant role",
                "brand_color": "#5865F2",
                "button_label": "Join Discord",
                # Both paths in the demo: "Join with Discord" (OAuth) first, the invite second.
                "join_method": JoinMethod.BOTH,
                "invite_max_age_seconds": 600,
                "invite_pool_size": 5,
                "fallback_invite_url": "",
                "auto_role_assignment": True,
                "target_role_ids": [discord.MEMBER_ROLE_ID, discord.PARTICIPANT_ROLE_ID],
                "is_active": True,
            },
        )
        return campaign

    def fields(self, campaign: Campaign) -> None:
        for order, spec in enumerate(FIELDS):
            values = {"required": True, "placeholder": "", "max_length": None, "choices": []}
            values.update({k: v for k, v in spec.items() if k != "key"})
            OnboardingField.objects.update_or_create(
                campaign=campaign, key=spec["key"], defaults={**values, "order": order}
            )

    def links(self, campaign: Campaign) -> list[ReferralLink]:
        User = get_user_model()
        links = []
        for username, first, last, link_specs in INFLUENCERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.test"},
            )
            if created:
                user.set_unusable_password()
                user.save(update_fields=["password"])
            for title, platform in link_specs:
                link = ReferralLink.objects.filter(
                    campaign=campaign, influencer=user, title=title
                ).first()
                if link is None:
                    link = ReferralLink.objects.create(
                        campaign=campaign, influencer=user, title=title, platform=platform
                    )
                links.append(link)
        return links

    def influencer_logins(self, links: list[ReferralLink]) -> None:
        """Let a person sign in as an influencer and see the admin scoped to their links."""
        _, password = DEMO_ADMIN
        names = sorted({link.influencer.username for link in links})
        for user in {link.influencer for link in links}:
            make_influencer(user)
            user.set_password(password)
            user.save(update_fields=["password"])
        self.stdout.write(f"Influencer logins (DEBUG only): {', '.join(names)} / {password}")

    def superuser(self) -> None:
        User = get_user_model()
        username, password = DEMO_ADMIN
        user, _ = User.objects.get_or_create(
            username=username, defaults={"email": "admin@demo.test"}
        )
        user.is_staff = user.is_superuser = True
        user.set_password(password)
        user.save()
        self.stdout.write(f"Admin login (DEBUG only): {username} / {password}")
