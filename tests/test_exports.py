"""CSV exports: streamed, filtered, scoped, one column per onboarding field."""

import csv
import io

import pytest
from django.http import StreamingHttpResponse
from django.urls import reverse

from analytics.models import Conversion, OnboardingResponse, ReferralEvent
from botworker.emulator import defaults as discord
from campaigns.models import OnboardingField
from tests.analytics_support import journey


def export(client, kind: str, **params) -> list[dict]:
    response = client.get(reverse("admin:analytics_dashboard_export", args=[kind]), params)
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv"
    assert kind in response["Content-Disposition"]
    body = b"".join(response.streaming_content).decode()
    return list(csv.DictReader(io.StringIO(body)))


@pytest.fixture
def numbers(campaign, bob_link, charlie_link):
    journey(bob_link, charlie_link, campaign)
    OnboardingField.objects.create(campaign=campaign, key="email", label="Email", order=1)
    for link, member, answers in (
        (bob_link, "101", {"game": "Tetris", "email": "=HYPERLINK(1)"}),
        (charlie_link, "102", {"game": "Go"}),
    ):
        for key, value in answers.items():
            OnboardingResponse.objects.create(
                campaign=campaign, link=link, discord_user_id=member, field_key=key, value=value
            )
        Conversion.objects.create(
            campaign=campaign, link=link, referral_code=link.referral_code, discord_user_id=member
        )


def test_it_exports_events_with_their_utm_and_decision(client, alice, numbers):
    client.force_login(alice)
    rows = export(client, "events", range="7")
    assert len(rows) == 11
    clicks = [r for r in rows if r["event_type"] == "click"]
    assert sorted(r["utm_source"] for r in clicks) == ["", "twitter", "yt", "yt"]
    assert sorted(r["decision"] for r in rows if r["event_type"] == "discord_join") == [
        "ambiguous",
        "exact",
        "link",
        "organic",
    ]


def test_it_exports_events_with_the_dashboard_filters(client, alice, numbers, charlie_link):
    client.force_login(alice)
    rows = export(client, "events", range="7", link=str(charlie_link.pk))
    assert {r["referral_code"] for r in rows} == {charlie_link.referral_code}
    assert len(rows) == 2
    assert export(client, "events", range="custom", start="2020-01-01", end="2020-01-02") == []


def test_it_exports_conversions_with_a_column_per_field(client, alice, numbers, bob_link):
    client.force_login(alice)
    rows = export(client, "conversions")
    assert list(rows[0])[-2:] == ["game", "email"]
    bob_row = next(r for r in rows if r["referral_code"] == bob_link.referral_code)
    assert (bob_row["influencer"], bob_row["game"]) == ("bob", "Tetris")
    # A spreadsheet must not run what a member typed.
    assert bob_row["email"] == "'=HYPERLINK(1)"


def test_it_exports_one_row_per_member_with_their_answers(client, alice, numbers):
    client.force_login(alice)
    rows = export(client, "responses")
    assert [(r["discord_user_id"], r["game"], r["email"]) for r in rows] == [
        ("101", "Tetris", "'=HYPERLINK(1)"),
        ("102", "Go", ""),
    ]


@pytest.mark.parametrize("kind", ["events", "conversions", "responses"])
def test_it_exports_only_an_influencers_own_rows(
    client, influencers, numbers, kind, campaign, charlie_link
):
    campaign.influencers_see_answers = True
    campaign.save()
    bob, _ = influencers
    client.force_login(bob)
    rows = export(client, kind, range="7")
    assert rows
    codes = {r["referral_code"] for r in rows}
    assert codes and charlie_link.referral_code not in codes
    assert all(r["influencer"] == "bob" for r in rows)


def test_it_refuses_an_unknown_export(client, alice):
    client.force_login(alice)
    url = reverse("admin:analytics_dashboard_export", args=["passwords"])
    assert client.get(url).status_code == 404


def test_it_streams_reading_the_events_only_as_the_download_is_sent(client, alice, numbers):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(alice)
    with CaptureQueriesContext(connection) as reads:
        response = client.get(
            reverse("admin:analytics_dashboard_export", args=["events"]), {"range": "7"}
        )
        answered = len(reads)
        first = next(iter(response.streaming_content))
        rest = b"".join(response.streaming_content)

    def event_reads(queries) -> int:
        return sum('FROM "referral_analytics"' in q["sql"] for q in queries)

    # then the response is a download that has read no event when it is handed to the server
    assert response.streaming and "attachment" in response["Content-Disposition"]
    assert event_reads(reads.captured_queries[:answered]) == 0
    # and reading it streams every event in the range, header first
    assert first.startswith(b"created_at,event_type")
    assert event_reads(reads.captured_queries[answered:]) >= 1
    rows = list(csv.reader(io.StringIO((first + rest).decode())))
    assert len(rows) - 1 == ReferralEvent.objects.count() > 0


def test_no_cell_can_start_a_formula_in_a_spreadsheet(client, alice, campaign, bob_link):
    # given answers stored by any route (the bot API, an import) that a spreadsheet would run
    dangerous = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1+1", "\r=1+1"]
    for number, value in enumerate(dangerous):
        OnboardingResponse.objects.create(
            campaign=campaign,
            link=bob_link,
            discord_user_id=f"20{number}",
            field_key="game",
            value=value,
        )
    client.force_login(alice)

    # when they are exported, then each cell starts with an apostrophe
    assert [r["game"] for r in export(client, "responses")] == ["'" + v for v in dangerous]


def test_an_influencer_exports_no_answers_of_a_campaign_that_keeps_them_private(
    client, influencers, numbers, campaign
):
    bob, _ = influencers
    client.force_login(bob)

    assert export(client, "responses", range="7") == []
    conversions = export(client, "conversions", range="7")
    assert [r["discord_user_id"] for r in conversions] == ["101"]  # the conversion, counted
    assert "game" not in conversions[0] and "email" not in conversions[0]
    assert "HYPERLINK" not in str(conversions)


@pytest.mark.parametrize(
    "params, message",
    [
        (
            {"range": "custom", "start": "2026-02-01"},
            "A custom range needs a start and an end date.",
        ),
        (
            {"range": "custom", "start": "2026-02-01", "end": "2026-01-01"},
            "The end date is before the start date.",
        ),
        ({"range": "custom", "start": "2024-01-01", "end": "2026-01-01"}, "Pick at most 366 days."),
    ],
)
@pytest.mark.parametrize("kind", ["events", "conversions", "responses"])
def test_it_refuses_the_ranges_the_dashboard_refuses(client, alice, numbers, kind, params, message):
    # given a range the dashboard refuses (and says why above its numbers)
    client.force_login(alice)
    dashboard = client.get(reverse("admin:analytics_dashboard_changelist"), params)
    assert message in dashboard.content.decode()

    # when the same range is exported
    response = client.get(reverse("admin:analytics_dashboard_export", args=[kind]), params)

    # then no file, the same message
    assert response.status_code == 400
    assert not isinstance(response, StreamingHttpResponse)
    assert response.content.decode() == f"Export refused: {message}"


def test_it_names_the_roles_assigned_with_their_ids(client, alice, campaign, bob_link, request):
    # given a conversion that was given two roles, one since deleted from the server
    request.getfixturevalue("discord_emulator")
    Conversion.objects.create(
        campaign=campaign,
        link=bob_link,
        referral_code=bob_link.referral_code,
        discord_user_id="101",
        roles_assigned=[discord.MEMBER_ROLE_ID, "1300000000000000999"],
    )
    client.force_login(alice)

    # when the conversions are exported and listed in the admin
    rows = export(client, "conversions")
    listing = client.get(reverse("admin:analytics_conversion_changelist")).content.decode()

    # then each role by its name as the bot sees the server, its id alongside
    shown = f"Member ({discord.MEMBER_ROLE_ID}); 1300000000000000999"
    assert rows[0]["roles_assigned"] == shown
    assert f'<td class="field-roles">{shown}</td>' in listing


def test_without_the_bots_view_roles_are_exported_as_ids(client, alice, campaign, settings):
    settings.DISCORD_BOT_TOKEN = ""
    Conversion.objects.create(
        campaign=campaign,
        discord_user_id="101",
        roles_assigned=["1300000000000000300", "1300000000000000301"],
    )
    client.force_login(alice)
    assert export(client, "conversions")[0]["roles_assigned"] == (
        "1300000000000000300; 1300000000000000301"
    )
