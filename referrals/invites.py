"""Managed invites: the per-campaign pool, handing one out, and keeping Discord tidy.

A visitor never waits on Discord when the pool has an invite: assignment is one row claimed in
the database. Only an empty pool makes the visitor wait, for at most INVITE_POOL_WAIT_SECONDS,
and when Discord cannot help the visitor still gets the campaign's fallback invite.
"""

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from botworker.discord_rest import DiscordError, discord
from campaigns.models import Campaign
from referrals.models import ManagedInvite, ReferralLink, UntrackedHandout

log = logging.getLogger(__name__)

INVITE_CODE_RE = re.compile(r"^[A-Za-z0-9-]{2,32}$")
# At most this many invites are created for one campaign in one top-up run.
TOP_UP_BATCH = 10
Status = ManagedInvite.Status


class NoInviteAvailable(Exception):
    """Discord could not give an invite and the campaign has no fallback."""


@dataclass(frozen=True)
class Handout:
    url: str
    tracked: bool
    invite: ManagedInvite | None = None


def invite_url(code: str) -> str:
    return f"{settings.DISCORD_INVITE_BASE}/{code}"


def usable_until(campaign: Campaign, now: datetime) -> datetime:
    """Pooled invites expiring before this are too close to expiry to hand to a visitor."""
    return now + timedelta(seconds=max(60, campaign.invite_max_age_seconds // 2))


def hand_out_invite(link: ReferralLink, visitor_id: str) -> Handout:
    """Give this visitor of `link` an invite.

    1. Claim the pooled invite that expires soonest (still comfortably valid) for the link.
    2. Pool empty: create one on Discord now, within INVITE_POOL_WAIT_SECONDS, already bound to
       this visitor (so no concurrent visitor can take it first).
    3. Discord failing: the campaign's fallback invite, recorded as an untracked handout.
    Either way a top-up of the pool is queued after commit.
    """
    campaign = link.campaign
    invite = claim_pooled_invite(link, visitor_id)
    if invite is None:
        try:
            invite = create_invite(
                campaign,
                budget=settings.INVITE_POOL_WAIT_SECONDS,
                link=link,
                visitor_id=visitor_id,
            )
        except DiscordError as exc:
            return _fallback(link, visitor_id, f"{exc.__class__.__name__}: {exc}")
    transaction.on_commit(lambda: _queue_top_up(campaign.pk))
    log.info(
        "invite %s assigned to link %s (campaign %s)",
        invite.discord_invite_code,
        link.referral_code,
        campaign.pk,
    )
    return Handout(invite.discord_invite_url, True, invite)


def claim_pooled_invite(link: ReferralLink, visitor_id: str) -> ManagedInvite | None:
    """Atomically bind one pooled invite to the link; None when the pool is empty.

    `skip_locked` lets concurrent visitors each take a different row on PostgreSQL instead of
    queueing; the conditional update is the claim itself, so a row is never handed out twice.
    """
    now = timezone.now()
    while True:
        with transaction.atomic():
            invite = (
                ManagedInvite.objects.select_for_update(skip_locked=True)
                .filter(
                    campaign_id=link.campaign_id,
                    status=Status.POOLED,
                    expires_at__gt=usable_until(link.campaign, now),
                )
                .order_by("expires_at")
                .first()
            )
            if invite is None:
                return None
            claimed = ManagedInvite.objects.filter(pk=invite.pk, status=Status.POOLED).update(
                status=Status.ASSIGNED,
                referral_link=link,
                visitor_id=visitor_id[:64],
                assigned_at=now,
            )
            if claimed == 1:
                invite.refresh_from_db()
                return invite


def create_invite(
    campaign: Campaign,
    *,
    budget: float | None = None,
    link: ReferralLink | None = None,
    visitor_id: str = "",
) -> ManagedInvite:
    """Create one single-use invite on Discord: pooled, or assigned at once to `link`."""
    active = ManagedInvite.objects.filter(
        guild_id=campaign.guild_id, status__in=[Status.POOLED, Status.ASSIGNED]
    ).count()
    if active >= settings.GUILD_INVITE_CAP:
        raise DiscordError(
            f"guild {campaign.guild_id} already holds {active} managed invites "
            f"(GUILD_INVITE_CAP={settings.GUILD_INVITE_CAP})"
        )
    data = discord().create_invite(
        campaign.channel_id, max_age=campaign.invite_max_age_seconds, budget=budget
    )
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, str) or not INVITE_CODE_RE.match(code):
        raise DiscordError(f"Discord returned an invite without a valid code: {str(data)[:200]}")
    expires_at = _parse_time(data.get("expires_at")) or (
        timezone.now() + timedelta(seconds=campaign.invite_max_age_seconds)
    )
    return ManagedInvite.objects.create(
        campaign=campaign,
        discord_invite_code=code,
        discord_invite_url=invite_url(code),
        guild_id=campaign.guild_id,
        channel_id=campaign.channel_id,
        max_uses=int(data.get("max_uses") or 1),
        status=Status.ASSIGNED if link else Status.POOLED,
        referral_link=link,
        visitor_id=visitor_id[:64],
        assigned_at=timezone.now() if link else None,
        expires_at=expires_at,
    )


def top_up_pool(campaign_id) -> int:
    """Create invites until the campaign's pool holds `invite_pool_size` usable ones.

    Returns how many were created. One top-up per campaign runs at a time (a cache lock), and
    a Discord failure ends the run early: the next periodic run continues.
    """
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.state() != "live":
        return 0
    if not cache.add(f"pool-top-up:{campaign.pk}", 1, timeout=120):
        return 0
    created = 0
    try:
        usable = ManagedInvite.objects.filter(
            campaign=campaign,
            status=Status.POOLED,
            expires_at__gt=usable_until(campaign, timezone.now()),
        ).count()
        for _ in range(min(campaign.invite_pool_size - usable, TOP_UP_BATCH)):
            try:
                create_invite(campaign)
            except DiscordError as exc:
                log.warning("pool top-up for campaign %s stopped: %s", campaign.pk, exc)
                break
            created += 1
    finally:
        cache.delete(f"pool-top-up:{campaign.pk}")
    if created:
        log.info("pool for campaign %s topped up with %d invite(s)", campaign.pk, created)
    return created


def retire_invites(now: datetime | None = None) -> dict[str, int]:
    """Mark expired invites, and delete from Discord the pooled ones no longer worth handing out
    (too close to expiry, or their campaign is no longer live), so guilds stay under Discord's
    invite limit. Returns counts by outcome."""
    now = now or timezone.now()
    counts = {"expired": 0, "revoked": 0}
    counts["expired"] = ManagedInvite.objects.filter(
        status__in=[Status.POOLED, Status.ASSIGNED], expires_at__lte=now
    ).update(status=Status.EXPIRED)
    for invite in ManagedInvite.objects.filter(status=Status.POOLED).select_related("campaign"):
        campaign = invite.campaign
        stale = invite.expires_at and invite.expires_at <= usable_until(campaign, now)
        if not stale and campaign.state(now) == "live":
            continue
        try:
            discord().delete_invite(invite.discord_invite_code, budget=10)
        except DiscordError as exc:
            log.warning("could not revoke invite %s: %s", invite.discord_invite_code, exc)
            break
        counts["revoked"] += ManagedInvite.objects.filter(
            pk=invite.pk, status=Status.POOLED
        ).update(status=Status.REVOKED)
    return counts


def _fallback(link: ReferralLink, visitor_id: str, reason: str) -> Handout:
    campaign = link.campaign
    log.warning(
        "no tracked invite for link %s (campaign %s): %s; %s",
        link.referral_code,
        campaign.pk,
        reason,
        "sending the fallback invite" if campaign.fallback_invite_url else "no fallback set",
    )
    if not campaign.fallback_invite_url:
        raise NoInviteAvailable(reason)
    UntrackedHandout.objects.create(link=link, visitor_id=visitor_id[:64], reason=reason[:200])
    return Handout(campaign.fallback_invite_url, False)


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None


def _queue_top_up(campaign_id) -> None:
    from referrals.tasks import top_up_pool_task

    top_up_pool_task.delay(str(campaign_id))
