"""Conversions: exactly one per (campaign, member), with the counter and the campaign's roles."""

import logging

from django.db import transaction
from django.db.models import F

from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent
from botworker.discord_rest import DiscordError, DiscordHTTPError, discord
from referrals.models import ReferralLink

log = logging.getLogger(__name__)

MISSING_PERMISSIONS = 50013
UNKNOWN_ROLE = 10011


def record_conversion(session_id: str) -> tuple[Conversion | None, bool]:
    """(the conversion, whether this call created it); (None, False) for an unknown session.

    The conversion row, its `conversion` event and the link's counter bump commit together, and
    the unique (campaign, member) constraint makes a second run — a retried task, a button pressed
    twice — change nothing.
    """
    session = (
        OnboardingSession.objects.select_related("campaign", "link").filter(pk=session_id).first()
    )
    if session is None:
        log.warning("conversion for unknown onboarding session %s ignored", session_id)
        return None, False
    answered = OnboardingResponse.objects.filter(
        campaign=session.campaign, discord_user_id=session.discord_user_id
    ).count()
    with transaction.atomic():
        conversion, created = Conversion.objects.get_or_create(
            campaign=session.campaign,
            discord_user_id=session.discord_user_id,
            defaults={
                "link": session.link,
                "referral_code": session.referral_code,
                "discord_username": session.discord_username,
            },
        )
        if created:
            ReferralEvent.objects.create(
                event_type=ReferralEvent.EventType.CONVERSION,
                link=session.link,
                campaign=session.campaign,
                discord_user_id=session.discord_user_id,
                dedupe_key=f"conversion:{session.campaign_id}:{session.discord_user_id}",
                metadata={
                    "campaign_id": str(session.campaign_id),
                    "referral_code": session.referral_code,
                    "guild_id": session.guild_id,
                    "onboarding_fields_completed": answered,
                },
            )
            if session.link_id:
                ReferralLink.objects.filter(pk=session.link_id).update(
                    conversions=F("conversions") + 1
                )
    if created:
        log.info(
            "conversion campaign=%s member=%s link=%s",
            session.campaign_id,
            session.discord_user_id,
            session.referral_code or None,
        )
    return conversion, created


def assign_roles(conversion: Conversion) -> list[str]:
    """Give the campaign's roles; returns what went wrong, in words for the member.

    A refusal (missing Manage Roles, a role above the bot's, a deleted role) is logged and
    reported but does not undo the conversion. Discord being unreachable raises, so the task
    can retry later.
    """
    campaign = conversion.campaign
    if not campaign.auto_role_assignment or not campaign.target_role_ids:
        return []
    given = set(conversion.roles_assigned)
    problems = []
    for role_id in campaign.target_role_ids:
        if role_id in given:
            continue
        try:
            discord().add_member_role(campaign.guild_id, conversion.discord_user_id, role_id)
        except DiscordHTTPError as exc:
            reason = {
                MISSING_PERMISSIONS: "the bot lacks Manage Roles or the role is above the bot's",
                UNKNOWN_ROLE: "the role no longer exists",
            }.get(exc.code, exc.message)
            log.error(
                "role %s not given to member %s in guild %s (campaign %s): %s",
                role_id,
                conversion.discord_user_id,
                campaign.guild_id,
                campaign.pk,
                reason,
            )
            problems.append(f"<@&{role_id}> ({reason})")
            continue
        given.add(role_id)
        Conversion.objects.filter(pk=conversion.pk).update(roles_assigned=sorted(given))
    return problems


def tell_member(application_id: str, token: str, problems: list[str]) -> None:
    if not (application_id and token and problems):
        return
    text = (
        "Your onboarding is recorded, but I couldn't give you "
        + ", ".join(problems)
        + ". A moderator can fix this; you don't need to do anything."
    )
    try:
        discord().followup(application_id, token, text)
    except DiscordError as exc:
        log.warning("could not tell the member about missing roles: %s", exc)
