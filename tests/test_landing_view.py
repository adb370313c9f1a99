"""GET /r/<code>: the campaign's page, and an honest click count."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from analytics.models import ReferralEvent
from tests.test_classify import IPHONE, WINDOWS_CHROME


def visit(client, link, agent=WINDOWS_CHROME, **extra):
    return client.get(f"/r/{link.referral_code}", HTTP_USER_AGENT=agent, **extra)


def test_it_renders_the_campaign_page(client, bob_link):
    response = visit(client, bob_link)
    body = response.content.decode()
    assert response.status_code == 200
    assert "Join the launch" in body
    assert f'action="/r/{bob_link.referral_code}/join"' in body
    assert 'name="csrfmiddlewaretoken"' in body
    assert f'<meta property="og:url" content="{bob_link.referral_url}"' in body


def test_it_records_a_click_with_what_it_knows_of_the_visitor(client, bob_link, settings):
    settings.IP_ANONYMIZATION = "truncate"
    response = visit(
        client,
        bob_link,
        IPHONE + "",
        REMOTE_ADDR="203.0.113.77",
        HTTP_REFERER="https://t.co/abc",
        QUERY_STRING="utm_source=x&utm_campaign=summer&other=ignored",
    )
    event = ReferralEvent.objects.get()
    bob_link.refresh_from_db()
    assert bob_link.clicks == 1
    assert (event.event_type, event.is_unique, event.device_type, event.os) == (
        "click",
        True,
        "mobile",
        "iOS",
    )
    assert event.ip_address == "203.0.113.0"
    assert event.referrer == "https://t.co/abc"
    assert event.metadata == {"utm": {"utm_source": "x", "utm_campaign": "summer"}}
    assert event.visitor_id == response.cookies["it_vid"].value


def test_it_records_a_repeat_visit_inside_the_window_without_counting_it(client, bob_link):
    visit(client, bob_link)
    visit(client, bob_link)
    bob_link.refresh_from_db()
    assert bob_link.clicks == 1
    assert list(
        ReferralEvent.objects.order_by("created_at").values_list("is_unique", flat=True)
    ) == [
        True,
        False,
    ]


def test_it_counts_a_repeat_visit_outside_the_window(client, bob_link, settings):
    settings.CLICK_DEDUPE_SECONDS = 3600
    visit(client, bob_link)
    ReferralEvent.objects.update(created_at=timezone.now() - timedelta(seconds=3601))
    visit(client, bob_link)
    bob_link.refresh_from_db()
    assert bob_link.clicks == 2


def test_it_counts_two_different_visitors(client, bob_link):
    visit(client, bob_link)
    client.cookies.clear()
    visit(client, bob_link)
    bob_link.refresh_from_db()
    assert bob_link.clicks == 2


@pytest.mark.parametrize("agent", ["Twitterbot/1.0", "Mozilla/5.0 (compatible; Discordbot/2.0)"])
def test_it_records_crawlers_as_previews_and_counts_nothing(client, bob_link, agent):
    response = visit(client, bob_link, agent)
    bob_link.refresh_from_db()
    assert response.status_code == 200
    assert "og:title" in response.content.decode()
    assert bob_link.clicks == 0
    assert ReferralEvent.objects.get().event_type == "preview"
    assert "it_vid" not in response.cookies


def test_it_records_a_head_request_as_a_preview(client, bob_link):
    response = client.head(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
    bob_link.refresh_from_db()
    assert response.status_code == 200
    assert bob_link.clicks == 0
    assert ReferralEvent.objects.get().event_type == "preview"


@pytest.mark.parametrize("code", ["nope-aaaaaaaaaaaaaaaa", "UPPER", "a" * 65, "bad%20code", "x.y"])
def test_it_answers_404_for_unknown_or_malformed_codes(client, db, code):
    response = client.get(f"/r/{code}", HTTP_USER_AGENT=WINDOWS_CHROME)
    assert response.status_code == 404
    assert "Link not found" in response.content.decode()
    assert ReferralEvent.objects.count() == 0


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ("link_off", "no longer active"),
        ("link_expired", "has expired"),
        ("campaign_off", "has ended"),
        ("campaign_ended", "has ended"),
        ("campaign_not_started", "opens on"),
    ],
)
def test_it_answers_410_with_the_reason_when_a_link_cannot_be_used(client, bob_link, change, says):
    now = timezone.now()
    campaign = bob_link.campaign
    if change == "link_off":
        bob_link.is_active = False
    elif change == "link_expired":
        bob_link.expires_at = now - timedelta(minutes=1)
    elif change == "campaign_off":
        campaign.is_active = False
    elif change == "campaign_ended":
        campaign.ends_at = now - timedelta(minutes=1)
    else:
        campaign.starts_at = now + timedelta(days=2)
    bob_link.save()
    campaign.save()

    response = visit(client, bob_link)

    assert response.status_code == 410
    assert says in response.content.decode()
    assert ReferralEvent.objects.count() == 0
    bob_link.refresh_from_db()
    assert bob_link.clicks == 0


def test_a_get_on_the_join_url_goes_back_to_the_page(client, bob_link):
    response = client.get(f"/r/{bob_link.referral_code}/join")
    assert response.status_code == 302
    assert response["Location"] == f"/r/{bob_link.referral_code}"


def test_the_join_form_requires_the_csrf_token(bob_link):
    from django.test import Client

    response = Client(enforce_csrf_checks=True).post(f"/r/{bob_link.referral_code}/join")
    assert response.status_code == 403


@pytest.mark.parametrize(
    "method, buttons",
    [
        ("invite", ["Join Discord"]),
        ("oauth", ["Join Discord"]),
        ("both", ["Join Discord", "Use an invite link instead"]),
    ],
)
def test_it_offers_the_campaigns_ways_to_join_in_order(client, bob_link, method, buttons):
    # given a campaign joined by invite, by "Join with Discord", or both
    bob_link.campaign.join_method = method
    bob_link.campaign.save()

    # when its page is shown
    body = visit(client, bob_link).content.decode()

    # then exactly its buttons (the campaign's label first), "Join with Discord" first
    shown = [b for b in ("Join Discord<", "Use an invite link instead") if b in body]
    assert [b.rstrip("<") for b in shown] == buttons
    assert body.count("Join Discord<") == 1
    assert (f'href="/r/{bob_link.referral_code}/join/oauth"' in body) == (method != "invite")
    assert (f'action="/r/{bob_link.referral_code}/join"' in body) == (method != "oauth")


def test_an_address_over_the_page_limit_gets_a_429_page_saying_when_to_come_back(
    client, bob_link, settings
):
    # Given an address that has opened landing pages as often as LANDING_RATE_LIMIT_PER_IP allows
    settings.LANDING_RATE_LIMIT_PER_IP = (2, 60)
    assert [visit(client, bob_link).status_code for _ in range(2)] == [200, 200]

    # When it opens one more (an unknown code too: the limit comes before the lookup)
    response = visit(client, bob_link)
    unknown = client.get("/r/made-up-code-aaaaaaaaaaaa", HTTP_USER_AGENT=WINDOWS_CHROME)

    # Then it is told to slow down and when to come back, and nothing more is recorded
    assert (response.status_code, unknown.status_code) == (429, 429)
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Slow down a little" in response.content.decode()
    assert ReferralEvent.objects.count() == 2


def test_the_page_limit_counts_the_client_behind_trusted_proxies_not_the_proxy(
    client, bob_link, settings
):
    # Given two proxies in front (a load balancer, then a local reverse proxy) and a limit of 1
    settings.TRUSTED_PROXY_COUNT = 2
    settings.LANDING_RATE_LIMIT_PER_IP = (1, 60)

    def from_client(address, forged=""):
        chain = f"{forged}{address}, 10.0.0.2"  # the balancer's view, then the local proxy's
        return visit(client, bob_link, REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=chain)

    # When one client comes twice, the second time forging extra hops on the left,
    # and another client comes through the same proxies
    first, forged = from_client("203.0.113.7"), from_client("203.0.113.7", "1.1.1.1, 2.2.2.2, ")
    other = from_client("198.51.100.9")

    # Then the forged hops gain nothing, and the other client has its own allowance
    assert (first.status_code, forged.status_code, other.status_code) == (200, 429, 200)
    stored = list(ReferralEvent.objects.order_by("created_at").values_list("ip_address", flat=True))
    assert stored == ["203.0.113.0", "198.51.100.0"]


def test_an_ipv6_client_is_limited_by_its_whole_64(client, bob_link, settings):
    settings.LANDING_RATE_LIMIT_PER_IP = (1, 60)
    first = visit(client, bob_link, REMOTE_ADDR="2001:db8:1:2::1")
    same_64 = visit(client, bob_link, REMOTE_ADDR="2001:db8:1:2:ffff::9")
    other_64 = visit(client, bob_link, REMOTE_ADDR="2001:db8:1:3::1")
    assert [r.status_code for r in (first, same_64, other_64)] == [200, 429, 200]


def test_a_zero_page_limit_turns_it_off(client, bob_link, settings):
    settings.LANDING_RATE_LIMIT_PER_IP = (0, 60)
    assert {visit(client, bob_link).status_code for _ in range(5)} == {200}


def csrf_token_of(response) -> str:
    import re

    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.content.decode())[1]


def test_the_kept_page_gives_each_visitor_their_own_csrf_token_that_works(bob_link, campaign):
    from django.test import Client

    from referrals.models import ManagedInvite

    # Given two visitors on the same page (the second served from the kept rendering), and a
    # pool with an invite for each
    campaign.referral_roles = "off"
    campaign.save()
    for n in range(2):
        ManagedInvite.objects.create(
            campaign=campaign,
            discord_invite_code=f"kept{n}",
            discord_invite_url=f"https://discord.gg/kept{n}",
            guild_id=campaign.guild_id,
            channel_id=campaign.channel_id,
            expires_at=timezone.now() + timedelta(days=1),
        )
    visitors = [Client(enforce_csrf_checks=True) for _ in range(2)]
    pages = [visit(visitor, bob_link) for visitor in visitors]

    # Then each page carries a token of its own, matching that visitor's CSRF cookie
    tokens = [csrf_token_of(page) for page in pages]
    assert tokens[0] != tokens[1]
    assert all("csrf-slot" not in page.content.decode() for page in pages)
    assert all(visitor.cookies["csrftoken"].value for visitor in visitors)
    # And each visitor's own token gets them through the CSRF-protected Join form
    for visitor, token in zip(visitors, tokens, strict=True):
        response = visitor.post(f"/r/{bob_link.referral_code}/join", {"csrfmiddlewaretoken": token})
        assert response.status_code == 302
        assert response["Location"].startswith("https://discord.gg/kept")


def test_the_kept_page_changes_as_soon_as_the_campaign_or_influencer_is_saved(
    client, bob_link, campaign, bob
):
    # Given the page was served (and kept)
    assert "Join the launch" in visit(client, bob_link).content.decode()

    # When the manager changes the headline, and the influencer their name
    campaign.headline = "Season two is here"
    campaign.save()
    after_campaign = visit(client, bob_link).content.decode()
    bob.first_name, bob.last_name = "Bob", "Builder"
    bob.save()
    after_influencer = visit(client, bob_link).content.decode()

    # Then the next visit shows each change at once
    assert "Season two is here" in after_campaign
    assert "Join the launch" not in after_campaign
    assert "Bob Builder" in after_influencer


def test_a_page_without_an_invite_form_sets_no_csrf_cookie(client, bob_link, campaign):
    campaign.join_method = "oauth"
    campaign.save()

    response = visit(client, bob_link)

    assert 'name="csrfmiddlewaretoken"' not in response.content.decode()
    assert "csrftoken" not in response.cookies


def test_a_join_press_without_its_security_cookie_says_what_to_do(bob_link):
    browser = Client(enforce_csrf_checks=True)  # a browser that blocks cookies

    response = browser.post(f"/r/{bob_link.referral_code}/join")

    page = response.content.decode()
    assert response.status_code == 403
    assert "Please try that again" in page and "Allow cookies for this site" in page
    assert f'href="/r/{bob_link.referral_code}"' in page
