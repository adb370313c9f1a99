"""The JSON body of a webhook: what happened, to whom, through which link and influencer."""

import json

from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent
from analytics.webhooks.models import KIND_OF_EVENT

JOIN = ReferralEvent.EventType.DISCORD_JOIN
VERSION = 1


def body_for(event: ReferralEvent) -> str:
    """The body every attempt of this event's deliveries sends (built once, then frozen).

    Answers go out only on a conversion and only when the campaign shares them beyond its
    managers (`influencers_see_answers`); otherwise the body says how many were answered.
    """
    campaign = event.campaign
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    member_id = event.discord_user_id
    join = _join_of(event, metadata)
    join_metadata = join.metadata if join is not None and isinstance(join.metadata, dict) else {}
    payload = {
        "id": str(event.pk),
        "type": KIND_OF_EVENT[event.event_type].value,
        "version": VERSION,
        "created_at": event.created_at.isoformat(),
        "campaign": {"id": str(campaign.pk), "name": campaign.campaign_name} if campaign else None,
        "guild_id": metadata.get("guild_id") or (campaign.guild_id if campaign else None),
        "member": {"id": member_id, "username": _username(event)},
        "link": _link(event.link),
        "influencer": _influencer(event.link),
        # How the member's join was attributed: exact, link, ambiguous or organic.
        "decision": join_metadata.get("decision"),
        "join_source": join_metadata.get("source"),
        # An ambiguous join credited to a link (the link's invite was used, the member unknown).
        "link_credit_only": bool(join_metadata.get("link_credit")),
    }
    if event.event_type == ReferralEvent.EventType.CONVERSION and campaign is not None:
        answers = OnboardingResponse.objects.filter(campaign=campaign, discord_user_id=member_id)
        payload["answers_count"] = answers.count()
        payload["answers"] = (
            dict(answers.order_by("field_key").values_list("field_key", "value"))
            if campaign.influencers_see_answers
            else None
        )
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False)


def _join_of(event: ReferralEvent, metadata: dict) -> ReferralEvent | None:
    if event.event_type == JOIN:
        return event
    guild_id = metadata.get("guild_id") or (event.campaign.guild_id if event.campaign else "")
    return (
        ReferralEvent.objects.filter(
            event_type=JOIN,
            discord_user_id=event.discord_user_id,
            campaign_id=event.campaign_id,
            metadata__guild_id=guild_id,
            created_at__lte=event.created_at,
        )
        .order_by("-created_at")
        .first()
    )


def _username(event: ReferralEvent) -> str | None:
    conversion = Conversion.objects.filter(
        campaign_id=event.campaign_id, discord_user_id=event.discord_user_id
    ).first()
    if conversion is not None and conversion.discord_username:
        return conversion.discord_username
    session = OnboardingSession.objects.filter(
        campaign_id=event.campaign_id, discord_user_id=event.discord_user_id
    ).first()
    return (session.discord_username or None) if session else None


def _link(link) -> dict | None:
    if link is None:
        return None
    return {
        "id": str(link.pk),
        "code": link.referral_code,
        "title": link.title,
        "platform": link.platform,
        "url": link.build_url(),
    }


def _influencer(link) -> dict | None:
    if link is None:
        return None
    user = link.influencer
    return {"id": user.pk, "username": user.get_username(), "name": user.get_full_name()}
