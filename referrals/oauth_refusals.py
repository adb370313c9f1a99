"""How "Join with Discord" stops: the refusals a visitor reads, and the callback's time budget."""

from __future__ import annotations

import logging
import time

from botworker.discord_rest import DiscordError
from referrals.models import ReferralLink

log = logging.getLogger("referrals.oauth")

# Discord's JSON error codes for `PUT /guilds/{g}/members/{u}`, in words for the visitor.
JOIN_ERRORS = {
    30001: (
        "You're in too many servers",
        "Discord lets an account be in at most 100 servers, and yours is full. "
        "Leave a server you no longer use, then try again.",
    ),
    40007: ("You can't join this server", "Discord says this account is banned from it."),
    50013: (
        "This server isn't ready yet",
        "Our bot isn't allowed to add members there yet. The organisers have been told.",
    ),
    50001: (
        "This server isn't ready yet",
        "Our bot can't reach the server right now. The organisers have been told.",
    ),
}
SIGN_IN_REFUSED = (
    "Discord didn't accept the sign-in",
    "Discord turned down this sign-in, so we couldn't add you.",
)


class Budget:
    """One deadline for all of a callback's Discord calls."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds

    def left(self) -> float:
        return max(0.0, self.deadline - time.monotonic())

    @property
    def spent(self) -> bool:
        return self.left() <= 0.0


class OAuthRefused(Exception):
    """Why "Join with Discord" stopped, in words for the visitor, and whether the invite path
    is worth offering instead (not when the link itself is no longer usable)."""

    def __init__(
        self,
        status: int,
        title: str,
        message: str,
        link: ReferralLink | None = None,
        *,
        offer_invite: bool = True,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.link = link
        self.offer_invite = offer_invite and link is not None


def unavailable(link: ReferralLink, error: DiscordError, budget: Budget) -> OAuthRefused:
    if budget.spent:
        log.warning(
            "oauth join link=%s: Discord took over %.0f s (%s)",
            link.referral_code,
            budget.seconds,
            type(error).__name__,
        )
        return OAuthRefused(
            504,
            "Discord is taking too long",
            "We stopped waiting for Discord after a few seconds. If the server doesn't show up "
            "in Discord in a minute, try again or use an invite.",
            link,
        )
    log.warning("oauth join link=%s: Discord unavailable (%s)", link.referral_code, error)
    return OAuthRefused(
        503,
        "Discord isn't answering",
        "We couldn't finish adding you. If the server doesn't show up in Discord, use an invite.",
        link,
    )
