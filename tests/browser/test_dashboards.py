"""The analytics dashboards in headless Chromium, on the demo's activity."""

from __future__ import annotations

from io import StringIO
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}
PASSWORD = "invitetrail-demo"


@pytest.fixture
def demo(settings):
    settings.DEBUG = True  # demo_data creates the logins only in DEBUG
    call_command("demo_data", stdout=StringIO())
    call_command("demo_activity", "--days", "14", stdout=StringIO())
    settings.DEBUG = False


def log_in(page: Page, base: str, username: str) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/analytics/dashboard/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/admin/analytics/dashboard/")


def test_it_shows_a_manager_every_chart(live_server, demo, new_page, screenshot):
    page = new_page(DESKTOP)
    log_in(page, live_server.url, "admin")

    assert page.get_by_role("heading", name="Analytics overview").is_visible()
    assert page.locator("#funnel svg rect.bar").count() == 4
    assert page.locator("#series polyline").count() == 4
    for chart in (
        "attribution",
        "breakdown-platform",
        "breakdown-device",
        "breakdown-browser",
        "breakdown-os",
        "breakdown-referrer",
        "breakdown-utm_source",
    ):
        assert page.locator(f"#{chart} svg rect.bar").count() > 0, chart
    widths = page.locator("#funnel svg rect.bar").evaluate_all(
        "bars => bars.map(b => b.getBBox().width)"
    )
    assert widths[0] > 0 and widths == sorted(widths, reverse=True)
    # The admin's own stylesheet and ours are applied (no CDN: other hosts are blocked).
    assert page.locator("#header").is_visible()
    fill = page.locator("#funnel rect.bar").first.evaluate("b => getComputedStyle(b).fill")
    assert fill not in ("", "rgb(0, 0, 0)")
    assert {r.split()[0] for r in page.locator("#top-influencers tbody tr").all_inner_texts()} == {
        "1",
        "2",
        "3",
    }
    screenshot(page, "dashboard-overview")

    # From the leaderboard to a link's page, and from the campaign list to the campaign's page
    page.locator("#top-links tbody tr a").first.click()
    page.wait_for_url("**/admin/analytics/dashboard/link/**")
    assert page.locator("#series polyline").count() == 4
    assert page.locator("#events tbody tr").count() > 0
    screenshot(page, "dashboard-link")
    page.goto(f"{live_server.url}/admin/campaigns/campaign/")
    page.get_by_role("link", name="dashboard", exact=True).first.click()
    page.wait_for_url("**/admin/analytics/dashboard/campaign/**")
    keys = page.locator("#fields tbody tr td:first-child code").all_inner_texts()
    assert keys == ["favourite_game", "email", "experience"]
    assert page.locator("#responses tbody tr").count() > 0
    screenshot(page, "dashboard-campaign")


def test_it_shows_an_influencer_only_their_links(live_server, demo, new_page, screenshot):
    page = new_page(DESKTOP)
    log_in(page, live_server.url, "ava")

    assert page.get_by_text("You are seeing your own links only.").is_visible()
    links = page.locator("#top-links tbody tr td:nth-child(2)").all_inner_texts()
    assert sorted(links) == ["Ava on X", "Ava on YouTube"]
    assert "ben" not in page.locator("#top-influencers").inner_text()
    assert page.locator("#series polyline").count() == 4
    screenshot(page, "dashboard-influencer")

    page.goto(f"{live_server.url}/admin/referrals/referrallink/")
    rows = page.locator("#result_list tbody tr th").all_inner_texts()
    assert sorted(rows) == ["Ava on X", "Ava on YouTube"]
