"""Recording Discord joins and leaves, and what the bot needs to attribute them.

Called by the bot (through sync_to_async) and by the OAuth join path. Every write is idempotent:
a join is keyed by (guild, member, join time), so a duplicated GUILD_MEMBER_ADD changes nothing.
"""

import logging
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime

from django.db import IntegrityError, transaction
from django.db.models import Case, CharField, Q, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.utils import timezone

from analytics import bulk
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

    Written by the same code as a batch of the bot's (`record_joins`), as a batch of one.
    """
    (outcome,) = _record_together(
        [
            {
                "guild_id": guild_id,
                "member_id": member_id,
                "username": username,
                "joined_at": joined_at,
                "decision": decision,
                "invite_code": invite_code,
                "link_id": link_id,
                "candidates": candidates,
                "rejoin_flag": rejoin_flag,
                "source": source,
                "credit_link_id": credit_link_id,
            }
        ]
    )
    return outcome


def record_joins(joins: list[dict]) -> list[JoinOutcome | Exception]:
    """`record_join` for each keyword set (source "invite"), written together: a burst's joins
    cost one short transaction of a few statements however many there are, with every read
    done before it begins (on SQLite the write lock is taken when a transaction begins, and
    everyone else's writes wait for its end). The result is what recording them one by one, in
    order, gives. If the batch fails as a whole, each join is tried on its own, so one bad join
    loses no other; the result then holds the exception in that join's place."""
    try:
        return _record_together(joins)
    except Exception:
        log.exception("recording %d join(s) together failed: recording them one by one", len(joins))
    outcomes: list[JoinOutcome | Exception] = []
    for kwargs in joins:
        try:
            outcomes.append(record_join(**kwargs))
        except Exception as exc:  # reported by the caller, with the member's ids
            outcomes.append(exc)
    return outcomes


@dataclass
class _Planned:
    """One join of a batch, worked out before the write."""

    join: dict
    link: ReferralLink | None
    campaign: Campaign | None
    rejoin: bool
    event: ReferralEvent
    session: OnboardingSession | None = None


def _record_together(joins: list[dict]) -> list[JoinOutcome]:
    if not joins:
        return []
    plans = _plan(joins)
    with transaction.atomic():
        new_ids = {e.pk for e in bulk.write_events([p.event for p in plans])}
        new = [p for p in plans if p.event.pk in new_ids]
        _mark_invites_used_together(new)
        _open_sessions(new)
    outcomes: list[JoinOutcome] = []
    for plan in plans:
        j = plan.join
        if plan.event.pk not in new_ids:
            # The same join again (duplicate GUILD_MEMBER_ADD, or start-up reconciliation
            # racing a live event): already recorded, nothing more to do.
            outcomes.append(JoinOutcome(created=False, rejoin=plan.rejoin, decision=j["decision"]))
            continue
        log.info(
            "join guild=%s member=%s decision=%s invite=%s link=%s rejoin=%s",
            j["guild_id"],
            j["member_id"],
            j["decision"],
            j.get("invite_code"),
            plan.link.referral_code if plan.link else None,
            plan.rejoin,
        )
        outcomes.append(
            JoinOutcome(
                created=True,
                rejoin=plan.rejoin,
                decision=j["decision"],
                campaign_id=str(plan.campaign.pk) if plan.campaign else None,
                link_id=str(plan.link.pk) if plan.link else None,
                welcome=welcome_for(plan.campaign, plan.link, j["member_id"], plan.session),
                candidates=tuple(j.get("candidates", ())),
            )
        )
    return outcomes


def _plan(joins: list[dict]) -> list[_Planned]:
    """Each join's link, campaign, rejoin flag and event, from four reads for the whole batch."""
    link_ids = {j.get(k) for j in joins for k in ("link_id", "credit_link_id")} - {None, ""}
    links = {
        str(link.pk): link
        for link in ReferralLink.objects.filter(pk__in=link_ids).select_related(
            "campaign", "influencer"
        )
    }
    campaign_of = _campaigns_of_candidates(
        [j for j in joins if not links.get(str(j.get("link_id") or j.get("credit_link_id")))]
    )
    members = {j["member_id"] for j in joins}
    joined_before = set(
        ReferralEvent.objects.filter(
            event_type=ReferralEvent.EventType.DISCORD_JOIN, discord_user_id__in=members
        )
        .annotate(guild=KeyTextTransform("guild_id", "metadata"))
        .values_list("discord_user_id", "guild")
    )
    now = timezone.now()
    plans = []
    for j in joins:
        guild_id, member_id = j["guild_id"], j["member_id"]
        link = links.get(str(j["link_id"])) if j.get("link_id") else None
        credited = link
        if link is None and j.get("credit_link_id"):
            credited = links.get(str(j["credit_link_id"]))
        candidates = tuple(j.get("candidates", ()))
        campaign = credited.campaign if credited else campaign_of(guild_id, candidates)
        rejoin = bool(j.get("rejoin_flag")) or (member_id, guild_id) in joined_before
        joined_before.add((member_id, guild_id))  # a second join in the same batch is a rejoin
        metadata = {
            "guild_id": guild_id,
            "decision": j["decision"],
            "source": j.get("source", "invite"),
            "invite_code": j.get("invite_code"),
            "candidates": list(candidates),
            "rejoin": rejoin,
            "joined_at": j["joined_at"].isoformat(),
            "referral_code": link.referral_code if link else None,
        }
        if credited is not None and link is None:
            metadata["link_credit"] = credited.referral_code
        event = ReferralEvent(
            link=credited,
            campaign=campaign,
            event_type=ReferralEvent.EventType.DISCORD_JOIN,
            discord_user_id=member_id,
            dedupe_key=join_key(guild_id, member_id, j["joined_at"]),
            metadata=metadata,
            created_at=now,
        )
        plans.append(_Planned(j, link, campaign, rejoin, event))
    return plans


def _campaigns_of_candidates(joins: list[dict]):
    """For joins credited to no link, from two reads: (guild, candidates) → the one campaign all
    candidate invites belong to (an ambiguous join inside one campaign is still that campaign's
    member), or None."""
    codes = {code for j in joins for code in j.get("candidates", ())}
    if not codes:
        return lambda guild_id, candidates: None
    invites = list(
        ManagedInvite.objects.filter(discord_invite_code__in=codes).values_list(
            "discord_invite_code", "guild_id", "campaign_id"
        )
    )
    campaigns = Campaign.objects.in_bulk({campaign_id for _, _, campaign_id in invites})

    def campaign_of(guild_id: str, candidates: tuple[str, ...]) -> Campaign | None:
        if not candidates:
            return None
        wanted = set(candidates)
        known = [(g, c) for code, g, c in invites if code in wanted]
        campaign_ids = {c for g, c in known if g == guild_id}
        if len(campaign_ids) != 1 or len(known) != len(wanted):
            return None
        return campaigns.get(campaign_ids.pop())

    return campaign_of


def _mark_invites_used_together(plans: list[_Planned]) -> None:
    """The invites the joins used: one UPDATE for the exact joins (naming the member), one for
    the link joins' candidates (one of them was the member's; which one cannot be told)."""
    now = timezone.now()
    by_guild: dict[str, dict[str, str]] = {}
    for p in plans:
        if p.join["decision"] == "exact" and p.join.get("invite_code"):
            by_guild.setdefault(p.join["guild_id"], {})[p.join["invite_code"]] = p.join["member_id"]
    for guild_id, members in by_guild.items():
        ManagedInvite.objects.filter(
            guild_id=guild_id, discord_invite_code__in=list(members)
        ).update(
            status=Status.USED,
            used_at=now,
            used_by_discord_user_id=Case(
                *(When(discord_invite_code=code, then=Value(m)) for code, m in members.items()),
                output_field=CharField(),
            ),
        )
    # One of these was this member's; which one cannot be told, so no member is named.
    linked = Q()
    for p in plans:
        if p.join["decision"] == "link" and p.join.get("candidates") and p.link is not None:
            linked |= Q(
                guild_id=p.join["guild_id"],
                referral_link=p.link,
                discord_invite_code__in=list(p.join["candidates"]),
            )
    if linked:
        ManagedInvite.objects.filter(linked, status__in=[Status.ASSIGNED, Status.POOLED]).update(
            status=Status.USED, used_at=now
        )


def _open_sessions(plans: list[_Planned]) -> None:
    """Each new member's onboarding session for their campaign (a rejoin gets none): the ones
    that exist are reused, the others written in one INSERT."""
    wanted = [p for p in plans if p.campaign is not None and not p.rejoin]
    if not wanted:
        return
    pairs = {(p.campaign.pk, p.join["member_id"]) for p in wanted}
    existing = _sessions_for(pairs)
    fresh: dict[tuple, OnboardingSession] = {}
    for p in wanted:
        key = (p.campaign.pk, p.join["member_id"])
        if key not in existing and key not in fresh:
            fresh[key] = OnboardingSession(
                id=secrets.token_urlsafe(12),
                campaign=p.campaign,
                discord_user_id=p.join["member_id"],
                link=p.link,
                referral_code=p.link.referral_code if p.link else "",
                guild_id=p.join["guild_id"],
                discord_username=p.join["username"][:64],
            )
    if fresh:
        # A session another writer opened meanwhile stays theirs (and is read back below).
        OnboardingSession.objects.bulk_create(fresh.values(), ignore_conflicts=True)
        existing = _sessions_for(pairs)
    for p in wanted:
        p.session = existing.get((p.campaign.pk, p.join["member_id"]))


def _sessions_for(pairs: set[tuple]) -> dict[tuple, OnboardingSession]:
    campaigns = {c for c, _ in pairs}
    members = {m for _, m in pairs}
    return {
        (s.campaign_id, s.discord_user_id): s
        for s in OnboardingSession.objects.filter(
            campaign_id__in=campaigns, discord_user_id__in=members
        )
        if (s.campaign_id, s.discord_user_id) in pairs
    }


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
    # One leave per member and minute after their latest recorded join: Discord may send
    # GUILD_MEMBER_REMOVE twice, and a member may leave, rejoin and leave again before the
    # rejoin is recorded (then the minute tells the two leaves apart).
    minute = f"{left_at.astimezone(UTC):%Y-%m-%dT%H:%M}"
    after = f"after:{last_join.pk}:" if last_join is not None else ""
    key = f"leave:{guild_id}:{member_id}:{after}{minute}"
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
