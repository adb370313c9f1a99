"""The bot-facing API: `POST /api/discord-bot/onboarding`, for bots other than ours."""

import hmac
import logging
import uuid

from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.decorators import api_view
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.models import OnboardingSession
from campaigns.models import Campaign
from campaigns.validators import SNOWFLAKE_RE, is_snowflake
from referrals import ratelimit
from referrals.http import ERROR, error, rate_subject, read_json_object
from referrals.models import ReferralLink

log = logging.getLogger(__name__)
AUTH_SCOPE = "bot-api-auth-failures"
NO_NUL = r"^[^\x00]*$"

SESSION_REQUEST = inline_serializer(
    "OnboardingSessionRequest",
    {
        "campaign_id": serializers.UUIDField(),
        # The schema states what _validate enforces: a Discord user id (snowflake), ≤ 64 chars.
        "discord_user_id": serializers.RegexField(
            SNOWFLAKE_RE.pattern, help_text="A Discord user id: 17 to 20 digits."
        ),
        # No NUL: PostgreSQL's text cannot hold it (_validate refuses it with a 400).
        "discord_username": serializers.RegexField(
            NO_NUL, max_length=64, required=False, allow_blank=True, trim_whitespace=False
        ),
        "referral_code": serializers.RegexField(
            NO_NUL, max_length=64, required=False, allow_blank=True, trim_whitespace=False
        ),
    },
)
SESSION_RESPONSE = inline_serializer(
    "OnboardingSessionResponse",
    {
        "success": serializers.BooleanField(),
        "created": serializers.BooleanField(),
        "session_id": serializers.CharField(),
        "status": serializers.CharField(),
        "campaign_id": serializers.UUIDField(),
        "referral_code": serializers.CharField(),
    },
)


@extend_schema(
    summary="Create or return a member's onboarding session (Authorization: Bearer BOT_API_TOKEN)",
    request=SESSION_REQUEST,
    responses={
        200: SESSION_RESPONSE,
        201: SESSION_RESPONSE,
        400: OpenApiResponse(ERROR),
        401: OpenApiResponse(ERROR, description="No token, not the Bearer scheme, or wrong"),
        404: OpenApiResponse(ERROR),
        429: OpenApiResponse(ERROR, description="Too many failed authentications"),
    },
)
@api_view(["POST"])
def onboarding_session(request: Request) -> Response:
    refusal = authenticate_bot(request)
    if refusal is not None:
        return refusal
    body, problem = read_json_object(request)
    if problem:
        return error(400, problem)
    fields, problem = _validate(body)
    if problem:
        return error(400, problem)
    campaign = Campaign.objects.filter(pk=fields["campaign_id"]).first()
    if campaign is None:
        return error(404, "No campaign has that campaign_id.")
    link = None
    if fields["referral_code"]:
        link = ReferralLink.objects.filter(
            referral_code=fields["referral_code"], campaign=campaign
        ).first()
        if link is None:
            return error(404, "No referral link of this campaign has that referral_code.")
    session, created = OnboardingSession.objects.get_or_create(
        campaign=campaign,
        discord_user_id=fields["discord_user_id"],
        defaults={
            "link": link,
            "referral_code": link.referral_code if link else "",
            "guild_id": campaign.guild_id,
            "discord_username": fields["discord_username"],
        },
    )
    return Response(
        {
            "success": True,
            "created": created,
            "session_id": session.pk,
            "status": session.status,
            "campaign_id": str(campaign.pk),
            "referral_code": session.referral_code,
        },
        status=201 if created else 200,
    )


def authenticate_bot(request: Request) -> Response | None:
    """None when the request carries `Authorization: Bearer <BOT_API_TOKEN>`, else the refusal.

    Failed attempts are counted per client address (BOT_API_AUTH_FAILURE_LIMIT); past the limit
    every request from that address gets 429 until the window ends, the right token included,
    so the token cannot be guessed at speed.
    """
    if not settings.BOT_API_TOKEN:
        return error(401, "The bot API is disabled: set BOT_API_TOKEN on the server.")
    address = rate_subject(request)
    wait = ratelimit.exceeded(AUTH_SCOPE, address, settings.BOT_API_AUTH_FAILURE_LIMIT)
    if wait is None:
        scheme, _, presented = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            presented.strip().encode(), settings.BOT_API_TOKEN.encode()
        ):
            return None
        wait = ratelimit.hit(AUTH_SCOPE, address, settings.BOT_API_AUTH_FAILURE_LIMIT)
        if wait is None:
            return error(401, "Missing or wrong token: send Authorization: Bearer <BOT_API_TOKEN>.")
    log.warning("bot API: too many failed authentications, refusing for %s s", wait)
    return error(
        429,
        f"Too many failed authentications from this address: try again in {wait} seconds.",
        **{"Retry-After": str(wait)},
    )


def _validate(body: dict) -> tuple[dict, str]:
    campaign_id = body.get("campaign_id")
    user_id = body.get("discord_user_id")
    username = body.get("discord_username", "")
    code = body.get("referral_code")
    code = "" if code is None else code  # null or absent: no code; 0, false, [] are not codes
    try:
        campaign_uuid = uuid.UUID(str(campaign_id))
    except ValueError:
        return {}, "campaign_id must be a campaign's UUID."
    if not is_snowflake(user_id):
        return {}, "discord_user_id must be a Discord user id (a string of 17 to 20 digits)."
    if not isinstance(username, str) or len(username) > 64 or "\x00" in username:
        return {}, "discord_username must be a string of at most 64 characters, without NUL."
    if not isinstance(code, str) or len(code) > 64 or "\x00" in code:
        return {}, "referral_code must be a string of at most 64 characters, without NUL."
    return {
        "campaign_id": campaign_uuid,
        "discord_user_id": user_id,
        "discord_username": username,
        "referral_code": code,
    }, ""
