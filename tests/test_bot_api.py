"""POST /api/discord-bot/onboarding: token-guarded, validated, idempotent."""

import json

import pytest

from analytics.models import OnboardingSession

URL = "/api/discord-bot/onboarding"
MEMBER = "1300000000000007777"


@pytest.fixture
def token(settings):
    settings.BOT_API_TOKEN = "bot-api-token-for-tests"
    return "bot-api-token-for-tests"


def post(client, body, token=None):
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(URL, data=data, content_type="application/json", **headers)


def body_for(link):
    return {
        "campaign_id": str(link.campaign_id),
        "discord_user_id": MEMBER,
        "discord_username": "newbie#0001",
        "referral_code": link.referral_code,
    }


def test_it_creates_a_session_then_returns_the_same_one(client, bob_link, token):
    first = post(client, body_for(bob_link), token)
    second = post(client, body_for(bob_link), token)
    assert (first.status_code, second.status_code) == (201, 200)
    assert first.json()["session_id"] == second.json()["session_id"]
    session = OnboardingSession.objects.get()
    assert (session.link, session.discord_user_id, session.referral_code) == (
        bob_link,
        MEMBER,
        bob_link.referral_code,
    )


def test_it_refuses_a_missing_or_wrong_token(client, bob_link, token):
    assert post(client, body_for(bob_link)).status_code == 401
    assert post(client, body_for(bob_link), "wrong").status_code == 401
    assert OnboardingSession.objects.count() == 0


def test_it_is_disabled_without_a_configured_token(client, bob_link, settings):
    settings.BOT_API_TOKEN = ""
    response = post(client, body_for(bob_link), "anything")
    assert response.status_code == 401
    assert "BOT_API_TOKEN" in response.json()["error"]


@pytest.mark.parametrize(
    ("change", "status", "says"),
    [
        ({"campaign_id": "nope"}, 400, "campaign_id"),
        ({"discord_user_id": 42}, 400, "discord_user_id"),
        ({"discord_user_id": "123"}, 400, "discord_user_id"),
        ({"discord_username": "x" * 65}, 400, "discord_username"),
        ({"campaign_id": "00000000-0000-0000-0000-000000000000"}, 404, "campaign"),
        ({"referral_code": "other-aaaaaaaaaaaaaaaa"}, 404, "referral_code"),
    ],
)
def test_it_refuses_bad_fields_and_writes_nothing(client, bob_link, token, change, status, says):
    response = post(client, {**body_for(bob_link), **change}, token)
    assert response.status_code == status
    assert says in response.json()["error"]
    assert OnboardingSession.objects.count() == 0


def test_it_refuses_a_body_that_is_not_json(client, db, token):
    response = post(client, "{oops", token)
    assert response.status_code == 400
    assert response.json() == {
        "success": False,
        "error": "The request body is not valid JSON: send {…}.",
    }
