"""Conversions: exactly one per (campaign, member), with the counter and the campaign's roles.

The conversion (row, `conversion` event, counter) is written in the transaction that completes
the onboarding session, so it cannot be lost. Its side effects — the campaign's roles and an
ephemeral note to the member — run later in Celery; `side_effects_done_at` says they finished,
and `sweep()` re-queues those that did not (broker down, worker lost, Discord unreachable).

The interaction token that lets us answer the member is a secret: it stays in the cache under
the conversion's id for as long as Discord accepts it, and never travels in a task argument.
"""

import logging
from datetime import timedelta

from django.core.cache import cache
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.dispatch import Signal
from django.utils import timezone

from analytics import bulk
from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent
from botworker.discord_rest import DiscordError, DiscordHTTPError, discord
from referrals.models import ReferralLink

log = logging.getLogger(__name__)

# Sent with `conversion_id` when a conversion's side effects should be queued. analytics.tasks
# listens and queues its task, so this module never imports the task module; a receiver's
# error (a broker that is down) reaches the sender.
side_effects_due = Signal()

MISSING_PERMISSIONS = 50013
UNKNOWN_ROLE = 10011
# Discord accepts follow-ups for 15 minutes after the interaction; the token is useless after.
REPLY_SECONDS = 15 * 60
# A conversion's side effects are queued again only once the last queued task had time for all
# its retries (8 with backoff capped at 300 s: about 5 minutes), so a long Discord outage does
# not pile up tasks; and for a week at most (a guild that lost the bot is not retried forever).
REQUEUE_AFTER = timedelta(minutes=10)
SWEEP_UNTIL = timedelta(days=7)
SWEEP_BATCH = 500


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
    return convert(session)


def convert(session: OnboardingSession) -> tuple[Conversion, bool]:
    """`record_conversion` for a loaded session; joins the caller's transaction if any."""
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
                "side_effects_queued_at": timezone.now(),
            },
        )
        if created:
            # One INSERT and one rollup upsert (analytics.bulk): this transaction holds SQLite's
            # write lock, and every statement is time the bot's join records wait for it.
            bulk.write_events(
                [
                    ReferralEvent(
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
                        created_at=timezone.now(),
                    )
                ]
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


def remember_reply(conversion_id: int, reply_to: tuple[str, str] | None) -> None:
    """Keep (application id, interaction token) server-side for the side-effects task."""
    if reply_to and all(reply_to):
        try:
            cache.set(_reply_key(conversion_id), list(reply_to), REPLY_SECONDS)
        except Exception as exc:  # the conversion stands; only the note about roles is lost
            log.warning("conversion %s: reply details not kept (cache): %r", conversion_id, exc)


def finish_side_effects(conversion_id: int) -> bool:
    """Give the roles, tell the member what could not be given, mark the conversion done.

    False for a conversion that is gone or already done. Discord being unreachable raises
    (the conversion stays due, so a retry or the sweep finishes it later).
    """
    conversion = (
        Conversion.objects.select_related("campaign")
        .filter(pk=conversion_id, side_effects_done_at__isnull=True)
        .first()
    )
    if conversion is None:
        return False
    problems = assign_roles(conversion)
    try:
        reply = cache.get(_reply_key(conversion.pk))
        # Whoever deletes the reply tells the member: two runs at once send one note.
        mine = cache.delete(_reply_key(conversion.pk))
    except Exception as exc:  # the roles are given; the member's note is what is lost
        log.warning("conversion %s: no note to the member (cache): %r", conversion.pk, exc)
        reply, mine = None, False
    if mine and isinstance(reply, list) and len(reply) == 2:
        tell_member(str(reply[0]), str(reply[1]), problems)
    Conversion.objects.filter(pk=conversion.pk).update(side_effects_done_at=timezone.now())
    return True


def queue_side_effects(conversion_id: int) -> bool:
    """Queue the side-effects task (through `side_effects_due`, which analytics.tasks answers);
    a broker that is down (or an eager run that fails) is logged, not raised: the conversion is
    committed and the sweep will try again."""
    try:
        side_effects_due.send(sender=Conversion, conversion_id=conversion_id)
    except Exception as exc:
        # Not queued after all: the next sweep may queue it at once.
        Conversion.objects.filter(pk=conversion_id).update(side_effects_queued_at=None)
        log.warning(
            "side effects of conversion %s not run now (%s); the sweep will retry",
            conversion_id,
            exc.__class__.__name__,
        )
        return False
    return True


def sweep(now=None) -> dict[str, int]:
    """Repair what a lost task left behind; safe to run at any time, as often as wanted.

    1. Completed sessions without a conversion (completed before conversions were written with
       the session) get their conversion.
    2. Conversions younger than SWEEP_UNTIL whose side effects are not done and were never
       queued, or queued more than REQUEUE_AFTER ago, are queued again (oldest first,
       SWEEP_BATCH at a time); each is claimed with a conditional update first, so two sweeps
       never queue the same conversion twice.
    """
    now = now or timezone.now()
    missing = OnboardingSession.objects.filter(
        status=OnboardingSession.Status.COMPLETED, completed_at__gte=now - SWEEP_UNTIL
    ).exclude(
        Exists(
            Conversion.objects.filter(
                campaign_id=OuterRef("campaign_id"), discord_user_id=OuterRef("discord_user_id")
            )
        )
    )
    recovered = queued = 0
    for session in missing.select_related("campaign", "link")[:SWEEP_BATCH]:
        with transaction.atomic():
            conversion, created = convert(session)
        if created:
            recovered += 1
            queued += queue_side_effects(conversion.pk)
    due = Conversion.objects.filter(
        Q(side_effects_queued_at__isnull=True) | Q(side_effects_queued_at__lt=now - REQUEUE_AFTER),
        side_effects_done_at__isnull=True,
    )
    for pk in (
        due.filter(created_at__gte=now - SWEEP_UNTIL)
        .order_by("created_at")
        .values_list("pk", flat=True)[:SWEEP_BATCH]
    ):
        if due.filter(pk=pk).update(side_effects_queued_at=now):
            queued += queue_side_effects(pk)
    if recovered or queued:
        log.info("conversion sweep: %s recovered, %s side effects queued", recovered, queued)
    return {"recovered": recovered, "queued": queued}


def _reply_key(conversion_id: int) -> str:
    return f"conversion:reply:{conversion_id}"


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
