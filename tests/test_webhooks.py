"""Conversion webhooks end to end: a real receiver on loopback gets signed JSON after commit,
a 500 is retried with backoff, a receiver down for a day gets its endpoint switched off."""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.db import transaction

from analytics import onboarding
from analytics.joins import record_join
from analytics.webhooks import delivery
from analytics.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from analytics.webhooks.signing import HEADER
from tests.waiting import wait_until

MEMBER = "1300000000000007777"
JOINED = datetime(2026, 11, 24, 12, tzinfo=UTC)


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


@pytest.fixture
def endpoint(campaign, receiver):
    campaign.auto_role_assignment = False  # no Discord in these tests: roles are not the point
    campaign.save()
    return WebhookEndpoint.objects.create(
        campaign=campaign, url=receiver.url, events=["join", "onboarding_start", "conversion"]
    )


def join(link, member=MEMBER):
    return record_join(
        guild_id=link.campaign.guild_id,
        member_id=member,
        username="newbie",
        joined_at=JOINED,
        decision="exact",
        link_id=str(link.pk),
    )


def convert(link, member=MEMBER) -> None:
    session_id = join(link, member).welcome.session_id
    onboarding.begin(session_id, member)
    assert onboarding.submit(session_id, member, 0, {"game": "Celeste"}).status == "done"


def readme_verifier():
    """The receiver's check exactly as the README shows it (its Python block, executed)."""
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    block = next(b for b in readme.split("```python\n")[1:] if "def verified(" in b)
    namespace: dict = {}
    exec(block.split("```", 1)[0], namespace)  # noqa: S102 - our own README, in a test
    return namespace["verified"]


@pytest.mark.django_db(transaction=True)
def test_it_posts_signed_join_start_and_conversion_after_commit(
    endpoint, bob_link, receiver, eager_celery
):
    # given a campaign that shares answers beyond its managers
    bob_link.campaign.influencers_see_answers = True
    bob_link.campaign.save()

    # when a member joins through bob's link and completes the onboarding
    convert(bob_link)

    # then the receiver gets three signed requests, one per event (each on its own: the
    # order of arrival is not guaranteed, the bodies carry created_at)
    got = {r.headers["Invitetrail-Event"]: r for r in receiver.wait_for(3)}
    assert sorted(got) == ["conversion", "join", "onboarding_start"]
    verified = readme_verifier()
    for request in got.values():
        assert verified(endpoint.secret, request.headers[HEADER], request.body)
        assert not verified("whsec_another", request.headers[HEADER], request.body)
        assert request.headers["Content-Type"] == "application/json"
    body = json.loads(got["conversion"].body)
    assert body["type"] == "conversion"
    assert body["campaign"] == {"id": str(bob_link.campaign_id), "name": "Launch"}
    assert body["member"] == {"id": MEMBER, "username": "newbie"}
    assert body["link"]["code"] == bob_link.referral_code
    assert body["link"]["url"].endswith(f"/r/{bob_link.referral_code}")
    assert body["influencer"]["username"] == "bob"
    assert body["decision"] == "exact"
    assert body["answers"] == {"game": "Celeste"}
    assert json.loads(got["join"].body)["decision"] == "exact"
    # and every attempt is in the log
    delivered = wait_until(
        lambda: (
            WebhookDelivery.objects.filter(status="delivered").count() == 3
            and WebhookAttempt.objects.count() == 3
        )
    )
    assert delivered
    attempt = WebhookAttempt.objects.get(delivery__kind="conversion")
    assert (attempt.status_code, attempt.succeeded, attempt.response_excerpt) == (200, True, "ok")


def test_a_500_is_retried_with_backoff_until_the_receiver_answers(
    endpoint, bob_link, receiver, django_capture_on_commit_callbacks
):
    # given a receiver that first answers 500
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=False):
        join(bob_link)
    pending = WebhookDelivery.objects.get(kind="join")
    t0 = pending.next_attempt_at

    # when the first attempt is made
    assert delivery.attempt(pending.pk, now=t0) == "pending"

    # then it is logged and the retry is scheduled 30 s later, not before
    failed = WebhookAttempt.objects.get()
    assert (failed.status_code, failed.succeeded) == (500, False)
    assert failed.response_excerpt == "receiver is broken"
    pending.refresh_from_db()
    assert pending.next_attempt_at == t0 + timedelta(seconds=30)
    assert pending.last_error == "HTTP 500"
    assert delivery.send_due(now=t0 + timedelta(seconds=29)) == 0

    # when the retry is due
    assert delivery.send_due(now=t0 + timedelta(seconds=30)) == 1

    # then the same body arrives again, freshly signed, and the delivery is done
    first, second = receiver.wait_for(2)
    assert first.body == second.body
    assert first.headers[HEADER] != second.headers[HEADER]
    pending.refresh_from_db()
    assert (pending.status, pending.attempts) == ("delivered", 2)
    assert WebhookEndpoint.objects.get().failing_since is None


def test_an_endpoint_failing_for_a_day_is_switched_off_with_the_reason(
    endpoint, bob_link, receiver, django_capture_on_commit_callbacks
):
    # given a receiver that answers 500 to everything
    receiver.answers = [500] * 100
    with django_capture_on_commit_callbacks(execute=False):
        join(bob_link)
    row = WebhookDelivery.objects.get()
    t0 = row.next_attempt_at

    # when every retry is made as it falls due
    now = t0
    while row.status == "pending":
        delivery.attempt(row.pk, now=now)
        row.refresh_from_db()
        now = row.next_attempt_at or now

    # then retries were spaced by a growing backoff over the whole day, then stopped
    times = list(
        WebhookAttempt.objects.order_by("attempted_at").values_list("attempted_at", flat=True)
    )
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    assert gaps[:4] == [timedelta(seconds=s) for s in (30, 60, 120, 240)]
    assert max(gaps) == timedelta(hours=2)
    assert times[-1] - times[0] == timedelta(hours=24)
    assert 15 <= len(times) <= 25
    assert row.status == "failed"
    # and the endpoint is switched off, saying why
    endpoint.refresh_from_db()
    assert not endpoint.is_active
    assert "HTTP 500" in endpoint.disabled_reason
    assert "send again" in endpoint.disabled_reason
    # and a later event for the campaign is not queued for it
    with django_capture_on_commit_callbacks(execute=False):
        join(bob_link, member="1300000000000008888")
    assert WebhookDelivery.objects.count() == 1


def test_answers_stay_out_unless_the_campaign_shares_them(
    endpoint, bob_link, receiver, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False):
        convert(bob_link)
    row = WebhookDelivery.objects.get(kind="conversion")

    assert delivery.attempt(row.pk) == "delivered"

    body = json.loads(receiver.wait_for(1)[0].body)
    assert body["answers"] is None
    assert body["answers_count"] == 1


def test_a_rolled_back_join_sends_nothing(endpoint, bob_link, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        join(bob_link)
        raise RuntimeError("the bot's batch failed")

    assert callbacks == []
    assert not WebhookDelivery.objects.exists()


def test_only_chosen_events_of_the_endpoints_campaign_are_sent(
    endpoint, bob_link, django_capture_on_commit_callbacks
):
    endpoint.events = ["conversion"]
    endpoint.save()

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        session_id = join(bob_link).welcome.session_id
        onboarding.begin(session_id, MEMBER)

    assert callbacks == []
    assert not WebhookDelivery.objects.exists()


def test_a_refused_address_is_logged_not_requested(
    endpoint, bob_link, settings, django_capture_on_commit_callbacks
):
    # given plain http to loopback, no longer allowed (production settings)
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    with django_capture_on_commit_callbacks(execute=False):
        join(bob_link)

    delivery.attempt(WebhookDelivery.objects.get().pk)

    logged = WebhookAttempt.objects.get()
    assert logged.status_code is None
    assert logged.error.startswith("not sent: Plain http is allowed only to a loopback")
