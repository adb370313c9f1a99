"""Influencers in the admin lists: their own links' rows, nobody else's."""

import pytest
from django.urls import reverse

from analytics.models import Conversion, OnboardingResponse
from tests.analytics_support import click


@pytest.fixture
def rows(campaign, bob_link, charlie_link):
    campaign.influencers_see_answers = True  # here: who sees which rows, not the privacy setting
    campaign.save()
    for link, member in ((bob_link, "1"), (charlie_link, "2")):
        click(link)
        Conversion.objects.create(
            campaign=campaign, link=link, referral_code=link.referral_code, discord_user_id=member
        )
        OnboardingResponse.objects.create(
            campaign=campaign, link=link, discord_user_id=member, field_key="game", value="x"
        )


@pytest.mark.parametrize(
    "model",
    [
        "analytics_referralevent",
        "analytics_conversion",
        "analytics_onboardingresponse",
        "referrals_referrallink",
    ],
)
def test_it_lists_only_an_influencers_own_rows(client, influencers, rows, model):
    bob, _ = influencers
    client.force_login(bob)
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200
    assert response.context["cl"].result_count == 1


def test_it_lists_everything_for_a_manager(client, alice, rows):
    client.force_login(alice)
    response = client.get(reverse("admin:analytics_referralevent_changelist"))
    assert response.context["cl"].result_count == 2


def test_it_refuses_an_influencer_another_influencers_link(client, influencers, charlie_link):
    bob, _ = influencers
    client.force_login(bob)
    response = client.get(reverse("admin:referrals_referrallink_change", args=[charlie_link.pk]))
    assert response.status_code == 302  # "doesn't exist", back to the admin index


def test_it_shows_an_influencer_only_their_campaigns(client, influencers, bob_link, db):
    from campaigns.models import Campaign

    Campaign.objects.create(campaign_name="Other", guild_id="1" * 18, channel_id="2" * 18)
    bob, _ = influencers
    client.force_login(bob)
    response = client.get(reverse("admin:campaigns_campaign_changelist"))
    assert [c.campaign_name for c in response.context["cl"].result_list] == ["Launch"]


def test_it_gives_the_influencers_group_view_permissions_only(influencers):
    bob, _ = influencers
    assert bob.has_perm("analytics.view_dashboard")
    assert bob.has_perm("referrals.view_referrallink")
    assert not bob.has_perm("referrals.change_referrallink")
    assert not bob.has_perm("campaigns.change_campaign")


def test_an_influencer_lists_no_answers_of_a_campaign_that_keeps_them_private(
    client, influencers, alice, campaign, bob_link
):
    OnboardingResponse.objects.create(
        campaign=campaign, link=bob_link, discord_user_id="1", field_key="email", value="a@b.co"
    )
    bob, _ = influencers
    client.force_login(bob)
    changelist = client.get(reverse("admin:analytics_onboardingresponse_changelist"))
    assert changelist.context["cl"].result_count == 0
    answer = OnboardingResponse.objects.get()
    url = reverse("admin:analytics_onboardingresponse_change", args=[answer.pk])
    assert client.get(url).status_code == 302  # "doesn't exist": back to the admin index
    client.force_login(alice)
    assert client.get(url).status_code == 200  # the campaign's managers still read it
