"""Visitor-facing pages: the landing page (records the click), "Join Discord" (an invite) and
"Join with Discord" (OAuth2 guilds.join: the redirect to Discord and the callback)."""

import secrets

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    HttpResponseRedirect,
)
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.http import require_http_methods

from analytics.oauth_joins import record_oauth_join
from referrals import oauth
from referrals.http import (
    VISITOR_COOKIE,
    record_visit,
    set_visitor_cookie,
    throttle,
    throttle_visit,
    visitor,
)
from referrals.invites import NoInviteAvailable, hand_out_invite
from referrals.links import LinkUnavailable, cache_stamp, find_live_link


@require_http_methods(["GET", "HEAD"])
def landing(request: HttpRequest, code: str) -> HttpResponse:
    wait = throttle_visit(request)
    if wait:
        return slow_down(request, wait)
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return unavailable(request, gone.status, gone.title, gone.message, gone.campaign)

    visitor_id, new_visitor = record_visit(request, link, request.method)
    response = HttpResponse(_landing_page(request, link))
    response["Cache-Control"] = "private, no-store"  # every visit must reach us to be counted
    if new_visitor:
        set_visitor_cookie(response, visitor_id)
    return response


# A landing page is the same for every visitor but for the CSRF token in its Join form: each
# process keeps a link's page, rendered once, under the stamp of the link's cached copy
# (referrals.links), so saving the link, its campaign or its influencer renders it anew, and
# puts each visitor's own token in (`get_token`, which also sets the CSRF cookie). The slot is
# random per process: no campaign text can contain it.
_CSRF_SLOT = f"csrf-slot-{secrets.token_hex(16)}"
_PAGES: dict[str, tuple[str, list[str]]] = {}
_MAX_PAGES = 2000


def _landing_page(request: HttpRequest, link) -> str:
    stamp = cache_stamp(link)
    kept = _PAGES.get(link.referral_code)
    if stamp and kept is not None and kept[0] == stamp:
        parts = kept[1]
    else:
        parts = render_to_string(
            "referrals/landing.html", {**_landing_context(link), "csrf_token": _CSRF_SLOT}
        ).split(_CSRF_SLOT)
        if stamp:
            if len(_PAGES) >= _MAX_PAGES:
                _PAGES.clear()
            _PAGES[link.referral_code] = (stamp, parts)
    return get_token(request).join(parts) if len(parts) > 1 else parts[0]


def _landing_context(link) -> dict:
    """What the landing page shows: the link, its campaign and its influencer, nothing of the
    request (the page is kept for every visitor)."""
    campaign = link.campaign
    return {
        "link": link,
        "campaign": campaign,
        "influencer_name": link.influencer.get_full_name() or link.influencer.username,
        "join_url": reverse("referrals:join", args=[link.referral_code]),
        "join_method": campaign.join_method,
        "oauth_url": reverse("referrals:join-oauth", args=[link.referral_code]),
        "canonical_url": link.build_url(),
        "og_title": campaign.headline or campaign.display_title,
        "og_description": (campaign.offer_title or campaign.description)[:200],
        "og_image": campaign.hero_image_url,
        "button_text_colour": campaign.button_text_colour,
    }


@require_http_methods(["GET", "HEAD"])
def landing_slash(request: HttpRequest, code: str) -> HttpResponse:
    """`/r/<code>/` (a trailing slash added by a chat app or a hand): the page, query kept."""
    target = reverse("referrals:landing", args=[code])
    query = request.META.get("QUERY_STRING", "")
    return HttpResponsePermanentRedirect(f"{target}?{query}" if query else target)


@require_http_methods(["GET", "POST"])
def join(request: HttpRequest, code: str) -> HttpResponse:
    """The "Join Discord" form: a 302 to a tracked single-use invite (or the fallback)."""
    if request.method == "GET":  # a bookmarked or reloaded join URL: back to the page
        return redirect("referrals:landing", code=code)
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return unavailable(request, gone.status, gone.title, gone.message, gone.campaign)

    wait = throttle(request, link)
    if wait:
        return slow_down(request, wait, reverse("referrals:landing", args=[code]), link.campaign)

    visitor_id, new_visitor = visitor(request)
    try:
        handout = hand_out_invite(link, visitor_id, new_visitor=new_visitor)
    except NoInviteAvailable:
        return unavailable(
            request,
            503,
            "Discord isn't answering",
            "We couldn't get you an invite right now. Please try again in a minute.",
            link.campaign,
            back_url=reverse("referrals:landing", args=[code]),
        )
    response = HttpResponseRedirect(handout.url)
    response["Cache-Control"] = "no-store"
    if new_visitor:
        set_visitor_cookie(response, visitor_id)
    return response


@require_http_methods(["GET", "HEAD"])
def join_oauth(request: HttpRequest, code: str) -> HttpResponse:
    """ "Join with Discord": a 302 to Discord's consent page with a signed single-use state."""
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return unavailable(request, gone.status, gone.title, gone.message, gone.campaign)
    if not link.campaign.offers_oauth:
        return redirect("referrals:landing", code=code)
    back = reverse("referrals:landing", args=[code])
    if not settings.DISCORD_CLIENT_ID or not settings.DISCORD_CLIENT_SECRET:
        return unavailable(
            request,
            503,
            "Join with Discord isn't set up",
            "This site has no Discord application configured yet.",
            link.campaign,
            back_url=back,
            invite_link=link,
        )
    wait = throttle(request, link)
    if wait:
        return slow_down(request, wait, back, link.campaign)
    visitor_id, new_visitor = visitor(request)
    response = HttpResponseRedirect(oauth.authorize_url(link, visitor_id))
    response["Cache-Control"] = "no-store"
    if new_visitor:
        set_visitor_cookie(response, visitor_id)
    return response


@require_http_methods(["GET"])
def oauth_callback(request: HttpRequest) -> HttpResponse:
    """Back from Discord: add the visitor to the guild and send them to its channel."""
    try:
        joined = oauth.complete(
            state=request.GET.get("state", "")[:1000],
            code=request.GET.get("code", "")[:200],
            error=request.GET.get("error", "")[:100],
            visitor_id=request.COOKIES.get(VISITOR_COOKIE, ""),
        )
    except oauth.OAuthRefused as refused:
        link = refused.link
        return unavailable(
            request,
            refused.status,
            refused.title,
            refused.message,
            link.campaign if link else None,
            back_url=reverse("referrals:landing", args=[link.referral_code]) if link else "",
            invite_link=link if refused.offer_invite else None,
        )
    if joined.created and joined.joined_at is not None:
        record_oauth_join(
            guild_id=joined.link.campaign.guild_id,
            member_id=joined.member_id,
            username=joined.username,
            joined_at=joined.joined_at,
            link_id=str(joined.link.pk),
        )
    else:
        campaign = joined.link.campaign
        return render(
            request,
            "referrals/unavailable.html",
            {
                "title": "You're already in the server",
                "message": "Your Discord account is already a member of "
                f"{campaign.display_title}'s server.",
                "campaign": campaign,
                "open_url": joined.channel_url,
            },
        )
    response = HttpResponseRedirect(joined.channel_url)
    response["Cache-Control"] = "no-store"
    return response


def slow_down(request: HttpRequest, wait: int, back_url: str = "", campaign=None) -> HttpResponse:
    """The 429 page for a caller over its rate limit, saying when to come back."""
    response = unavailable(
        request,
        429,
        "Slow down a little",
        "We've had a lot of requests from you.",
        campaign,
        retry_after_seconds=wait,
        back_url=back_url,
    )
    response["Retry-After"] = str(wait)
    return response


def unavailable(
    request: HttpRequest,
    status: int,
    title: str,
    message: str,
    campaign=None,
    *,
    retry_after_seconds: int | None = None,
    back_url: str = "",
    invite_link=None,
) -> HttpResponse:
    """The branded error page; with `invite_link`, it offers that link's invite instead. A link
    gone for good (410) offers the campaign's public server link when its manager allows it."""
    invite_url = ""
    if invite_link is not None:
        invite_url = reverse("referrals:join", args=[invite_link.referral_code])
    return render(
        request,
        "referrals/unavailable.html",
        {
            "title": title,
            "message": message,
            "campaign": campaign,
            "retry_after_seconds": retry_after_seconds,
            "back_url": back_url,
            "invite_url": invite_url,
            "server_url": campaign.way_forward_url if campaign and status == 410 else "",
        },
        status=status,
    )
