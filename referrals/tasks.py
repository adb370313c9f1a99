"""Celery tasks for the invite pool: thin wrappers over referrals.invites."""

from celery import shared_task

from campaigns.models import Campaign
from referrals import invites


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
