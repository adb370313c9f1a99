"""Referral roles: one Discord role per referral link, given by the link's invites.

Discord's role invites (Create Channel Invite `role_ids`, documented since 2026-01-13) give the
invite's roles to whoever accepts it, so a member carrying link L's role came through L however
many people joined in the same second. The role has no permissions, is not hoisted or
mentionable, and sits at the bottom of the role list (where Discord puts a new role); it needs
the bot's Manage Roles and a bot role above it.

Discord allows 250 roles per guild. A link gets a role only while the guild keeps
REFERRAL_ROLE_HEADROOM roles free; links beyond it are attributed by the invite diff alone.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.db.models import Q
from django.utils import timezone

from botworker.discord_rest import DiscordError, discord
from campaigns.models import Campaign, ReferralRoles
from referrals.links import forget_links
from referrals.models import ReferralLink

log = logging.getLogger(__name__)

GUILD_ROLE_LIMIT = 250
ROLE_NAME_MAX = 100
ROLE_ID_MAX = 20


@dataclass(frozen=True)
class RoleCoverage:
    """What a campaign's admin page says about its referral roles."""

    enabled: bool
    tagged: int  # links with a role
    untagged: int  # links without one
    reason: str  # why some links have none ("" when all do)


def role_name(campaign: Campaign, link: ReferralLink) -> str:
    """The campaign's template with {link} and {campaign}, cut to Discord's 100 characters."""
    name = campaign.referral_role_name or "via {link}"
    name = name.replace("{link}", link.title).replace("{campaign}", campaign.campaign_name)
    return (name.strip() or f"via {link.referral_code}")[:ROLE_NAME_MAX]


def wants_role(link: ReferralLink) -> bool:
    return link.campaign.uses_referral_roles


def ensure_referral_role(link: ReferralLink, *, budget: float | None = None) -> str:
    """The link's referral role id, created on Discord if the campaign wants one and the guild
    has room; "" when the link goes without (diff-only attribution).

    1. Nothing to do when the link has a role or its campaign does not use them.
    2. One creation per link at a time (a cache lock): a concurrent caller goes without.
    3. Count the guild's roles; at 250 − REFERRAL_ROLE_HEADROOM the link goes without.
    4. Create the role and store its id with a conditional update, so that a role created by a
       racing caller is never overwritten (the loser deletes its own).
    """
    if link.referral_role_id or not wants_role(link):
        return link.referral_role_id
    campaign = link.campaign
    lock = f"referral-role:{link.pk}"
    if not cache.add(lock, 1, timeout=60):
        return ""
    try:
        rest = discord()
        roles = rest.guild_roles(campaign.guild_id, budget=budget)
        if len(roles) >= GUILD_ROLE_LIMIT - settings.REFERRAL_ROLE_HEADROOM:
            log.warning(
                "link %s gets no referral role: guild %s has %d roles (headroom %d of %d)",
                link.referral_code,
                campaign.guild_id,
                len(roles),
                settings.REFERRAL_ROLE_HEADROOM,
                GUILD_ROLE_LIMIT,
            )
            return ""
        created = rest.create_role(campaign.guild_id, role_name(campaign, link), budget=budget)
        role_id = str(created.get("id", "")) if isinstance(created, dict) else ""
        if not role_id.isdigit() or len(role_id) > ROLE_ID_MAX:
            raise DiscordError(f"Discord returned a role without a valid id: {str(created)[:200]}")
        stored = ReferralLink.objects.filter(pk=link.pk, referral_role_id="").update(
            referral_role_id=role_id
        )
        forget_links([link.referral_code])  # stored with update(): no signal to say so
        if not stored:
            rest.delete_role(campaign.guild_id, role_id, budget=budget)
            link.refresh_from_db(fields=["referral_role_id"])
            return link.referral_role_id
    except DiscordError as exc:
        log.warning("link %s gets no referral role now: %s", link.referral_code, exc)
        return ""
    finally:
        cache.delete(lock)
    link.referral_role_id = role_id
    log.info("referral role %s created for link %s", role_id, link.referral_code)
    return role_id


def ensure_all_referral_roles(limit: int = 50) -> int:
    """Give roles to links of per-link campaigns that lack one (a periodic catch-up)."""
    links = (
        ReferralLink.objects.filter(
            referral_role_id="", is_active=True, campaign__referral_roles=ReferralRoles.PER_LINK
        )
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=timezone.now()))
        .select_related("campaign")
        .order_by("created_at")[:limit]
    )
    return sum(1 for link in links if ensure_referral_role(link, budget=10))


def delete_referral_role(guild_id: str, role_id: str) -> bool:
    """Remove a deleted link's role from Discord; False when Discord no longer had it."""
    return discord().delete_role(guild_id, role_id, budget=10)


def coverage(campaign: Campaign) -> RoleCoverage:
    links = campaign.links.all()
    total = links.count()
    tagged = links.exclude(referral_role_id="").count()
    enabled = campaign.uses_referral_roles
    reason = ""
    if not enabled:
        reason = "Referral roles are off for this campaign: joins are attributed by invite use."
    elif tagged < total:
        reason = (
            f"{total - tagged} link(s) have no role yet: the bot needs Manage Roles with its "
            f"highest role above the referral roles, and the guild must keep "
            f"{settings.REFERRAL_ROLE_HEADROOM} of its {GUILD_ROLE_LIMIT} roles free "
            "(REFERRAL_ROLE_HEADROOM). They are attributed by invite use until then."
        )
    return RoleCoverage(enabled, tagged, total - tagged, reason)
