"""Small read-only queries the bot needs that belong to no domain module."""

from dataclasses import dataclass
from datetime import datetime

from botworker.attribution import InviteState
from campaigns.models import Campaign
from referrals.models import ManagedInvite


@dataclass(frozen=True)
class CampaignInfo:
    id: str
    name: str
    channel_id: str
    welcome_channel_id: str
    role_ids: tuple[str, ...]  # roles given on conversion (empty when not auto-assigned)
    referral_roles: bool = False  # a role per referral link (Campaign.referral_roles)


def live_campaigns(guild_id: str) -> list[CampaignInfo]:
    """The guild's campaigns that are live now (active, started, not ended)."""
    campaigns = Campaign.objects.filter(guild_id=guild_id, is_active=True).order_by("created_at")
    return [
        CampaignInfo(
            id=str(c.pk),
            name=c.campaign_name,
            channel_id=c.channel_id,
            welcome_channel_id=c.welcome_channel_id,
            role_ids=tuple(str(r) for r in c.target_role_ids) if c.auto_role_assignment else (),
            referral_roles=c.uses_referral_roles,
        )
        for c in campaigns
        if c.state() == "live"
    ]


def managed_invites_created_since(guild_id: str, since: datetime) -> list[InviteState]:
    """Our invites recorded after `since`: created (and maybe consumed) while the bot was away.

    Each is given as it was at creation (no use yet), for the reconciliation's baseline.
    """
    rows = ManagedInvite.objects.filter(guild_id=guild_id, created_at__gt=since).values_list(
        "discord_invite_code", "max_uses", "expires_at"
    )
    return [InviteState(code, 0, max_uses, expires_at) for code, max_uses, expires_at in rows]
