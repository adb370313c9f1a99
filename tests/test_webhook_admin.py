"""Webhooks in the admin: managers add endpoints, read each delivery's attempt log, send again;
influencers see none of it."""

import pytest
from django.urls import reverse

from analytics.webhooks import delivery
from analytics.webhooks.models import WebhookAttempt, WebhookDelivery, WebhookEndpoint
from tests.test_webhooks import join
from tests.waiting import wait_until


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


@pytest.fixture
def endpoint(campaign, receiver):
    return WebhookEndpoint.objects.create(campaign=campaign, url=receiver.url)


@pytest.fixture
def failed_once(endpoint, bob_link, receiver, django_capture_on_commit_callbacks):
    receiver.answers = [500]
    with django_capture_on_commit_callbacks(execute=False):
        join(bob_link)
    row = WebhookDelivery.objects.get()
    delivery.attempt(row.pk)
    return row


def test_a_manager_adds_an_https_endpoint_with_chosen_events(client, alice, campaign):
    client.force_login(alice)

    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {
            "campaign": campaign.pk,
            "url": "https://crm.example.com/hooks/invitetrail",
            "events": ["join", "conversion"],
            "secret": "whsec_test-secret-of-some-length",
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.content.decode()[:2000]
    saved = WebhookEndpoint.objects.get()
    assert saved.events == ["join", "conversion"]


@pytest.mark.parametrize(
    "url, message",
    [
        ("http://crm.example.com/hook", "Use an https:// URL."),
        ("http://127.0.0.1:9/hook", "Plain http is allowed only to a loopback address"),
        ("https://user:pw@crm.example.com/hook", "Put no credentials in the URL"),
    ],
)
def test_it_refuses_an_address_a_webhook_may_not_go_to(client, alice, campaign, settings, url,
                                                        message):  # fmt: skip
    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = False
    client.force_login(alice)

    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"campaign": campaign.pk, "url": url, "events": ["join"], "secret": "s" * 20},
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_the_delivery_page_shows_each_attempt(client, alice, failed_once):
    client.force_login(alice)

    page = client.get(reverse("admin:webhooks_webhookdelivery_change", args=[failed_once.pk]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "receiver is broken" in text  # the response excerpt
    assert "500" in text
    assert "&quot;type&quot;: &quot;join&quot;" in text  # the body, pretty-printed


@pytest.mark.django_db(transaction=True)
def test_send_again_delivers_a_failed_delivery(client, alice, campaign, bob_link, receiver,
                                               eager_celery):  # fmt: skip
    # given a delivery that gave up
    endpoint = WebhookEndpoint.objects.create(campaign=campaign, url=receiver.url)
    receiver.answers = [500]
    join(bob_link)
    receiver.wait_for(1)
    row = wait_until(lambda: WebhookDelivery.objects.filter(attempts=1).first())
    WebhookDelivery.objects.filter(pk=row.pk).update(status="failed", next_attempt_at=None)
    client.force_login(alice)

    # when the manager sends it again
    response = client.post(
        reverse("admin:webhooks_webhookdelivery_changelist"),
        {"action": "send_again", "_selected_action": [row.pk]},
        follow=True,
    )

    # then it is queued and delivered
    assert "1 delivery queued to be sent again." in response.content.decode()
    receiver.wait_for(2)
    wait_until(lambda: WebhookDelivery.objects.filter(pk=row.pk, status="delivered").exists())
    assert WebhookAttempt.objects.filter(delivery=row).count() == 2
    assert endpoint.deliveries.count() == 1


def test_it_refuses_a_short_secret(client, alice, campaign):
    client.force_login(alice)

    response = client.post(
        reverse("admin:webhooks_webhookendpoint_add"),
        {"campaign": campaign.pk, "url": "https://crm.example.com/h", "events": ["join"],
         "secret": "short"},
    )  # fmt: skip

    assert "Use a secret of at least 16 characters." in response.content.decode()
    assert not WebhookEndpoint.objects.exists()


def test_a_switched_off_endpoint_says_why(client, alice, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_reason="Switched off on 2026-11-30 10:00 UTC: every attempt …"
    )
    client.force_login(alice)

    page = client.get(reverse("admin:webhooks_webhookendpoint_changelist"))

    assert "Switched off on 2026-11-30 10:00 UTC" in page.content.decode()


def test_switching_an_endpoint_on_again_clears_its_failure(endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(
        is_active=False, disabled_at="2026-11-30T10:00Z", failing_since="2026-11-29T10:00Z",
        disabled_reason="…",
    )  # fmt: skip
    endpoint.refresh_from_db()

    endpoint.is_active = True
    endpoint.save()

    endpoint.refresh_from_db()
    assert (endpoint.disabled_at, endpoint.failing_since, endpoint.disabled_reason) == (
        None,
        None,
        "",
    )


@pytest.mark.parametrize(
    "name", ["webhooks_webhookendpoint_changelist", "webhooks_webhookdelivery_changelist"]
)
def test_influencers_see_no_webhooks(client, influencers, endpoint, name):
    bob, _ = influencers
    client.force_login(bob)

    assert client.get(reverse(f"admin:{name}")).status_code == 403
