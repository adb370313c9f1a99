"""What a visitor reads on /r/<code>: the campaign's public title and button label, the trailing
slash forgiven, and a way forward from a link that can no longer be used."""

from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from analytics.joins import render_welcome
from tests.test_classify import WINDOWS_CHROME


def page(client, path):
    return client.get(path, HTTP_USER_AGENT=WINDOWS_CHROME)


@pytest.mark.parametrize("method", ["invite", "oauth", "both"])
def test_it_shows_the_campaigns_button_label_whatever_the_join_method(client, bob_link, method):
    # given a campaign with its own button label
    campaign = bob_link.campaign
    campaign.join_method = method
    campaign.button_label = "Claim my spot"
    campaign.save()

    # when its page is shown
    body = page(client, f"/r/{bob_link.referral_code}").content.decode()

    # then the first button says the label, whichever way the visitor joins
    assert body.count("Claim my spot") == 1
    assert "Join with Discord<" not in body
    assert ("Use an invite link instead" in body) == (method == "both")


def test_it_shows_the_public_title_not_the_internal_name(client, bob_link):
    # given a campaign with an internal name and a public title, and no headline
    campaign = bob_link.campaign
    campaign.campaign_name = "Summer Drop (demo)"
    campaign.public_title = "Summer Drop"
    campaign.headline = ""
    campaign.save()

    # when its page is shown
    body = page(client, f"/r/{bob_link.referral_code}").content.decode()

    # then the header, the title and every share tag use the public title
    assert "(demo)" not in body
    assert '<meta property="og:site_name" content="Summer Drop">' in body
    assert '<meta property="og:title" content="Summer Drop">' in body
    assert "<title>Summer Drop</title>" in body
    assert '<p class="site-header__name">Summer Drop</p>' in body


def test_without_a_public_title_the_internal_name_is_shown(client, bob_link):
    body = page(client, f"/r/{bob_link.referral_code}").content.decode()
    assert '<meta property="og:site_name" content="Launch">' in body


def test_the_welcome_names_the_campaign_by_its_public_title(bob_link):
    campaign = bob_link.campaign
    campaign.public_title = "The Launch Party"
    campaign.welcome_message = "Hi {member}, welcome to {campaign}!"
    assert render_welcome(campaign, bob_link, "42") == "Hi <@42>, welcome to The Launch Party!"


def test_a_trailing_slash_redirects_to_the_page_with_its_query(client, bob_link):
    code = bob_link.referral_code

    response = page(client, f"/r/{code}/?utm_source=yt&utm_medium=video")

    assert response.status_code == 301
    assert response["Location"] == f"/r/{code}?utm_source=yt&utm_medium=video"
    assert page(client, f"/r/{code}/")["Location"] == f"/r/{code}"


def expire(link):
    link.expires_at = timezone.now() - timedelta(minutes=1)
    link.save()


def switch_off(link):
    link.is_active = False
    link.save()


def end_campaign(link):
    link.campaign.ends_at = timezone.now() - timedelta(minutes=1)
    link.campaign.save()


@pytest.mark.parametrize("make_unavailable", [expire, switch_off, end_campaign])
def test_an_unavailable_link_offers_the_server_when_the_manager_allows(
    client, bob_link, make_unavailable
):
    # given a campaign that offers its public server on unavailable links
    campaign = bob_link.campaign
    campaign.public_server_url = "https://discord.gg/launchparty"
    campaign.offer_server_when_unavailable = True
    campaign.save()
    make_unavailable(bob_link)

    # when the visitor opens the link
    response = page(client, f"/r/{bob_link.referral_code}")

    # then the page says why and offers the server
    body = response.content.decode()
    assert response.status_code == 410
    assert 'href="https://discord.gg/launchparty"' in body
    assert "Join Launch on Discord" in body


def test_an_unavailable_link_offers_nothing_when_the_manager_did_not_allow(client, bob_link):
    campaign = bob_link.campaign
    campaign.public_server_url = "https://discord.gg/launchparty"
    campaign.save()
    expire(bob_link)

    body = page(client, f"/r/{bob_link.referral_code}").content.decode()

    assert "Link expired" in body
    assert "discord.gg/launchparty" not in body


def test_offering_the_server_needs_its_link(campaign):
    campaign.offer_server_when_unavailable = True
    with pytest.raises(ValidationError, match="public server link"):
        campaign.full_clean()
