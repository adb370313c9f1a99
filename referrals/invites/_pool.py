"""The pools' side of managed invites: creating them on Discord within the guild's cap, topping
pools up, and revoking what should no longer be handed out (see the package's docstring)."""

import logging
import re
import time
from datetime import datetime, timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from botworker.discord_rest import DiscordError, discord
from campaigns.models import Campaign
from referrals.models import ManagedInvite, ReferralLink
from referrals.roles import wants_role

log = logging.getLogger("referrals.invites")

INVITE_CODE_RE = re.compile(r"^[A-Za-z0-9-]{2,32}$")
# At most this many invites are created for one campaign in one top-up run.
TOP_UP_BATCH = 10
# A handout's top-up request stands this long at most before the next handout may queue another.
TOP_UP_QUEUED_SECONDS = 60
TOP_UP_ASK_SECONDS = 1.0
# pg_advisory_xact_lock(namespace, guild) serialises the guild invite cap's check-and-insert.
_CAP_LOCK_NAMESPACE = 14_001
Status = ManagedInvite.Status


class InviteCapReached(DiscordError):
    """The guild already holds GUILD_INVITE_CAP managed invites: no new one is made."""


def invite_url(code: str) -> str:
    return f"{settings.DISCORD_INVITE_BASE}/{code}"


def usable_until(campaign: Campaign, now: datetime) -> datetime:
    """Pooled invites expiring before this are too close to expiry to hand to a visitor."""
    return now + timedelta(seconds=max(60, campaign.invite_max_age_seconds // 2))


def revoke_lead(campaign: Campaign) -> timedelta:
    """How long before its expiry an assigned, unused invite is revoked."""
    return timedelta(
        seconds=min(settings.INVITE_REVOKE_LEAD_SECONDS, campaign.invite_max_age_seconds // 4)
    )


def create_invite(
    campaign: Campaign,
    *,
    budget: float | None = None,
    link: ReferralLink | None = None,
    visitor_id: str = "",
    pool_for: ReferralLink | None = None,
) -> ManagedInvite:
    """Create one single-use invite on Discord: for the campaign's pool, for `pool_for`'s own
    pool, or assigned at once to `link`. A role-tagged link's invite carries its role.

    The guild's cap (GUILD_INVITE_CAP) holds under concurrency without holding a lock across
    the call to Discord:
    1. Already at the cap: refuse without asking Discord.
    2. Create the invite on Discord.
    3. Under a per-guild lock, count again and record it; a creator that lost the race records
       its invite as revoked (so the bot never reads its vanishing as a use), deletes it on
       Discord and refuses. Discord's own limit (~1,000) leaves room for that moment.
    """
    _refuse_over_cap(campaign.guild_id, _active_invites(campaign.guild_id))
    owner = link or pool_for
    role_id = owner.referral_role_id if owner is not None and wants_role(owner) else ""
    data = discord().create_invite(
        campaign.channel_id,
        max_age=campaign.invite_max_age_seconds,
        role_ids=[role_id] if role_id else None,
        budget=budget,
    )
    code = data.get("code") if isinstance(data, dict) else None
    if not isinstance(code, str) or not INVITE_CODE_RE.fullmatch(code):
        raise DiscordError(f"Discord returned an invite without a valid code: {str(data)[:200]}")
    expires_at = _parse_time(data.get("expires_at")) or (
        timezone.now() + timedelta(seconds=campaign.invite_max_age_seconds)
    )
    with transaction.atomic():
        _lock_guild_invites(campaign.guild_id)
        active = _active_invites(campaign.guild_id)
        over_cap = active >= settings.GUILD_INVITE_CAP
        invite = ManagedInvite.objects.create(
            campaign=campaign,
            discord_invite_code=code,
            discord_invite_url=invite_url(code),
            guild_id=campaign.guild_id,
            channel_id=campaign.channel_id,
            max_uses=int(data.get("max_uses") or 1),
            status=Status.REVOKED if over_cap else Status.ASSIGNED if link else Status.POOLED,
            referral_link=owner if role_id or link else None,
            visitor_id=visitor_id[:64],
            assigned_at=timezone.now() if link and not over_cap else None,
            expires_at=expires_at,
        )
    if over_cap:
        try:
            discord().delete_invite(code, budget=10)
        except DiscordError as exc:  # recorded as revoked: it expires unused, credited to nobody
            log.warning("could not delete over-cap invite %s: %s", code, exc)
        _refuse_over_cap(campaign.guild_id, active)
    return invite


def _active_invites(guild_id: str) -> int:
    return ManagedInvite.objects.filter(
        guild_id=guild_id, status__in=[Status.POOLED, Status.ASSIGNED]
    ).count()


def _refuse_over_cap(guild_id: str, active: int) -> None:
    if active >= settings.GUILD_INVITE_CAP:
        raise InviteCapReached(
            f"guild {guild_id} already holds {active} managed invites "
            f"(GUILD_INVITE_CAP={settings.GUILD_INVITE_CAP})"
        )


def _lock_guild_invites(guild_id: str) -> None:
    """Serialise the cap's count-and-insert per guild until the transaction ends. PostgreSQL:
    an advisory lock; SQLite needs none (IMMEDIATE transactions already take the write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [_CAP_LOCK_NAMESPACE, int(guild_id) % 2**31],
            )


def top_up_pool(campaign_id) -> int:
    """Create invites until the campaign's pools hold what they should.

    The campaign's own pool: `invite_pool_size` usable invites while any live link has no
    referral role. Each role-tagged link assigned an invite within LINK_POOL_ACTIVE_SECONDS:
    LINK_POOL_SIZE of its own. Returns how many were created. One top-up per campaign runs at a
    time (a cache lock); a Discord failure ends the run early: the next periodic run continues.
    """
    try:
        return _top_up(campaign_id)
    finally:
        # Run (or found nothing to do): the next handout may ask for a top-up again.
        cache.delete(_top_up_queued_key(campaign_id))


def top_up_wanted(campaign_id) -> bool:
    """Whether a handout that drew on the campaign's pools should queue a top-up: true for the
    first since the last top-up ran, so a burst of visitors queues one task, not one each
    (every queued task is a broker round trip on the request, and a queue the worker must get
    through before the click drains). The mark lapses after TOP_UP_QUEUED_SECONDS in case the
    task is lost; the periodic top-up of all pools runs anyway. A process asks the cache at most
    once a second per campaign: under load most handouts cost no round trip for it at all."""
    key = _top_up_queued_key(campaign_id)
    now = time.monotonic()
    if now - _top_up_asked.get(key, -TOP_UP_ASK_SECONDS) < TOP_UP_ASK_SECONDS:
        return False
    if len(_top_up_asked) > 10_000:
        _top_up_asked.clear()
    _top_up_asked[key] = now
    try:
        return cache.add(key, 1, timeout=TOP_UP_QUEUED_SECONDS)
    except Exception as exc:  # the cache is unreachable: queue it, as before the mark
        log.warning("pool top-up mark for campaign %s not set: %r", campaign_id, exc)
        return True


_top_up_asked: dict[str, float] = {}


def _top_up_queued_key(campaign_id) -> str:
    return f"pool-top-up-queued:{campaign_id}"


def _top_up(campaign_id) -> int:
    campaign = Campaign.objects.filter(pk=campaign_id).first()
    if campaign is None or campaign.state() != "live":
        return 0
    if not cache.add(f"pool-top-up:{campaign.pk}", 1, timeout=120):
        return 0
    created = 0
    try:
        for owner, missing in _pool_shortfalls(campaign):
            for _ in range(min(missing, TOP_UP_BATCH - created)):
                try:
                    create_invite(campaign, pool_for=owner)
                except DiscordError as exc:
                    log.warning("pool top-up for campaign %s stopped: %s", campaign.pk, exc)
                    return created
                created += 1
    finally:
        cache.delete(f"pool-top-up:{campaign.pk}")
        if created:
            log.info("pools of campaign %s topped up with %d invite(s)", campaign.pk, created)
    return created


def _pool_shortfalls(campaign: Campaign) -> list[tuple[ReferralLink | None, int]]:
    """(None for the campaign's pool, or a link; invites it lacks), hottest links first."""
    now = timezone.now()
    usable = ManagedInvite.objects.filter(
        campaign=campaign, status=Status.POOLED, expires_at__gt=usable_until(campaign, now)
    )
    links = campaign.links.filter(is_active=True)
    shortfalls: list[tuple[ReferralLink | None, int]] = []
    if not campaign.uses_referral_roles or links.filter(referral_role_id="").exists():
        shared = usable.filter(referral_link__isnull=True).count()
        shortfalls.append((None, campaign.invite_pool_size - shared))
    if campaign.uses_referral_roles and settings.LINK_POOL_SIZE:
        since = now - timedelta(seconds=settings.LINK_POOL_ACTIVE_SECONDS)
        hot = (
            links.exclude(referral_role_id="")
            .filter(invites__assigned_at__gte=since)
            .distinct()
            .select_related("campaign")
        )
        ready = dict(
            usable.filter(referral_link__in=hot)
            .values_list("referral_link")
            .annotate(n=Count("pk"))
            .values_list("referral_link", "n")
        )
        for link in hot:
            shortfalls.append((link, settings.LINK_POOL_SIZE - ready.get(link.pk, 0)))
    return [(owner, missing) for owner, missing in shortfalls if missing > 0]


def retire_invites(now: datetime | None = None) -> dict[str, int]:
    """Keep Discord's invite list honest and small. Returns counts by outcome.

    1. Invites past their expiry are marked expired.
    2. Invites handed to a visitor and unused, within INVITE_REVOKE_LEAD_SECONDS (at most a
       quarter of their lifetime) of expiry, are revoked: marked revoked *before* the DELETE is
       sent, so the bot never counts their disappearance as a use, whatever order things
       happen in. (Discord sends no event when an invite expires; a vanishing close to expiry
       would otherwise leave the bot unsure whether it was used.)
    3. Pooled invites no longer worth handing out (too close to expiry, or their campaign no
       longer live) are deleted, so guilds stay under Discord's invite limit.
    """
    now = now or timezone.now()
    counts = {"expired": 0, "revoked": 0}
    counts["expired"] = ManagedInvite.objects.filter(
        status__in=[Status.POOLED, Status.ASSIGNED], expires_at__lte=now
    ).update(status=Status.EXPIRED)
    counts["revoked"] += _revoke_unused_assigned(now)
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


def _revoke_unused_assigned(now: datetime) -> int:
    lead = settings.INVITE_REVOKE_LEAD_SECONDS
    due = ManagedInvite.objects.filter(
        status=Status.ASSIGNED, expires_at__lte=now + timedelta(seconds=lead)
    ).select_related("campaign")
    revoked = 0
    for invite in due:
        if invite.expires_at - now > revoke_lead(invite.campaign):
            continue
        # The claim comes first: once the row says revoked, the bot ignores the vanishing.
        if not ManagedInvite.objects.filter(pk=invite.pk, status=Status.ASSIGNED).update(
            status=Status.REVOKED
        ):
            continue  # used (or revoked) meanwhile
        revoked += 1
        try:
            discord().delete_invite(invite.discord_invite_code, budget=10)
        except DiscordError as exc:
            # Still revoked: it expires on its own in moments, and nobody is credited with it.
            log.warning("could not delete unused invite %s: %s", invite.discord_invite_code, exc)
    return revoked


def _parse_time(value) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return parse_datetime(value)
    except ValueError:
        return None
