"""QR codes of referral links: SVG to show, PNG to download, for the link's viewers only; a
scan lands as a click with utm_medium=qr and shows as "QR code" in the breakdowns."""

import io
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from analytics import reports
from analytics.models import ReferralEvent
from referrals import qr
from tests.test_classify import IPHONE

zxingcpp = pytest.importorskip("zxingcpp", reason="QR decoding needs zxing-cpp (dev extra)")
Image = pytest.importorskip("PIL.Image", reason="QR decoding needs Pillow (dev extra)")


def qr_url(link, kind: str) -> str:
    return reverse("admin:referrals_referrallink_qr", args=[link.pk, kind])


def decoded(png: bytes) -> list[str]:
    return [found.text for found in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@pytest.fixture
def dave(db):
    """Staff without any permission on referral links."""
    return get_user_model().objects.create_user("dave", "dave@example.com", "dave-pw-123",
                                                is_staff=True)  # fmt: skip


def test_it_encodes_the_public_url_tagged_as_a_qr_scan(bob_link, settings):
    settings.PUBLIC_BASE_URL = "https://go.example.com"

    assert qr.target(bob_link) == f"https://go.example.com/r/{bob_link.referral_code}?utm_medium=qr"


def test_a_manager_gets_a_png_that_decodes_to_the_link(client, alice, bob_link):
    client.force_login(alice)

    response = client.get(qr_url(bob_link, "png"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{bob_link.referral_code}-qr.png"'
    )
    assert decoded(response.content) == [qr.target(bob_link)]


def test_the_svg_is_a_valid_svg_of_the_same_code(client, alice, bob_link):
    client.force_login(alice)

    response = client.get(qr_url(bob_link, "svg"))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    root = ET.fromstring(response.content)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    # the SVG draws the same modules as the PNG that decodes (segno renders one matrix)
    assert response.content == qr.svg(bob_link)
    assert decoded(qr.png(bob_link)) == [qr.target(bob_link)]


def test_the_links_influencer_gets_their_own_links_code(client, influencers, bob_link):
    bob, _ = influencers
    client.force_login(bob)

    assert client.get(qr_url(bob_link, "svg")).status_code == 200


def test_another_influencer_gets_a_404(client, influencers, bob_link):
    _, charlie = influencers
    client.force_login(charlie)

    assert client.get(qr_url(bob_link, "png")).status_code == 404


def test_staff_without_permission_on_links_get_a_403(client, dave, bob_link):
    client.force_login(dave)

    assert client.get(qr_url(bob_link, "png")).status_code == 403


def test_a_visitor_who_is_not_signed_in_is_sent_to_the_login(client, bob_link):
    response = client.get(qr_url(bob_link, "svg"))

    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


@pytest.mark.parametrize("path", ["{pk}/qr.gif", "not-a-uuid/qr.png"])
def test_an_unknown_format_or_link_is_a_404(client, alice, bob_link, path):
    client.force_login(alice)
    base = reverse("admin:referrals_referrallink_changelist")

    assert client.get(base + path.format(pk=bob_link.pk)).status_code == 404


def test_the_link_page_in_admin_shows_the_code_and_the_download(client, alice, bob_link):
    client.force_login(alice)

    page = client.get(reverse("admin:referrals_referrallink_change", args=[bob_link.pk]))

    text = page.content.decode()
    assert f'<img src="{qr_url(bob_link, "svg")}"' in text
    assert f'<a href="{qr_url(bob_link, "png")}" download>Download PNG</a>' in text


def test_a_scan_is_recorded_and_shown_as_a_qr_click(client, influencers, alice, bob_link):
    # when someone scans the code: the landing page with the encoded query
    scanned = urlsplit(qr.target(bob_link))
    client.get(f"{scanned.path}?{scanned.query}", HTTP_USER_AGENT=IPHONE)

    # then the click carries the medium
    scan = ReferralEvent.objects.get(event_type="click")
    assert scan.metadata == {"utm": {"utm_medium": "qr"}}
    # and the dashboards break clicks down by medium, naming QR scans
    breakdowns = {k: {s.label: s.count for s in v} for k, _, v in reports.report(
        alice, reports.Filters.last(7)).breakdowns}  # fmt: skip
    assert breakdowns["utm_medium"] == {"QR code": 1}
    # and the event log names the medium, and filters by it
    client.force_login(alice)
    events = reverse("admin:analytics_referralevent_changelist")
    listed = client.get(events, {"medium": "qr"}).content.decode()
    assert '<td class="field-medium">QR code</td>' in listed
    assert "0 referral events" in client.get(events, {"medium": "other"}).content.decode()
    # and the influencer's link page shows the scan and the code
    bob, _ = influencers
    client.force_login(bob)
    page = client.get(reverse("admin:analytics_dashboard_link", args=[bob_link.pk])).content
    assert b"<td>QR code</td>" in page
    assert f'<img src="{qr_url(bob_link, "svg")}"'.encode() in page
