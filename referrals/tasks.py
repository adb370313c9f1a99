"""Celery tasks for invite pools and referral roles: thin wrappers over referrals.invites and
referrals.roles, and the signal receivers that queue them after commit."""

from celery import shared_task
from django.db import transaction

from botworker.discord_rest import DiscordError
from campaigns.models import Campaign
from referrals import invites, roles
from referrals.models import ReferralLink


@shared_task(ignore_result=True)
def top_up_pool_task(campaign_id: str) -> int:
    return invites.top_up_pool(campaign_id)


@shared_task(ignore_result=True)
def top_up_all_pools_task() -> None:
    for campaign_id in Campaign.objects.filter(is_active=True).values_list("pk", flat=True):
        top_up_pool_task.delay(str(campaign_id))


@shared_task(ignore_result=True)
def retire_invites_task() -> dict[str, int]:
    return invites.retire_invites()


@shared_task(ignore_result=True)
def ensure_referral_role_task(link_id: str) -> str:
    link = ReferralLink.objects.filter(pk=link_id).select_related("campaign").first()
    return roles.ensure_referral_role(link, budget=10) if link is not None else ""


@shared_task(ignore_result=True)
def ensure_all_referral_roles_task() -> int:
    return roles.ensure_all_referral_roles()


@shared_task(ignore_result=True, autoretry_for=(DiscordError,), retry_backoff=True, max_retries=5)
def delete_referral_role_task(guild_id: str, role_id: str) -> bool:
    return roles.delete_referral_role(guild_id, role_id)


def on_pool_drawn(sender, campaign_id: str, **kwargs) -> None:
    """A handout drew on the campaign's pools (sent after commit): refill them off the request,
    one queued top-up per campaign at a time."""
    if invites.top_up_wanted(campaign_id):
        top_up_pool_task.delay(campaign_id)


def on_link_saved(sender, instance: ReferralLink, created: bool, raw: bool = False, **kwargs):
    """A new link of a per-link campaign gets its role soon after commit."""
    if created and not raw and instance.campaign.uses_referral_roles:
        link_id = str(instance.pk)
        transaction.on_commit(lambda: ensure_referral_role_task.delay(link_id))


def on_link_deleted(sender, instance: ReferralLink, **kwargs):
    """A deleted link's role leaves Discord too."""
    if instance.referral_role_id:
        guild_id, role_id = instance.campaign.guild_id, instance.referral_role_id
        transaction.on_commit(lambda: delete_referral_role_task.delay(guild_id, role_id))
