"""The visitor's side of managed invites: handing one out (the visitor's own again, a pooled
one, one made on demand, or the campaign's fallback), one press at a time."""

import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.dispatch import Signal
from django.utils import timezone

from botworker.discord_rest import DiscordError
from campaigns.models import Campaign
from referrals.invites._pool import Status, create_invite, revoke_lead, usable_until
from referrals.models import ManagedInvite, ReferralLink, UntrackedHandout
from referrals.roles import ensure_referral_role, wants_role

log = logging.getLogger("referrals.invites")

# A visitor's invite is handed to them again only while they have this long to accept it before
# it is revoked (INVITE_REVOKE_LEAD_SECONDS ahead of its expiry).
REUSE_MARGIN = timedelta(seconds=60)

# Sent after commit with `campaign_id` when a handout drew on a campaign's pools. The task
# module (above this one) listens and queues the top-up, so this module never imports it.
pool_drawn = Signal()


class NoInviteAvailable(Exception):
    """Discord could not give an invite and the campaign has no fallback."""


@dataclass(frozen=True)
class Handout:
    url: str
    tracked: bool
    invite: ManagedInvite | None = None


def hand_out_invite(link: ReferralLink, visitor_id: str) -> Handout:
    """Give this visitor of `link` an invite.

    0. The visitor already holds a usable invite of this link (pressed Join again): that one,
       so a restless visitor drains neither the pool nor the guild's invite cap.
    1. Claim the pooled invite that expires soonest (still comfortably valid) for the link.
    2. Pool empty: create one on Discord now, within INVITE_POOL_WAIT_SECONDS, already bound to
       this visitor (so no concurrent visitor can take it first).
    3. Discord failing: the campaign's fallback invite, recorded as an untracked handout.
    Either way a top-up of the pool is queued after commit.
    """
    with _one_press_at_a_time(link, visitor_id):
        held = held_invite(link, visitor_id)
        if held is not None:
            log.info("invite %s handed again to its visitor on link %s", held, link.referral_code)
            return Handout(held.discord_invite_url, True, held)
        return _hand_out_new(link, visitor_id)


@contextmanager
def _one_press_at_a_time(link: ReferralLink, visitor_id: str):
    """A visitor's presses on one link are served one after the other (a double-click sends
    two), so the second finds the first one's invite. The lock lives in the cache (shared
    through Redis); a press that waited longer than a handout can take goes ahead anyway."""
    key = f"join-press:{link.pk}:{visitor_id[:64]}"
    hold = int(settings.INVITE_POOL_WAIT_SECONDS) + 10
    deadline = time.monotonic() + settings.INVITE_POOL_WAIT_SECONDS + 5
    pause = threading.Event()
    locked = False
    try:
        while visitor_id and not (locked := cache.add(key, 1, timeout=hold)):
            if time.monotonic() > deadline:
                break
            pause.wait(0.05)
    except Exception as exc:  # the cache is unreachable: serve the press unserialised
        log.warning("join press of link %s not serialised: %r", link.referral_code, exc)
    try:
        yield
    finally:
        if locked:
            cache.delete(key)


def _hand_out_new(link: ReferralLink, visitor_id: str) -> Handout:
    campaign = link.campaign
    invite = claim_pooled_invite(link, visitor_id)
    if invite is None:
        if wants_role(link) and not link.referral_role_id:
            ensure_referral_role(link, budget=settings.INVITE_POOL_WAIT_SECONDS / 2)
        try:
            invite = create_invite(
                campaign,
                budget=settings.INVITE_POOL_WAIT_SECONDS,
                link=link,
                visitor_id=visitor_id,
            )
        except DiscordError as exc:
            return _fallback(link, visitor_id, f"{exc.__class__.__name__}: {exc}")
    transaction.on_commit(lambda: pool_drawn.send(sender=Campaign, campaign_id=str(campaign.pk)))
    log.info(
        "invite %s assigned to link %s (campaign %s)",
        invite.discord_invite_code,
        link.referral_code,
        campaign.pk,
    )
    return Handout(invite.discord_invite_url, True, invite)


def held_invite(link: ReferralLink, visitor_id: str) -> ManagedInvite | None:
    """The invite of `link` this visitor was given and has not used, while there is still time
    to accept it; None otherwise."""
    if not visitor_id:
        return None
    usable = timezone.now() + revoke_lead(link.campaign) + REUSE_MARGIN
    return (
        ManagedInvite.objects.filter(
            referral_link=link,
            visitor_id=visitor_id[:64],
            status=Status.ASSIGNED,
            expires_at__gt=usable,
        )
        .order_by("-expires_at")
        .first()
    )


def claim_pooled_invite(link: ReferralLink, visitor_id: str) -> ManagedInvite | None:
    """Atomically bind one pooled invite to the link; None when the pool is empty.

    `skip_locked` lets concurrent visitors each take a different row on PostgreSQL instead of
    queueing; the conditional update is the claim itself, so a row is never handed out twice.
    """
    now = timezone.now()
    # A role-tagged link's invites carry its role: only its own pool fits.
    own = {"referral_link": link} if link.referral_role_id else {"referral_link__isnull": True}
    while True:
        with transaction.atomic():
            invite = (
                ManagedInvite.objects.select_for_update(skip_locked=True)
                .filter(
                    campaign_id=link.campaign_id,
                    status=Status.POOLED,
                    expires_at__gt=usable_until(link.campaign, now),
                    **own,
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
