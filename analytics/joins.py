"""Recording Discord joins and leaves, and what the bot needs to attribute them.

Called by the bot (through sync_to_async) and by the OAuth join path. Every write is idempotent:
a join is keyed by (guild, member, join time), so a duplicated GUILD_MEMBER_ADD changes nothing.
"""

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from analytics.models import OnboardingSession, ReferralEvent
from campaigns.models import Campaign
from referrals.models import ManagedInvite, ReferralLink

log = logging.getLogger(__name__)

Status = ManagedInvite.Status
MAX_WELCOME = 2000


@dataclass(frozen=True)
class Welcome:
    """What the bot posts for an attributed member: text, where to try first, the session."""

    text: str
    channel_ids: tuple[str, ...]
    session_id: str
    campaign_name: str


@dataclass(frozen=True)
class JoinOutcome:
    created: bool  # False: this join was already recorded (a duplicated GUILD_MEMBER_ADD)
    rejoin: bool
    decision: str
    campaign_id: str | None = None
    link_id: str | None = None
    welcome: Welcome | None = None
    candidates: tuple[str, ...] = field(default_factory=tuple)


def join_key(guild_id: str, member_id: str, joined_at: datetime) -> str:
    return f"join:{guild_id}:{member_id}:{joined_at.astimezone(UTC).isoformat()}"


def record_join(
    *,
    guild_id: str,
    member_id: str,
    username: str,
    joined_at: datetime,
    decision: str,
    invite_code: str | None = None,
    link_id: str | None = None,
    candidates: tuple[str, ...] = (),
    rejoin_flag: bool = False,
    source: str = "invite",
    credit_link_id: str | None = None,
) -> JoinOutcome:
    """Record one `discord_join` with its attribution decision, once.

    1. The campaign: the link's, or the one campaign every candidate invite belongs to (an
       ambiguous join inside one campaign is still that campaign's member, credited to no link).
    2. A rejoin (Discord's DID_REJOIN flag, or an earlier join record for this member in this
       guild) is recorded as such and never gets a second onboarding session.
    3. The event, the invites' new status and the onboarding session are written in one
       transaction; a second call for the same (guild, member, join time) changes nothing.

    `credit_link_id` on an ambiguous join is link-level credit: the event counts for that link
    (funnel, leaderboards, link pages), while the member stays credited to no link: their
    session, answers and conversion are unattributed.
    """
    link = ReferralLink.objects.filter(pk=link_id).select_related("campaign", "influencer").first()
    credited = link
    if link is None and credit_link_id:
        credited = ReferralLink.objects.filter(pk=credit_link_id).select_related("campaign").first()
    campaign = credited.campaign if credited else _campaign_of(guild_id, candidates)
    earlier = ReferralEvent.objects.filter(
        event_type=ReferralEvent.EventType.DISCORD_JOIN,
        discord_user_id=member_id,
        metadata__guild_id=guild_id,
    ).exists()
    rejoin = rejoin_flag or earlier
    key = join_key(guild_id, member_id, joined_at)
    metadata = {
        "guild_id": guild_id,
        "decision": decision,
        "source": source,
        "invite_code": invite_code,
        "candidates": list(candidates),
        "rejoin": rejoin,
        "joined_at": joined_at.isoformat(),
        "referral_code": link.referral_code if link else None,
    }
    if credited is not None and link is None:
        metadata["link_credit"] = credited.referral_code
    try:
        with transaction.atomic():
            ReferralEvent.objects.create(
                link=credited,
                campaign=campaign,
                event_type=ReferralEvent.EventType.DISCORD_JOIN,
                discord_user_id=member_id,
                dedupe_key=key,
                metadata=metadata,
            )
            _mark_invites_used(guild_id, member_id, decision, invite_code, candidates, link)
            session = None
            if campaign is not None and not rejoin:
                session, _ = OnboardingSession.objects.get_or_create(
                    campaign=campaign,
                    discord_user_id=member_id,
                    defaults={
                        "link": link,
                        "referral_code": link.referral_code if link else "",
                        "guild_id": guild_id,
                        "discord_username": username[:64],
                    },
                )
    except IntegrityError:
        # The same join again (duplicate GUILD_MEMBER_ADD, or start-up reconciliation racing a
        # live event): already recorded, nothing more to do.
        return JoinOutcome(created=False, rejoin=rejoin, decision=decision)
    log.info(
        "join guild=%s member=%s decision=%s invite=%s link=%s rejoin=%s",
        guild_id,
        member_id,
        decision,
        invite_code,
        link.referral_code if link else None,
        rejoin,
    )
    return JoinOutcome(
        created=True,
        rejoin=rejoin,
        decision=decision,
        campaign_id=str(campaign.pk) if campaign else None,
        link_id=str(link.pk) if link else None,
        welcome=welcome_for(campaign, link, member_id, session),
        candidates=tuple(candidates),
    )


def record_joins(joins: list[dict]) -> list[JoinOutcome | Exception]:
    """`record_join` for each keyword set, all in one transaction: a burst's joins cost one
    commit (and on SQLite one wait for the write lock) instead of one each. If the batch fails
    as a whole, each join is tried on its own, so one bad join loses no other; the result then
    holds the exception in that join's place."""
    try:
        with transaction.atomic():
            return [record_join(**kwargs) for kwargs in joins]
    except Exception:
        log.exception("recording %d join(s) together failed: recording them one by one", len(joins))
    outcomes: list[JoinOutcome | Exception] = []
    for kwargs in joins:
        try:
            outcomes.append(record_join(**kwargs))
        except Exception as exc:  # reported by the caller, with the member's ids
            outcomes.append(exc)
    return outcomes


def welcome_for(
    campaign: Campaign | None,
    link: ReferralLink | None,
    member_id: str,
    session: OnboardingSession | None,
) -> Welcome | None:
    if campaign is None or session is None:
        return None
    if session.status == OnboardingSession.Status.COMPLETED:
        return None
    return Welcome(
        text=render_welcome(campaign, link, member_id),
        channel_ids=tuple(c for c in [campaign.welcome_channel_id] if c),
        session_id=session.pk,
        campaign_name=campaign.campaign_name,
    )


def record_leave(*, guild_id: str, member_id: str, left_at: datetime) -> None:
    """A `leave` event, credited to the link the member's latest join was credited to."""
    last_join = (
        ReferralEvent.objects.filter(
            event_type=ReferralEvent.EventType.DISCORD_JOIN,
            discord_user_id=member_id,
            metadata__guild_id=guild_id,
        )
        .order_by("-created_at")
        .first()
    )
    key = f"leave:{guild_id}:{member_id}:{left_at.astimezone(UTC).isoformat()}"
    try:
        with transaction.atomic():
            ReferralEvent.objects.create(
                # Link-level credit on an ambiguous join names no member's link.
                link_id=None
                if last_join is None or last_join.metadata.get("link_credit")
                else last_join.link_id,
                campaign_id=last_join.campaign_id if last_join else None,
                event_type=ReferralEvent.EventType.LEAVE,
                discord_user_id=member_id,
                dedupe_key=key,
                metadata={"guild_id": guild_id},
            )
    except IntegrityError:
        return
    log.info("leave guild=%s member=%s", guild_id, member_id)


def record_return_visit(*, guild_id: str, member_id: str, link_id: str, seen_at: datetime) -> bool:
    """A member already in the guild accepted `link_id`'s role invite: a `return_visit` event
    for the link (not a join: no onboarding, no join count). False when already recorded."""
    link = ReferralLink.objects.filter(pk=link_id).first()
    if link is None:
        return False
    key = f"return:{guild_id}:{member_id}:{link_id}:{seen_at.astimezone(UTC):%Y-%m-%dT%H:%M}"
    try:
        with transaction.atomic():
            ReferralEvent.objects.create(
                link=link,
                campaign_id=link.campaign_id,
                event_type=ReferralEvent.EventType.RETURN_VISIT,
                discord_user_id=member_id,
                dedupe_key=key,
                metadata={"guild_id": guild_id},
            )
    except IntegrityError:
        return False
    log.info("returning member guild=%s member=%s link=%s", guild_id, member_id, link.referral_code)
    return True


def recorded_members(guild_id: str, since: datetime) -> set[str]:
    """Members whose join at or after `since` is already recorded (for reconciliation)."""
    return set(
        ReferralEvent.objects.filter(
            event_type=ReferralEvent.EventType.DISCORD_JOIN,
            metadata__guild_id=guild_id,
            created_at__gte=since,
        ).values_list("discord_user_id", flat=True)
    )


def render_welcome(campaign: Campaign, link: ReferralLink | None, member_id: str) -> str:
    """The campaign's template with {member}, {campaign}, {influencer}; never over 2000 chars
    and never broken by a stray brace in a manager's template."""
    influencer = "a friend"
    if link is not None:
        influencer = link.influencer.get_full_name() or link.influencer.username
    values = {"member": f"<@{member_id}>", "campaign": campaign.display_title}
    values["influencer"] = influencer
    text = campaign.welcome_message
    for name, value in values.items():
        text = text.replace("{" + name + "}", value)
    return text[:MAX_WELCOME]


def _campaign_of(guild_id: str, candidates: tuple[str, ...]) -> Campaign | None:
    if not candidates:
        return None
    campaign_ids = set(
        ManagedInvite.objects.filter(
            guild_id=guild_id, discord_invite_code__in=candidates
        ).values_list("campaign_id", flat=True)
    )
    codes_known = ManagedInvite.objects.filter(discord_invite_code__in=candidates).count()
    if len(campaign_ids) != 1 or codes_known != len(set(candidates)):
        return None
    return Campaign.objects.filter(pk=campaign_ids.pop()).first()


def _mark_invites_used(
    guild_id: str,
    member_id: str,
    decision: str,
    invite_code: str | None,
    candidates,
    link: ReferralLink | None,
) -> None:
    now = timezone.now()
    if decision == "exact" and invite_code:
        ManagedInvite.objects.filter(guild_id=guild_id, discord_invite_code=invite_code).update(
            status=Status.USED, used_at=now, used_by_discord_user_id=member_id
        )
    elif decision == "link" and candidates and link is not None:
        # One of these was this member's; which one cannot be told, so no member is named.
        ManagedInvite.objects.filter(
            guild_id=guild_id,
            referral_link=link,
            discord_invite_code__in=candidates,
            status__in=[Status.ASSIGNED, Status.POOLED],
        ).update(status=Status.USED, used_at=now)
