"""Looking up a referral link the way every visitor-facing endpoint must: valid or a reason."""

from django.utils import timezone

from campaigns.models import Campaign
from referrals.codes import is_valid_code
from referrals.models import ReferralLink


class LinkUnavailable(Exception):
    """Why a code cannot be used, in words for the visitor, with the HTTP status to answer."""

    def __init__(self, status: int, title: str, message: str, campaign: Campaign | None = None):
        super().__init__(message)
        self.status = status
        self.title = title
        self.message = message
        self.campaign = campaign


NOT_FOUND = (
    "Link not found",
    "This referral link doesn't exist. Check that you copied the whole address.",
)


def find_live_link(code: str) -> ReferralLink:
    """The active link for `code` in a live campaign, or LinkUnavailable (404 or 410)."""
    if not is_valid_code(code):
        raise LinkUnavailable(404, *NOT_FOUND)
    link = (
        ReferralLink.objects.select_related("campaign", "influencer")
        .filter(referral_code=code)
        .first()
    )
    if link is None:
        raise LinkUnavailable(404, *NOT_FOUND)
    campaign = link.campaign
    now = timezone.now()
    if not link.is_active:
        raise LinkUnavailable(
            410, "Link switched off", "This referral link is no longer active.", campaign
        )
    if link.expires_at and link.expires_at <= now:
        raise LinkUnavailable(410, "Link expired", "This referral link has expired.", campaign)
    state = campaign.state(now)
    if state == "not_started":
        raise LinkUnavailable(
            410,
            "Not open yet",
            f"{campaign.display_title} opens on {campaign.starts_at:%d %B %Y at %H:%M} UTC.",
            campaign,
        )
    if state != "live":
        raise LinkUnavailable(
            410,
            "Campaign over",
            f"{campaign.display_title} has ended. Thanks for coming by!",
            campaign,
        )
    return link
