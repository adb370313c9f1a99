"""The seed's public JSON endpoints, with its request and response shapes.

Errors are always `{"success": false, "error": "<plain sentence>"}` with a fitting status.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from referrals.http import (
    ERROR,
    error,
    read_json_object,
    record_visit,
    set_visitor_cookie,
    throttle,
    throttle_visit,
    visitor,
)
from referrals.invites import NoInviteAvailable, hand_out_invite
from referrals.links import LinkUnavailable, find_live_link

INVITE_REQUEST = inline_serializer(
    "CreateManagedInviteRequest",
    {"referral_code": serializers.CharField(min_length=1, max_length=64, trim_whitespace=False)},
)
INVITE_RESPONSE = inline_serializer(
    "CreateManagedInviteResponse",
    {"success": serializers.BooleanField(), "invite_url": serializers.URLField()},
)
CAMPAIGN_RESPONSE = inline_serializer(
    "ReferralCampaign",
    {
        "referral_code": serializers.CharField(),
        "title": serializers.CharField(),
        "platform": serializers.CharField(),
        "influencer_name": serializers.CharField(),
        "campaign": inline_serializer(
            "CampaignLanding",
            {
                "id": serializers.UUIDField(),
                "campaign_name": serializers.CharField(),
                "headline": serializers.CharField(),
                "offer_title": serializers.CharField(),
                "description": serializers.CharField(),
                "highlights": serializers.ListField(child=serializers.CharField()),
                "hero_image_url": serializers.CharField(),
                "brand_color": serializers.CharField(),
                "button_label": serializers.CharField(),
                "guild_id": serializers.CharField(),
            },
        ),
    },
)
GONE = {404: OpenApiResponse(ERROR), 410: OpenApiResponse(ERROR)}
SLOW_DOWN = {429: OpenApiResponse(ERROR, description="Too many requests; see Retry-After")}


@extend_schema(
    summary="Record a click on a referral link (as the landing page does)",
    description="The seed's clients send HEAD; GET is accepted and behaves the same.",
    responses={200: None, **GONE, **SLOW_DOWN},
)
@api_view(["GET", "HEAD"])
def track_click(request: Request, code: str) -> Response:
    wait = throttle_visit(request)
    if wait:
        return too_many_requests(wait)
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return error(gone.status, gone.message)
    # HEAD is this endpoint's contract, not a link unfurler's probe: classify by agent alone.
    visitor_id, new_visitor = record_visit(request, link, "GET")
    response = Response(status=200)
    if new_visitor:
        set_visitor_cookie(response, visitor_id)
    return response


@extend_schema(
    summary="The campaign and landing data for a referral code",
    responses={200: CAMPAIGN_RESPONSE, **GONE, **SLOW_DOWN},
)
@api_view(["GET"])
def campaign_data(request: Request, code: str) -> Response:
    wait = throttle_visit(request)
    if wait:
        return too_many_requests(wait)
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return error(gone.status, gone.message)
    campaign = link.campaign
    return Response(
        {
            "referral_code": link.referral_code,
            "title": link.title,
            "platform": link.platform,
            "influencer_name": link.influencer.get_full_name() or link.influencer.username,
            "campaign": {
                "id": str(campaign.pk),
                "campaign_name": campaign.campaign_name,
                "headline": campaign.headline,
                "offer_title": campaign.offer_title,
                "description": campaign.description,
                "highlights": campaign.highlight_list,
                "hero_image_url": campaign.hero_image_url,
                "brand_color": campaign.brand_color,
                "button_label": campaign.button_label,
                "guild_id": campaign.guild_id,
            },
        }
    )


@extend_schema(
    summary="Hand out a tracked single-use Discord invite for a referral code",
    request=INVITE_REQUEST,
    responses={
        200: INVITE_RESPONSE,
        400: OpenApiResponse(ERROR, description="Malformed, wrongly typed or oversized body"),
        **GONE,
        **SLOW_DOWN,
        503: OpenApiResponse(ERROR, description="Discord unreachable and no fallback invite"),
    },
)
@api_view(["POST"])
def create_managed_invite(request: Request) -> Response:
    code, problem = read_referral_code(request)
    if problem:
        return error(400, problem)
    try:
        link = find_live_link(code)
    except LinkUnavailable as gone:
        return error(gone.status, gone.message)
    wait = throttle(request, link)
    if wait:
        return too_many_requests(wait)
    visitor_id, new_visitor = visitor(request)
    try:
        handout = hand_out_invite(link, visitor_id, new_visitor=new_visitor)
    except NoInviteAvailable:
        return error(
            503, "Discord is not answering: try again in a minute.", **{"Retry-After": "60"}
        )
    response = Response({"success": True, "invite_url": handout.url})
    if new_visitor:
        set_visitor_cookie(response, visitor_id)
    return response


def too_many_requests(wait: int) -> Response:
    return error(
        429, f"Too many requests: try again in {wait} seconds.", **{"Retry-After": str(wait)}
    )


def read_referral_code(request: Request) -> tuple[str, str]:
    """(code, "") from a JSON body `{"referral_code": "…"}`, or ("", what is wrong)."""
    body, problem = read_json_object(request, '{"referral_code": "…"}')
    if problem:
        return "", problem
    code = body.get("referral_code")
    if code is None:
        return "", "referral_code is missing."
    if not isinstance(code, str):
        return "", "referral_code must be a string."
    if not code or len(code) > 64:
        return "", "referral_code must be 1 to 64 characters."
    return code, ""


def exception_handler(exc, context) -> Response | None:
    """DRF's own errors (405, unsupported media type…) in the same shape as ours."""
    from rest_framework.views import exception_handler as drf_handler

    response = drf_handler(exc, context)
    if response is not None:
        detail = response.data.get("detail") if isinstance(response.data, dict) else None
        response.data = {"success": False, "error": str(detail or exc)}
    return response
