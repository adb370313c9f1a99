"""The visitor-facing templates rendered directly, with the context the views pass (no browser)."""

import re

import pytest
from django.template.loader import get_template, render_to_string

from campaigns.models import Campaign
from referrals.models import ReferralLink


@pytest.fixture
def nightfall():
    return Campaign(
        campaign_name="Nightfall",
        headline="Raid with us",
        offer_title="Founders' pass",
        description="Friday raids.\n\nBring friends.",
        highlights="Weekly raids\n\nPrivate channel\n",
        hero_image_url="https://cdn.example.com/hero.png",
        brand_color="#f5c518",
        button_label="Claim my spot",
    )


@pytest.fixture
def landing_context(nightfall):
    link = ReferralLink(
        campaign=nightfall,
        referral_code="abc123",
        referral_url="https://invitetrail.example/r/abc123",
        title="Ada",
    )
    return {
        "link": link,
        "campaign": nightfall,
        "influencer_name": "Ada",
        "join_url": "/r/abc123/join",
        "canonical_url": "https://invitetrail.example/r/abc123",
        "og_title": "Raid with us",
        "og_description": "Founders' pass",
        "og_image": "https://cdn.example.com/hero.png",
        "button_text_colour": "#111111",
    }


def meta(html: str, key: str) -> str | None:
    found = re.search(rf'<meta (?:property|name)="{re.escape(key)}" content="([^"]*)"', html)
    return found.group(1) if found else None


def test_it_renders_the_landing_page_from_the_contract(landing_context):
    html = render_to_string("referrals/landing.html", landing_context)

    assert '<h1 id="headline" class="headline">Raid with us</h1>' in html
    assert "Shared by <strong>Ada</strong>" in html
    assert 'style="--brand: #f5c518; --on-brand: #111111;"' in html
    assert '<form class="join" method="post" action="/r/abc123/join">' in html
    assert ">Claim my spot</button>" in html
    assert "<li>Weekly raids</li><li>Private channel</li>" in html
    assert 'alt="Nightfall"' in html and 'width="1200" height="630"' in html
    assert '<link rel="canonical" href="https://invitetrail.example/r/abc123">' in html
    assert meta(html, "og:url") == "https://invitetrail.example/r/abc123"
    assert meta(html, "og:title") == "Raid with us"
    assert meta(html, "og:description") == "Founders&#x27; pass"
    assert meta(html, "og:image") == "https://cdn.example.com/hero.png"
    assert meta(html, "twitter:card") == "summary_large_image"
    assert meta(html, "theme-color") == "#f5c518"
    assert meta(html, "robots") is None  # landing pages should preview and may be indexed


def test_it_escapes_what_the_campaign_manager_typed(landing_context, nightfall):
    nightfall.headline = '<script>alert("x")</script>'
    landing_context["og_title"] = nightfall.headline

    html = render_to_string("referrals/landing.html", landing_context)

    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_it_uses_a_summary_card_without_a_hero_image(landing_context, nightfall):
    nightfall.hero_image_url = ""
    landing_context["og_image"] = ""

    html = render_to_string("referrals/landing.html", landing_context)

    assert "<img" not in html
    assert meta(html, "og:image") is None
    assert meta(html, "twitter:card") == "summary"


def test_it_falls_back_when_only_link_and_campaign_are_given(landing_context, nightfall):
    html = render_to_string(
        "referrals/landing.html", {"link": landing_context["link"], "campaign": nightfall}
    )

    assert 'action="/r/abc123/join"' in html
    assert meta(html, "og:title") == "Raid with us"
    assert meta(html, "og:url").endswith("/r/abc123")
    assert "--on-brand" not in html  # the stylesheet's default text colour applies


@pytest.mark.parametrize(("seconds", "says"), [(1, "1 second."), (42, "42 seconds.")])
def test_it_says_when_to_try_again(nightfall, seconds, says):
    html = render_to_string(
        "referrals/unavailable.html",
        {
            "title": "Slow down a little",
            "message": "Too many requests.",
            "campaign": nightfall,
            "retry_after_seconds": seconds,
        },
    )

    assert f"Please try again in {says}" in html
    assert "Slow down a little" in html
    assert 'style="--brand: #f5c518;"' in html
    assert meta(html, "robots") == "noindex"


def test_it_explains_an_unavailable_link_without_a_campaign():
    html = render_to_string(
        "referrals/unavailable.html", {"title": "Link not found", "message": "No such link."}
    )

    assert "<h1" in html and "Link not found" in html
    assert "No such link." in html
    assert "try again in" not in html
    assert "style=" not in html


def test_the_500_page_renders_with_an_empty_context():
    # Django renders 500.html with an empty Context and no request: no variables, no database.
    html = get_template("500.html").render()

    assert "Something went wrong" in html
    assert "/static/css/landing.css" in html


def test_the_404_page_renders_without_a_request():
    html = get_template("404.html").render({"request_path": "/nowhere"})

    assert "Page not found" in html
    assert meta(html, "robots") == "noindex"
