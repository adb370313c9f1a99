"""The seed's JSON endpoints: shapes, errors and what they write (or don't)."""

import json

import pytest

from analytics.models import ReferralEvent
from referrals.models import ManagedInvite
from tests.test_classify import WINDOWS_CHROME

CREATE = "/api/discord/create-managed-invite"


def post_raw(client, body, content_type="application/json"):
    return client.post(CREATE, data=body, content_type=content_type)


def test_head_records_a_click_like_the_page(client, bob_link):
    response = client.head(
        f"/api/referral/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME
    )
    bob_link.refresh_from_db()
    assert response.status_code == 200
    assert bob_link.clicks == 1
    assert ReferralEvent.objects.get().event_type == "click"


def test_head_records_a_crawler_as_a_preview(client, bob_link):
    client.head(f"/api/referral/{bob_link.referral_code}", HTTP_USER_AGENT="Slackbot 1.0")
    bob_link.refresh_from_db()
    assert bob_link.clicks == 0
    assert ReferralEvent.objects.get().event_type == "preview"


def test_head_answers_404_for_an_unknown_code(client, db):
    response = client.head("/api/referral/unknown-aaaaaaaaaaaaaaaa")
    assert response.status_code == 404
    assert ReferralEvent.objects.count() == 0


def test_campaign_data_returns_what_the_page_renders(client, bob_link):
    response = client.get(f"/api/referral/{bob_link.referral_code}/campaign")
    data = response.json()
    assert response.status_code == 200
    assert data["referral_code"] == bob_link.referral_code
    assert data["campaign"]["headline"] == "Join the launch"
    assert data["campaign"]["highlights"] == ["Beta access", "Giveaways"]
    assert data["influencer_name"] == "bob"
    assert ReferralEvent.objects.count() == 0  # reading campaign data is not a click


def test_campaign_data_says_why_a_link_is_gone(client, bob_link):
    bob_link.is_active = False
    bob_link.save()
    response = client.get(f"/api/referral/{bob_link.referral_code}/campaign")
    assert response.status_code == 410
    assert response.json() == {"success": False, "error": "This referral link is no longer active."}


@pytest.mark.parametrize(
    ("body", "content_type", "says"),
    [
        ("", "application/json", "empty"),
        ("{not json", "application/json", "not valid JSON"),
        ("[1, 2]", "application/json", "must be a JSON object"),
        ("{}", "application/json", "referral_code is missing"),
        ('{"referral_code": 42}', "application/json", "must be a string"),
        ('{"referral_code": ""}', "application/json", "1 to 64 characters"),
        (json.dumps({"referral_code": "a" * 65}), "application/json", "1 to 64 characters"),
        (json.dumps({"referral_code": "x", "pad": "p" * 5000}), "application/json", "too large"),
        ("referral_code=abc", "application/x-www-form-urlencoded", "not valid JSON"),
    ],
)
def test_create_invite_refuses_bad_bodies_and_writes_nothing(
    client, bob_link, body, content_type, says
):
    response = post_raw(client, body, content_type)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert says in response.json()["error"]
    assert ManagedInvite.objects.count() == 0


def test_create_invite_answers_404_for_an_unknown_code(client, db):
    response = post_raw(client, json.dumps({"referral_code": "nope-aaaaaaaaaaaaaaaa"}))
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": "This referral link doesn't exist. Check that you copied the whole address.",
    }


def test_create_invite_answers_410_for_an_ended_campaign(client, bob_link):
    bob_link.campaign.is_active = False
    bob_link.campaign.save()
    response = post_raw(client, json.dumps({"referral_code": bob_link.referral_code}))
    assert response.status_code == 410
    assert ManagedInvite.objects.count() == 0


def test_a_wrong_method_gets_the_same_error_shape(client, db):
    response = client.get(CREATE)
    assert response.status_code == 405
    assert response.json()["success"] is False


def test_the_schema_documents_the_seed_endpoints(client, db):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/vnd.oai.openapi+json")
    schema = json.loads(response.content)
    assert response.status_code == 200
    assert {"/api/referral/{code}", "/api/referral/{code}/campaign", CREATE} <= set(schema["paths"])
    assert set(schema["paths"][CREATE]["post"]["responses"]) == {
        "200",
        "400",
        "404",
        "410",
        "429",
        "503",
    }


@pytest.mark.parametrize(
    "request_",
    [
        lambda c, code: c.head(f"/api/referral/{code}", HTTP_USER_AGENT=WINDOWS_CHROME),
        lambda c, code: c.get(f"/api/referral/{code}", HTTP_USER_AGENT=WINDOWS_CHROME),
        lambda c, code: c.get(f"/api/referral/{code}/campaign"),
    ],
    ids=["HEAD click", "GET click", "GET campaign"],
)
def test_an_address_over_the_visit_limit_gets_429_with_retry_after(
    client, bob_link, settings, request_
):
    # Given an address at its LANDING_RATE_LIMIT_PER_IP
    settings.LANDING_RATE_LIMIT_PER_IP = (1, 60)
    assert request_(client, bob_link.referral_code).status_code == 200

    # When it asks again
    response = request_(client, bob_link.referral_code)

    # Then it gets the API's error shape (a HEAD answer has no body) and when to retry
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    if response.content:
        assert response.json() == {
            "success": False,
            "error": f"Too many requests: try again in {response['Retry-After']} seconds.",
        }
    assert ReferralEvent.objects.count() <= 1
