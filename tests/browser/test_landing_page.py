"""The landing page in headless Chromium, at phone and desktop widths, and on to Discord."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

from referrals.models import ManagedInvite

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}
VIEWPORTS = pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])

BLURPLE = "rgb(88, 101, 242)"  # the campaign fixture's default brand colour, #5865F2
WHITE = "rgb(255, 255, 255)"

# Served by the test itself (page.route), so the page never leaves loopback.
HERO_URL = "https://cdn.example.com/launch-hero.svg"
HERO_SVG = (
    '<svg xmlns="http://www.w3.org/2000/svg" width="1200" height="630" viewBox="0 0 1200 630">'
    '<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
    '<stop offset="0" stop-color="#5865f2"/><stop offset="1" stop-color="#eb459e"/>'
    '</linearGradient></defs><rect width="1200" height="630" fill="url(#g)"/>'
    '<circle cx="900" cy="180" r="140" fill="#ffffff" fill-opacity=".18"/>'
    '<circle cx="260" cy="520" r="220" fill="#ffffff" fill-opacity=".10"/></svg>'
)


def meta(page: Page, selector: str) -> str | None:
    tag = page.locator(f"head meta[{selector}]")
    return tag.get_attribute("content") if tag.count() == 1 else None


def scrolls_sideways(page: Page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth > window.innerWidth")


@VIEWPORTS
def test_it_shows_the_offer_and_the_join_button(
    live_server, bob_link, new_page, screenshot, viewport
):
    # Given a live campaign link, when a visitor opens it
    page = new_page(viewport)
    response = page.goto(f"{live_server.url}/r/{bob_link.referral_code}")

    # Then the campaign's content and its button are on screen
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1, name="Join the launch").is_visible()
    assert page.get_by_text("Early access").is_visible()
    assert page.get_by_text("Shared by bob").is_visible()
    assert page.get_by_role("listitem").all_inner_texts() == ["Beta access", "Giveaways"]
    button = page.get_by_role("button", name="Join Discord")
    assert button.is_visible()

    # And the page fits the screen, with the button in the first viewport
    assert not scrolls_sideways(page)
    box = button.bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"]

    # And the stylesheet is applied, in the campaign's colours
    assert button.evaluate("b => getComputedStyle(b).backgroundColor") == BLURPLE
    assert button.evaluate("b => getComputedStyle(b).color") == WHITE

    # And the button posts to the join view with a CSRF token
    form = page.locator("form.join")
    assert form.get_attribute("method") == "post"
    assert form.get_attribute("action").endswith(f"/r/{bob_link.referral_code}/join")
    assert form.locator("input[name=csrfmiddlewaretoken]").count() == 1
    screenshot(page, "landing")


def test_it_previews_well_when_shared(live_server, bob_link, new_page):
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/r/{bob_link.referral_code}")

    canonical = page.locator("head link[rel=canonical]").get_attribute("href")
    assert canonical.startswith("http") and canonical.endswith(f"/r/{bob_link.referral_code}")
    assert meta(page, 'property="og:url"') == canonical
    assert meta(page, 'property="og:type"') == "website"
    assert meta(page, 'property="og:site_name"') == "Launch"
    assert "Join the launch" in meta(page, 'property="og:title"')
    assert meta(page, 'property="og:description"')
    assert meta(page, 'property="og:image"') is None
    assert meta(page, 'name="twitter:card"') == "summary"
    assert meta(page, 'name="theme-color"').lower() == "#5865f2"
    assert meta(page, 'name="robots"') is None


def test_it_shows_the_focus_on_the_button_to_keyboard_users(live_server, bob_link, new_page):
    page = new_page(DESKTOP)
    page.goto(f"{live_server.url}/r/{bob_link.referral_code}")

    page.keyboard.press("Tab")  # the skip link
    assert page.get_by_role("link", name="Skip to content").is_visible()
    page.keyboard.press("Tab")

    button = page.get_by_role("button", name="Join Discord")
    assert button.evaluate("b => b === document.activeElement")
    outline = button.evaluate(
        "b => getComputedStyle(b).outlineStyle + ' ' + getComputedStyle(b).outlineWidth"
    )
    assert outline == "solid 3px"


@VIEWPORTS
def test_it_lays_out_a_hero_image_without_shifting(
    live_server, campaign, bob_link, new_page, screenshot, viewport
):
    # Given a campaign with a hero image and a longer description
    campaign.hero_image_url = HERO_URL
    campaign.description = (
        "Be first into the new season: weekly community games, a private channel with the "
        "developers and early builds before anyone else.\n\nBring a friend — it's free."
    )
    campaign.highlights = "Beta access\nGiveaways\nMonthly AMA with the team"
    campaign.save()
    page = new_page(viewport)
    page.route(HERO_URL, lambda route: route.fulfill(content_type="image/svg+xml", body=HERO_SVG))

    # When the page loads
    page.goto(f"{live_server.url}/r/{bob_link.referral_code}")

    # Then the image is shown with its size reserved, and shared as the preview image
    hero = page.locator("img.card__hero")
    assert hero.get_attribute("alt")
    assert (hero.get_attribute("width"), hero.get_attribute("height")) == ("1200", "630")
    assert hero.evaluate("img => img.complete && img.naturalWidth > 0")
    assert meta(page, 'property="og:image"') == HERO_URL
    assert meta(page, 'name="twitter:card"') == "summary_large_image"

    # And the join button still fits the first screen, with nothing scrolling sideways
    box = page.get_by_role("button", name="Join Discord").bounding_box()
    assert box is not None and box["y"] + box["height"] <= viewport["height"]
    assert not scrolls_sideways(page)
    screenshot(page, "landing-hero")


@VIEWPORTS
def test_it_shows_a_branded_page_for_an_unknown_code(
    live_server, db, new_page, screenshot, viewport
):
    page = new_page(viewport)
    response = page.goto(f"{live_server.url}/r/nosuchcode123")

    assert response is not None and response.status == 404
    assert page.get_by_role("heading", level=1).is_visible()
    assert "Traceback" not in page.content()
    assert page.locator("main").evaluate("m => getComputedStyle(m).display") == "flex"
    assert not scrolls_sideways(page)
    screenshot(page, "not-found")


def test_it_sends_the_visitor_to_the_emulators_invite_page(
    live_server, discord_emulator, bob_link, new_page, screenshot
):
    # Given the landing page on a phone
    page = new_page(PHONE)
    page.goto(f"{live_server.url}/r/{bob_link.referral_code}")

    # When the visitor presses "Join Discord"
    page.get_by_role("button", name="Join Discord").click()

    # Then they land on the emulator's page for a single-use invite bound to this link
    page.wait_for_url(f"{discord_emulator.base_url}/invite/**")
    page.get_by_role("button", name="Accept invite").wait_for(state="visible")
    code = urlsplit(page.url).path.rstrip("/").rsplit("/", 1)[-1]
    invite = ManagedInvite.objects.get(discord_invite_code=code)
    assert invite.referral_link_id == bob_link.id
    assert invite.max_uses == 1
    screenshot(page, "emulator-invite")
