"""The invite-pool tasks through a real Celery worker on the Redis broker (eager without it)."""

from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.utils import timezone

from referrals.models import ManagedInvite
from referrals.tasks import retire_invites_task, top_up_all_pools_task, top_up_pool_task


@pytest.fixture
def celery_worker_on_redis(transactional_db):
    if django_settings.CELERY_TASK_ALWAYS_EAGER:
        pytest.skip("no REDIS_URL: tasks run eagerly; set REDIS_URL=redis://… to use a worker")
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        yield


def test_a_worker_tops_up_the_pool_through_the_broker(
    celery_worker_on_redis, campaign, discord_emulator
):
    campaign.invite_pool_size = 3
    campaign.referral_roles = "off"  # the campaign's shared pool
    campaign.save()

    created = top_up_pool_task.apply_async([str(campaign.pk)], ignore_result=False).get(timeout=30)

    assert created == 3
    assert ManagedInvite.objects.filter(status="pooled").count() == 3


def test_the_tasks_run_eagerly_on_the_embedded_defaults(campaign, discord_emulator, eager_celery):
    # Given a campaign with an empty shared pool
    campaign.referral_roles = "off"  # the campaign's shared pool
    campaign.save()

    # When beat's top-up runs, the pool is full at once (no worker, no broker)
    top_up_all_pools_task.delay()
    pooled = ManagedInvite.objects.filter(status="pooled")
    assert pooled.count() == campaign.invite_pool_size

    # and when one of those invites has expired, beat's retire marks it and Discord drops it
    gone = pooled.first()
    ManagedInvite.objects.filter(pk=gone.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert retire_invites_task.delay().get() == {"expired": 1, "revoked": 0}
    assert ManagedInvite.objects.get(pk=gone.pk).status == "expired"
    assert ManagedInvite.objects.filter(status="pooled").count() == campaign.invite_pool_size - 1


def test_a_top_up_for_a_deleted_campaign_does_nothing(db, discord_emulator):
    assert top_up_pool_task.apply(["00000000-0000-0000-0000-000000000000"]).get() == 0
