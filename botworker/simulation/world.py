"""The run's own campaigns, influencers and links, in the emulator's default guild, and the two
lookups visitors make in that world (the welcome's message, the conversion row).

Each campaign has a short one-step form (three fields of different types) and gives the
Member role on conversion, so a conversion exercises validation, the task and a Discord call.
Its join method is `both` when some visitors use "Join with Discord" (`--oauth-share`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model

from analytics.models import Conversion
from botworker.emulator import defaults as discord
from campaigns.models import Campaign, OnboardingField, ReferralRoles
from referrals.invites import top_up_pool
from referrals.models import ReferralLink

POOL_SIZE = 20
POLL_SECONDS = 0.02  # only for the conversion row, which no event announces across processes


@dataclass(frozen=True)
class LinkInfo:
    code: str
    link_id: str
    campaign_id: str


def form_answers(n: int) -> dict[str, str]:
    """Valid answers to the form below for visitor `n`, keyed by field key (= input id)."""
    return {"game": f"game {n}", "email": f"visitor{n}@example.test", "platform": "PC"}


def create_world(
    links: int,
    campaigns: int,
    join_method: str = "invite",
    *,
    invite_max_age: int = 600,
    referral_roles: str = "on",
) -> list[LinkInfo]:
    """`campaigns` live campaigns with full invite pools and `links` links spread over them.

    `invite_max_age` is the campaigns' invite lifetime; `referral_roles` "on" gives each link
    its own role carried by its invites (Campaign.referral_roles "per_link"), "off" not."""
    T = OnboardingField.FieldType
    created = []
    for c in range(campaigns):
        campaign = Campaign.objects.create(
            campaign_name=f"Simulated {c + 1}",
            guild_id=discord.GUILD_ID,
            channel_id=discord.INVITE_CHANNEL_ID,
            welcome_channel_id=discord.WELCOME_CHANNEL_ID,
            headline="Join the simulation",
            offer_title="Synthetic early access",
            invite_pool_size=POOL_SIZE,
            auto_role_assignment=True,
            target_role_ids=[discord.MEMBER_ROLE_ID],
            join_method=join_method,
            invite_max_age_seconds=invite_max_age,
            referral_roles=ReferralRoles.PER_LINK if referral_roles == "on" else ReferralRoles.OFF,
        )
        fields = [
            ("game", "Favourite game", T.SHORT_TEXT, {}),
            ("email", "Email", T.EMAIL, {}),
            ("platform", "Platform", T.CHOICE, {"choices": ["PC", "Console"]}),
        ]
        for order, (key, label, kind, extra) in enumerate(fields):
            OnboardingField.objects.create(
                campaign=campaign, key=key, label=label, field_type=kind, order=order, **extra
            )
        created.append(campaign)
    User = get_user_model()
    result = []
    for n in range(links):
        campaign = created[n % campaigns]
        influencer, _ = User.objects.get_or_create(
            username=f"influencer{n % 10}", defaults={"email": f"influencer{n % 10}@example.test"}
        )
        link = ReferralLink.objects.create(
            campaign=campaign, influencer=influencer, title=f"Link {n + 1}", platform="youtube"
        )
        result.append(LinkInfo(link.referral_code, str(link.pk), str(campaign.pk)))
    for campaign in created:
        # A full pool before the first visitor, as a deployed site has (beat keeps it so).
        while top_up_pool(campaign.pk):
            pass
    return result


def message_with_button(emu: Any, custom_id: str) -> str | None:
    """The id of the (newest) message carrying the button `custom_id`. Runs on the emulator's
    loop; newest first, since the welcome was just posted."""
    for message in reversed(emu.world.messages.values()):
        for row in message.components:
            if any(c.get("custom_id") == custom_id for c in row.get("components", [])):
                return message.id
    return None


def conversion_time(member_id: str, deadline: float) -> float | None:
    """When the member's conversion row was written (epoch seconds), polling until `deadline`:
    with a Celery worker the row comes after the bot's answer, and nothing announces it."""
    while True:
        created = (
            Conversion.objects.filter(discord_user_id=member_id)
            .values_list("created_at", flat=True)
            .first()
        )
        if created is not None:
            return created.timestamp()
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_SECONDS)
