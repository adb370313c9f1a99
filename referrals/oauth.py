""" "Join with Discord": OAuth2 `guilds.join` for a referral link, exact by construction.

The visitor authorises our application on Discord; we learn their user id, add them to the
campaign's guild ourselves and record the join against the link before Discord even tells the
bot. No invite is spent. The views are thin callers of `authorize_url` and `complete`.

State (the `state` parameter) is signed with SECRET_KEY, carries the visitor id, the link and a
nonce, and expires after DISCORD_OAUTH_STATE_SECONDS; the nonce is stored when the state is
first used (a unique row), so a state works once. Codes and tokens are used once, never stored
and never logged; the access token is revoked as soon as the join is done.

The callback's Discord calls (code exchange, `/users/@me`, the `PUT`, the revocation) share one
time budget, DISCORD_OAUTH_CALLBACK_SECONDS, well under the web server's worker timeout: past it
the visitor gets a page saying Discord is too slow, never a worker killed mid-request.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.core import signing
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from botworker.discord_rest import DiscordError, DiscordHTTPError, discord
from campaigns.models import Campaign
from campaigns.validators import is_snowflake
from referrals.links import LinkUnavailable, find_live_link
from referrals.models import OAuthJoinAttempt, ReferralLink
from referrals.oauth_refusals import (
    JOIN_ERRORS,
    SIGN_IN_REFUSED,
    Budget,
    OAuthRefused,
    unavailable,
)

log = logging.getLogger(__name__)

SALT = "invitetrail.oauth-state"
SCOPES = ("identify", "guilds.join")
DISCORD_WEB = "https://discord.com"
# What the token revocation may take at most (it never delays the visitor much).
REVOKE_SECONDS = 2.0
Status = OAuthJoinAttempt.Status


@dataclass(frozen=True)
class Joined:
    """The visitor is in the guild: `created` False when they already were (nothing credited).

    A created join is the caller's to record (analytics.joins.record_oauth_join): the events
    live above this module, which only speaks to Discord and keeps the attempt."""

    link: ReferralLink
    member_id: str
    created: bool
    channel_url: str
    username: str = ""
    joined_at: datetime | None = None


# -- URLs -------------------------------------------------------------------------------------


def _discord_origin() -> str:
    parts = urlsplit(settings.DISCORD_API_BASE)
    return f"{parts.scheme}://{parts.netloc}"


def _is_discord() -> bool:
    return (urlsplit(settings.DISCORD_API_BASE).hostname or "").endswith("discord.com")


def authorize_base() -> str:
    """DISCORD_OAUTH_AUTHORIZE_URL, else `<origin of DISCORD_API_BASE>/oauth2/authorize`."""
    return settings.DISCORD_OAUTH_AUTHORIZE_URL or f"{_discord_origin()}/oauth2/authorize"


def callback_url() -> str:
    """The redirect URI, identical at authorisation and at the code exchange (Discord checks)."""
    return settings.PUBLIC_BASE_URL + reverse("referrals:discord-oauth-callback")


def channel_url(campaign: Campaign, user_id: str) -> str:
    """Where the new member lands: the welcome channel (else the invite channel)."""
    template = settings.DISCORD_CHANNEL_URL
    if not template:
        template = (
            DISCORD_WEB + "/channels/{guild_id}/{channel_id}"
            if _is_discord()
            else _discord_origin() + "/channels/{channel_id}?as={user_id}"
        )
    channel_id = campaign.welcome_channel_id or campaign.channel_id
    return template.format(guild_id=campaign.guild_id, channel_id=channel_id, user_id=user_id)


def authorize_url(link: ReferralLink, visitor_id: str) -> str:
    """Discord's consent page for `link`'s visitor, with a fresh signed single-use state."""
    state = signing.dumps(
        {"v": visitor_id, "l": str(link.pk), "n": secrets.token_urlsafe(16)}, salt=SALT
    )
    query = {
        "response_type": "code",
        "client_id": settings.DISCORD_CLIENT_ID,
        "scope": " ".join(SCOPES),
        "redirect_uri": callback_url(),
        "state": state,
        "prompt": "consent",
    }
    return f"{authorize_base()}?{urlencode(query)}"


# -- the callback -----------------------------------------------------------------------------


def complete(*, state: str, code: str, error: str, visitor_id: str) -> Joined:
    """Discord sent the visitor back: add them to the guild and record the join, or refuse.

    1. The state: signed, unexpired, this visitor's; its nonce is consumed (second use: no).
    2. The link must still be live (the campaign may have ended since the click).
    3. Exchange the code (as the OAuth2 client), read `/users/@me`, then mark the attempt
       `joining` with the user id — before the `PUT`, so the bot, whose GUILD_MEMBER_ADD may
       arrive before Discord answers us, knows this join is ours.
    4. `PUT /guilds/{g}/members/{u}` with the campaign's join roles: 201 → joined (the caller
       records it: exact, source oauth, keyed by Discord's `joined_at`; without one, the bot
       does, from its GUILD_MEMBER_ADD); 204 → already a
       member, nothing credited; a Discord error → refused with what happened.
    """
    payload = _read_state(state, visitor_id)
    link = ReferralLink.objects.select_related("campaign").filter(pk=payload["l"]).first()
    if link is None:
        raise OAuthRefused(404, "Link not found", "This referral link no longer exists.")
    attempt = _consume(payload["n"], link, visitor_id)
    try:
        link = find_live_link(link.referral_code)
    except LinkUnavailable as gone:
        _fail(attempt, "link unavailable")
        raise OAuthRefused(
            gone.status, gone.title, gone.message, link, offer_invite=False
        ) from None
    campaign = link.campaign
    if error or not code:
        _fail(attempt, "not authorised")
        raise OAuthRefused(
            400,
            "You didn't authorise the app",
            "Without your OK on Discord we can't add you. You can try again, or use an invite.",
            link,
        )
    if not campaign.offers_oauth:
        _fail(attempt, "oauth switched off")
        raise OAuthRefused(
            409, "Join with Discord is off", "This campaign now uses invite links.", link
        )
    budget = Budget(settings.DISCORD_OAUTH_CALLBACK_SECONDS)
    user_id, username, token = _sign_in(code, link, attempt, budget)
    OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(
        discord_user_id=user_id, guild_id=campaign.guild_id, status=Status.JOINING
    )
    try:
        member = _add_member(campaign, user_id, token, link, attempt, budget)
    finally:
        _revoke(token, budget)
    url = channel_url(campaign, user_id)
    if member is None:
        OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(status=Status.ALREADY_MEMBER)
        log.info(
            "oauth join link=%s guild=%s member=%s: already a member",
            link.referral_code,
            campaign.guild_id,
            user_id,
        )
        return Joined(link, user_id, created=False, channel_url=url)
    joined_at = _joined_at(member)
    if joined_at is not None:
        OAuthJoinAttempt.objects.filter(pk=attempt.pk, joined_at__isnull=True).update(
            joined_at=joined_at
        )
    OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(status=Status.JOINED)
    return Joined(
        link, user_id, created=True, channel_url=url, username=username, joined_at=joined_at
    )


def _read_state(state: str, visitor_id: str) -> dict[str, str]:
    try:
        payload = signing.loads(state, salt=SALT, max_age=settings.DISCORD_OAUTH_STATE_SECONDS)
    except signing.SignatureExpired:
        raise OAuthRefused(
            400,
            "This sign-in has expired",
            "You took a little long on Discord. Go back to the invitation and try again.",
        ) from None
    except signing.BadSignature:
        payload = None
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(k), str) and payload.get(k) for k in ("l", "n")
    ):
        raise OAuthRefused(
            400, "This sign-in isn't valid", "The link back from Discord was changed or broken."
        )
    if not visitor_id or not secrets.compare_digest(str(payload.get("v", "")), visitor_id):
        raise OAuthRefused(
            400,
            "This sign-in started elsewhere",
            "It began in another browser. Open the invitation here and press the button again.",
        )
    return payload


def _consume(nonce: str, link: ReferralLink, visitor_id: str) -> OAuthJoinAttempt:
    try:
        with transaction.atomic():
            return OAuthJoinAttempt.objects.create(
                nonce=nonce[:32], link=link, visitor_id=visitor_id
            )
    except IntegrityError:
        raise OAuthRefused(
            400,
            "This sign-in was already used",
            "Each sign-in works once. Go back to the invitation to start again.",
            link,
        ) from None


def _sign_in(
    code: str, link: ReferralLink, attempt: OAuthJoinAttempt, budget: Budget
) -> tuple[str, str, str]:
    """(user id, username, access token) for the code, or OAuthRefused."""
    client = discord()
    access_token = ""
    try:
        token = client.exchange_code(code, callback_url(), budget=budget.left())
        granted = set(str(token.get("scope", "")).split())
        access_token = str(token.get("access_token") or "")
        if not access_token or not set(SCOPES) <= granted:
            _fail(attempt, "scopes missing")
            _revoke(access_token, budget)
            raise OAuthRefused(400, *SIGN_IN_REFUSED, link)
        me = client.current_user(access_token, budget=budget.left())
    except DiscordHTTPError as refused:
        _fail(attempt, f"sign-in refused: HTTP {refused.status}")
        log.warning(
            "oauth sign-in refused link=%s: HTTP %s %s",
            link.referral_code,
            refused.status,
            refused.message[:100],
        )
        raise OAuthRefused(400, *SIGN_IN_REFUSED, link) from None
    except DiscordError as down:
        _fail(attempt, "discord too slow" if budget.spent else "discord unavailable")
        _revoke(access_token, budget)
        raise unavailable(link, down, budget) from None
    user_id = str(me.get("id", ""))
    if not is_snowflake(user_id):
        _fail(attempt, "bad user id")
        _revoke(access_token, budget)
        raise OAuthRefused(502, *SIGN_IN_REFUSED, link)
    return user_id, str(me.get("username") or "")[:64], access_token


def _add_member(
    campaign: Campaign,
    user_id: str,
    token: str,
    link: ReferralLink,
    attempt: OAuthJoinAttempt,
    budget: Budget,
) -> dict | None:
    try:
        return discord().add_guild_member(
            campaign.guild_id,
            user_id,
            token,
            roles=list(campaign.join_role_ids or []),
            budget=budget.left(),
        )
    except DiscordHTTPError as refused:
        _fail(attempt, f"join refused: {refused.code or refused.status}")
        log.warning(
            "oauth join refused link=%s guild=%s member=%s: HTTP %s code %s",
            link.referral_code,
            campaign.guild_id,
            user_id,
            refused.status,
            refused.code,
        )
        title, message = JOIN_ERRORS.get(
            refused.code, ("Discord didn't add you", "Discord refused to add you to the server.")
        )
        raise OAuthRefused(400 if refused.status < 500 else 502, title, message, link) from None
    except DiscordError as down:
        # Left `joining`: Discord may have added them after all, and then the bot links it.
        OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(error="join unanswered")
        raise unavailable(link, down, budget) from None


def _revoke(access_token: str, budget: Budget) -> None:
    """End the user's grant: the token did its one job (or cannot do it). Within what is left
    of the budget, at most REVOKE_SECONDS; a failure is logged (the token then lapses on its
    own, after Discord's expiry) and never fails the visitor's join."""
    if not access_token:
        return
    seconds = min(budget.left(), REVOKE_SECONDS)
    if seconds <= 0:
        log.warning("oauth access token not revoked: the callback's time budget is spent")
        return
    try:
        discord().revoke_token(access_token, budget=seconds)
    except DiscordError as error:
        log.warning("oauth access token not revoked: %s", type(error).__name__)


def _joined_at(member: dict) -> datetime | None:
    """Discord's `joined_at` for the new member: the join's key. None when unusable: the bot
    then records the join with the time from its GUILD_MEMBER_ADD (a time made up here would be
    a second key for the same join, and leave the bot's event to invite attribution)."""
    joined_at = parse_datetime(str(member.get("joined_at") or ""))
    if joined_at is None or timezone.is_naive(joined_at):
        log.warning("oauth join: member object without a usable joined_at: the bot records it")
        return None
    return joined_at


def _fail(attempt: OAuthJoinAttempt, reason: str) -> None:
    OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(status=Status.FAILED, error=reason)
