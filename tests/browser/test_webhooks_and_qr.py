"""In headless Chromium: the webhook delivery log after a conversion, and a link's QR code
as the influencer sees it (the rendered image decodes to the link's QR URL)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from django.urls import reverse

from analytics.webhooks.models import WebhookDelivery, WebhookEndpoint
from referrals import qr
from tests.test_webhooks import convert
from tests.waiting import wait_until

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def log_in(page: Page, base: str, username: str, password: str, then: str) -> None:
    page.goto(f"{base}{reverse('admin:login')}?next={then}")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**{then}")


@pytest.fixture
def receiver(webhook_receiver):
    return webhook_receiver


def test_the_delivery_log_shows_a_conversions_webhook(
    live_server, alice, campaign, bob_link, receiver, eager_celery, new_page, screenshot
):
    # given an endpoint for conversions, and a member who converts through bob's link
    campaign.auto_role_assignment = False
    campaign.save()
    WebhookEndpoint.objects.create(campaign=campaign, url=receiver.url, events=["conversion"])
    convert(bob_link)
    receiver.wait_for(1)
    wait_until(lambda: WebhookDelivery.objects.filter(status="delivered").exists())

    # when the manager opens the delivery log
    page = new_page(DESKTOP)
    log_in(page, live_server.url, "alice", "alice-pw-123",
           reverse("admin:webhooks_webhookdelivery_changelist"))  # fmt: skip

    # then the conversion's delivery is listed as delivered, and its page shows the attempt
    row = page.locator("#result_list tbody tr").first
    assert "Conversion" in row.inner_text()
    assert "Delivered" in row.inner_text()
    row.locator("th a, td a").first.click()
    attempts = page.locator(".inline-group")
    assert "200" in attempts.inner_text()
    assert "ok" in attempts.inner_text()
    assert '"type": "conversion"' in page.locator("pre").inner_text()
    screenshot(page, "webhook-delivery")


def test_the_influencer_sees_a_scannable_qr_code_on_the_link_page(
    live_server, influencers, bob_link, new_page, screenshot
):
    page = new_page(DESKTOP)
    log_in(page, live_server.url, "bob", "bob-pw-123",
           reverse("admin:analytics_dashboard_link", args=[bob_link.pk]))  # fmt: skip

    image = page.get_by_role("img", name=f"QR code for {bob_link.title}")
    image.wait_for()
    assert image.evaluate("img => img.complete && img.naturalWidth > 0")
    screenshot(page, "link-qr-code")
    # the code as drawn on screen decodes to the link's URL tagged as a QR scan
    zxingcpp = pytest.importorskip("zxingcpp", reason="decoding needs zxing-cpp (dev extra)")
    from io import BytesIO

    from PIL import Image

    drawn = Image.open(BytesIO(image.screenshot()))
    assert [found.text for found in zxingcpp.read_barcodes(drawn)] == [qr.target(bob_link)]
