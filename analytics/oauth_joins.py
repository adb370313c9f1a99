"""OAuth2 `guilds.join` joins ("Join with Discord"): recorded by the web app or the bot,
whichever is first, welcomed once by the bot, and never part of invite attribution (they spend
no invite: the bot links the GUILD_MEMBER_ADD to the web app's attempt instead).
"""

from dataclasses import replace
from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from analytics.joins import JoinOutcome, join_key, record_join, welcome_for
from analytics.models import OnboardingSession, ReferralEvent
from referrals.models import OAuthJoinAttempt

OAUTH_JOINING = (OAuthJoinAttempt.Status.JOINING, OAuthJoinAttempt.Status.JOINED)


def link_oauth_join(
    *, guild_id: str, member_id: str, username: str, joined_at: datetime | None
) -> JoinOutcome | None:
    """The bot's side of an OAuth join: None unless the web app is adding (or added) this member
    with `guilds.join`; else the join, recorded once, with the welcome to post — once.

    1. The attempt: this member's, in this guild, `joining` or `joined`, and either with exactly
       this join time (Discord's, as the web app stored it), or with no join time yet and begun
       within OAUTH_JOIN_MATCH_SECONDS of this join. A stale attempt (Discord never answered the
       web app) stops matching then, and never claims a later (invite) join.
    2. `record_join` as exact/oauth with the same key the web app uses (guild, member, the
       `joined_at` Discord returned): whichever side comes first records it, the other is a
       no-op. Without a join time from Discord (`joined_at` None) the attempt's is used, else
       the time the join was seen.
    3. `welcomed_at` is claimed with a conditional update: only its winner gets a welcome, so
       a repeated GUILD_MEMBER_ADD (or a second start-up) never welcomes twice.
    """
    at = joined_at or timezone.now()
    bound = timedelta(seconds=settings.OAUTH_JOIN_MATCH_SECONDS)
    fresh = Q(created_at__gte=at - bound, created_at__lte=at + bound)
    matches = Q(joined_at__isnull=True) & fresh
    if joined_at is not None:
        matches |= Q(joined_at=joined_at)
    else:
        matches |= Q(joined_at__gte=at - bound, joined_at__lte=at + bound)
    attempt = (
        OAuthJoinAttempt.objects.filter(
            guild_id=guild_id, discord_user_id=member_id, status__in=OAUTH_JOINING
        )
        .filter(matches)
        .order_by("-created_at")
        .first()
    )
    if attempt is None:
        return None
    joined_at = joined_at or attempt.joined_at or at
    outcome = record_oauth_join(
        guild_id=guild_id,
        member_id=member_id,
        username=username,
        joined_at=joined_at,
        link_id=str(attempt.link_id),
    )
    OAuthJoinAttempt.objects.filter(pk=attempt.pk, joined_at__isnull=True).update(
        joined_at=joined_at
    )
    claimed = OAuthJoinAttempt.objects.filter(pk=attempt.pk, welcomed_at__isnull=True).update(
        welcomed_at=timezone.now()
    )
    if not claimed:
        return replace(outcome, welcome=None)
    if outcome.created:
        return outcome
    # The web app recorded the join first: the welcome is rebuilt from what it recorded.
    event = ReferralEvent.objects.filter(dedupe_key=join_key(guild_id, member_id, joined_at))
    event = event.select_related("campaign", "link__influencer").first()
    if event is None or event.campaign is None or event.metadata.get("rejoin"):
        return outcome
    session = OnboardingSession.objects.filter(
        campaign=event.campaign, discord_user_id=member_id
    ).first()
    return replace(
        outcome,
        campaign_id=str(event.campaign_id),
        link_id=str(event.link_id) if event.link_id else None,
        welcome=welcome_for(event.campaign, event.link, member_id, session),
    )


def link_offline_oauth_joins(
    guild_id: str, members: list[tuple[str, str, datetime]]
) -> dict[str, JoinOutcome]:
    """At start-up, the joins made while the bot was away that were OAuth joins: each linked
    (recorded if the web app did not) and, if never welcomed, with its welcome. `members` are
    (member id, username, joined_at); the others are the invite tracker's."""
    ids = [member_id for member_id, _, _ in members]
    with_attempts = set(
        OAuthJoinAttempt.objects.filter(
            guild_id=guild_id, discord_user_id__in=ids, status__in=OAUTH_JOINING
        ).values_list("discord_user_id", flat=True)
    )
    linked = {}
    for member_id, username, joined_at in members:
        if member_id not in with_attempts:
            continue
        outcome = link_oauth_join(
            guild_id=guild_id, member_id=member_id, username=username, joined_at=joined_at
        )
        if outcome is not None:
            linked[member_id] = outcome
    return linked


def record_oauth_join(
    *, guild_id: str, member_id: str, username: str, joined_at: datetime, link_id: str
) -> JoinOutcome:
    """An OAuth2 `guilds.join` join: exact by construction, credited to the link the visitor
    came from. `joined_at` must be the member's, as Discord returned it (the dedupe key)."""
    return record_join(
        guild_id=guild_id,
        member_id=member_id,
        username=username,
        joined_at=joined_at,
        decision="exact",
        link_id=link_id,
        source="oauth",
    )
