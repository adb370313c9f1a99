"""The analytics pages in the admin: what managers and influencers see."""

import pytest
from django.urls import reverse

from analytics.models import OnboardingResponse, OnboardingSession
from tests.analytics_support import journey

OVERVIEW = reverse("admin:analytics_dashboard_changelist")
DATA = reverse("admin:analytics_dashboard_data")


@pytest.fixture
def numbers(campaign, bob_link, charlie_link):
    journey(bob_link, charlie_link, campaign)


def campaign_url(campaign) -> str:
    return reverse("admin:analytics_dashboard_campaign", args=[campaign.pk])


def link_url(link) -> str:
    return reverse("admin:analytics_dashboard_link", args=[link.pk])


def test_it_shows_the_overview_with_every_chart(client, alice, numbers):
    client.force_login(alice)
    response = client.get(OVERVIEW, {"range": "7"})
    body = response.content.decode()
    assert response.status_code == 200
    assert response.templates[0].name == "admin/analytics/overview.html"
    for section in ("funnel", "attribution", "series", "breakdown-referrer", "top-links"):
        assert f'id="{section}"' in body
    assert body.count('class="chart chart-bars"') == 9  # funnel, attribution, 7 breakdowns
    assert "<polyline" in body
    assert "youtube.com" in body and "Charlie on X" in body
    assert "analytics/dashboard.css" in body
    assert "cdn" not in body.lower()


def test_it_lists_dashboards_on_the_admin_index(client, alice):
    client.force_login(alice)
    assert OVERVIEW in client.get(reverse("admin:index")).content.decode()


def test_it_says_what_to_do_when_there_is_no_activity(client, alice, bob_link):
    client.force_login(alice)
    body = client.get(OVERVIEW).content.decode()
    assert "No activity in this range yet" in body
    assert bob_link.referral_url in body
    assert "<polyline" not in body


def test_it_offers_the_link_to_share_on_an_empty_link_page(client, alice, bob_link):
    client.force_login(alice)
    body = client.get(link_url(bob_link)).content.decode()
    assert "No clicks yet in this range" in body
    assert f'value="{bob_link.referral_url}"' in body


def test_it_shows_a_custom_range_and_rejects_a_backwards_one(client, alice, numbers):
    client.force_login(alice)
    data = client.get(DATA, {"range": "custom", "start": "2020-01-01", "end": "2020-01-31"}).json()
    assert data["range"] == {"start": "2020-01-01", "end": "2020-01-31"}
    assert data["funnel"]["clicks"] == 0
    response = client.get(OVERVIEW, {"range": "custom", "start": "2020-02-01", "end": "2020-01-01"})
    assert "The end date is before the start date." in response.content.decode()


def test_it_returns_the_charts_data_as_json(client, alice, numbers):
    client.force_login(alice)
    data = client.get(DATA, {"range": "7"}).json()
    assert data["funnel"]["unique_clicks"] == 3
    assert data["breakdowns"]["device"] == {"mobile": 3, "desktop": 1}
    assert data["attribution"]["Organic"] == 1
    assert len(data["series"]["days"]) == 7
    assert [r["name"] for r in data["leaderboard"]["influencers"]] == ["bob", "charlie"]


def test_it_shows_a_campaign_with_field_completion_and_responses(client, alice, campaign, bob_link):
    from analytics.models import OnboardingResponse, OnboardingSession
    from campaigns.models import OnboardingField

    OnboardingField.objects.create(campaign=campaign, key="email", label="Email", order=1)
    for member, answered in (("201", True), ("202", False)):
        OnboardingSession.objects.create(
            campaign=campaign,
            link=bob_link,
            discord_user_id=member,
            guild_id="1",
            started_at="2025-01-01T00:00:00Z",
            status="started",
        )
        if answered:
            OnboardingResponse.objects.create(
                campaign=campaign,
                link=bob_link,
                discord_user_id=member,
                field_key="game",
                value="Tetris",
            )
    client.force_login(alice)
    response = client.get(campaign_url(campaign))
    assert response.status_code == 200
    completion = {f.key: (n, rate) for f, n, rate in response.context["completion"]}
    assert completion == {"game": (1, 0.5), "email": (0, 0.0)}
    assert response.context["rows"] == [(("", "201"), ["Tetris", ""])]
    assert "Tetris" in response.content.decode()


def answered(campaign, link, member: str, game: str, **session) -> None:
    """`member` came through `link`, has an onboarding session, and answered "game"."""
    OnboardingSession.objects.create(
        campaign=campaign, link=link, discord_user_id=member, guild_id="1", **session
    )
    OnboardingResponse.objects.create(
        campaign=campaign, link=link, discord_user_id=member, field_key="game", value=game
    )


def test_the_answers_table_reads_with_labels_and_member_names(client, alice, campaign, bob_link):
    # given a member known by name who answered the campaign's question
    answered(
        campaign,
        bob_link,
        "1300000000000000777",
        "Tetris",
        discord_username="ada",
        status="completed",
    )
    client.force_login(alice)

    # when the manager opens the campaign's dashboard and the responses list
    dashboard = client.get(campaign_url(campaign)).content.decode()
    listing = client.get(reverse("admin:analytics_onboardingresponse_changelist")).content.decode()

    # then both name the question by its label and the member by name, id alongside
    assert '<th scope="col" title="game">Favourite game</th>' in dashboard
    assert 'ada <small class="dash-id">1300000000000000777</small>' in dashboard
    assert '<td class="field-question">Favourite game</td>' in listing
    assert '<td class="field-member">ada (1300000000000000777)</td>' in listing


def test_it_shows_a_link_with_its_events(client, alice, numbers, bob_link):
    client.force_login(alice)
    response = client.get(link_url(bob_link), {"range": "7"})
    assert response.status_code == 200
    assert response.context["report"].funnel.clicks == 3
    assert len(response.context["page"].object_list) == 7
    assert 'id="events"' in response.content.decode()


def test_it_is_for_staff_with_the_dashboard_permission(client, bob, charlie):
    response = client.get(OVERVIEW)
    assert response.status_code == 302  # to the admin login
    charlie.is_staff = True
    charlie.save()
    client.force_login(charlie)
    assert client.get(OVERVIEW).status_code == 403
    assert client.get(DATA).status_code == 403


# --- Influencers: bob sees bob's, never charlie's ---------------------------------------------


def test_it_shows_an_influencer_only_their_own_overview(client, influencers, numbers, charlie_link):
    bob, _ = influencers
    client.force_login(bob)
    response = client.get(OVERVIEW, {"range": "7"})
    body = response.content.decode()
    assert response.status_code == 200
    assert "You are seeing your own links only." in body
    assert "Charlie on X" not in body and charlie_link.referral_code not in body
    assert "t.co" not in body
    assert response.context["report"].funnel.clicks == 3
    assert "influencer" not in response.context["form"].fields


def test_it_gives_an_influencer_only_their_own_json(client, influencers, numbers):
    bob, _ = influencers
    client.force_login(bob)
    data = client.get(DATA, {"range": "7"}).json()
    assert data["funnel"]["clicks"] == 3
    assert data["attribution"] == {"Exact": 1}
    assert [r["name"] for r in data["leaderboard"]["links"]] == ["Bob on YouTube"]
    assert "t.co" not in str(data)


def test_it_hides_other_influencers_links_and_ignores_their_filters(
    client, influencers, numbers, charlie_link
):
    bob, _ = influencers
    client.force_login(bob)
    assert client.get(link_url(charlie_link)).status_code == 404
    data = client.get(DATA, {"range": "7", "link": str(charlie_link.pk)}).json()
    assert data["funnel"]["clicks"] == 3  # not a choice for bob: the filter is refused
    data = client.get(DATA, {"range": "7", "platform": "x"}).json()
    assert data["funnel"]["clicks"] == 0


def test_it_shows_an_influencer_their_part_of_a_campaign(
    client, influencers, numbers, campaign, charlie_link
):
    from analytics.models import OnboardingResponse

    OnboardingResponse.objects.create(
        campaign=campaign, link=charlie_link, discord_user_id="102", field_key="game", value="Go"
    )
    campaign.influencers_see_answers = True
    campaign.save()
    bob, charlie = influencers
    client.force_login(bob)
    response = client.get(campaign_url(campaign), {"range": "7"})
    assert response.status_code == 200
    assert response.context["report"].funnel.joins == 1
    assert response.context["rows"] == []
    client.force_login(charlie)
    assert client.get(campaign_url(campaign)).context["rows"] == [(("", "102"), ["Go"])]


def test_it_hides_campaigns_an_influencer_has_no_link_in(client, influencers, campaign):
    bob, _ = influencers
    client.force_login(bob)
    assert client.get(campaign_url(campaign)).status_code == 404


def test_it_shows_an_influencer_progress_but_not_answers_by_default(
    client, influencers, numbers, campaign, charlie_link
):
    # given a campaign that keeps answers private (the default) and one of charlie's members
    answered(
        campaign,
        charlie_link,
        "102",
        "charlie-member@example.com",
        started_at="2025-01-01T00:00:00Z",
        status="started",
    )
    _, charlie = influencers
    client.force_login(charlie)

    # when charlie opens the campaign's page
    response = client.get(campaign_url(campaign))

    # then the counts are there, the answer is not
    page = response.content.decode()
    assert {f.key: n for f, n, _ in response.context["completion"]} == {"game": 1}
    assert response.context["rows"] == []
    assert "charlie-member@example.com" not in page
    assert "keeps members' answers private" in page
