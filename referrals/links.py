"""Looking up a referral link the way every visitor-facing endpoint must: valid or a reason.

The lookup is the first thing every landing page does, so the link (with its campaign and its
influencer's name) is cached under its code: one cache read per request instead of a join over
three tables. Saving or deleting a link, its campaign or its influencer forgets the cached copy
(now and again after commit, so a request racing the save cannot re-cache the old row);
`LINK_CACHE_SECONDS` bounds how long a copy lives in any case. Unknown codes are cached too, so
scanning for codes costs no query; creating a link forgets its code's "unknown". Each cached
copy carries a stamp (`cache_stamp`) under which the views keep what they derive from it.

Each process also keeps the copies it read for `LINK_LOCAL_CACHE_SECONDS` (1 s by default): a
link that is being clicked costs its landing pages and Join presses no cache round trip (and no
unpickling) at all. A save forgets the process's own copies at once; other processes see it
when theirs lapse, within that second.
"""

import secrets
import time

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
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
    link = cached_link(code)
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


_MISSING = "missing"


def cache_key(code: str) -> str:
    return f"link:v1:{code}"


# code -> (lapses at, on the monotonic clock; the link or _MISSING). Shared by the process's
# threads: the copies are only read (their related objects are loaded before they are kept).
_local: dict[str, tuple[float, ReferralLink | str]] = {}
_LOCAL_MAX = 10_000
_clock = time.monotonic  # tests move it


def cached_link(code: str) -> ReferralLink | None:
    """The link for a valid `code` (campaign and influencer loaded), or None: from this
    process's copies, else the cache, else the database (then cached)."""
    local = settings.LINK_LOCAL_CACHE_SECONDS if settings.LINK_CACHE_SECONDS else 0
    if local:
        kept = _local.get(code)
        if kept is not None and kept[0] > _clock():
            return None if isinstance(kept[1], str) else kept[1]
    found = _shared_link(code)
    if local:
        if len(_local) >= _LOCAL_MAX:
            _local.clear()
        _local[code] = (_clock() + local, found or _MISSING)
    return found


def _shared_link(code: str) -> ReferralLink | None:
    found = cache.get(cache_key(code)) if settings.LINK_CACHE_SECONDS else None
    if found is None:
        found = (
            ReferralLink.objects.select_related("campaign", "influencer")
            # The influencer is here for their name: no password hash or e-mail in the cache.
            .defer("influencer__password", "influencer__email")
            .filter(referral_code=code)
            .first()
        ) or _MISSING
        if settings.LINK_CACHE_SECONDS:
            if not isinstance(found, str):
                found.cache_stamp = secrets.token_hex(8)
            cache.set(cache_key(code), found, timeout=settings.LINK_CACHE_SECONDS)
    return None if isinstance(found, str) else found


def cache_stamp(link: ReferralLink) -> str:
    """What tells this cached copy of `link` from any other: new each time the link is read
    from the database into the cache, the same for every request served from that copy ("" for
    a link not from the cache). Whatever is derived from the link, its campaign and influencer
    alone (the rendered landing page) can be kept under it: forgetting the link forgets it."""
    return getattr(link, "cache_stamp", "")


def forget_links(codes) -> None:
    """Drop these codes' cached links, now and once the current transaction commits."""
    codes = [code for code in codes if code]
    keys = [cache_key(code) for code in codes]
    if keys:

        def forget() -> None:
            for code in codes:
                _local.pop(code, None)
            cache.delete_many(keys)

        forget()
        transaction.on_commit(forget)


def forget_local_links() -> None:
    """Drop this process's copies (tests that empty the cache between cases)."""
    _local.clear()


def on_link_changed(sender, instance: ReferralLink, raw: bool = False, **kwargs) -> None:
    forget_links([instance.referral_code])


def on_campaign_changed(sender, instance: Campaign, raw: bool = False, **kwargs) -> None:
    forget_links(
        ReferralLink.objects.filter(campaign_id=instance.pk).values_list("referral_code", flat=True)
    )


def on_influencer_changed(sender, instance, update_fields=None, raw=False, **kwargs) -> None:
    """A renamed influencer shows on their landing pages; a login (last_login only) does not."""
    if update_fields is not None and set(update_fields) <= {"last_login"}:
        return
    forget_links(
        ReferralLink.objects.filter(influencer_id=instance.pk).values_list(
            "referral_code", flat=True
        )
    )
