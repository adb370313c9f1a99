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


def test_it_requires_the_bearer_scheme(client, bob_link, token):
    for header in (token, f"Token {token}", f"Basic {token}", f"Bearer{token}"):
        response = post_with(client, body_for(bob_link), header)
        assert response.status_code == 401, header
        assert "Authorization: Bearer" in response.json()["error"]
    assert OnboardingSession.objects.count() == 0
    assert post_with(client, body_for(bob_link), f"Bearer {token}").status_code == 201


def test_failed_authentications_are_rate_limited_per_address(client, bob_link, token, settings):
    # given an address that guessed wrong three times (the limit)
    settings.BOT_API_AUTH_FAILURE_LIMIT = (3, 300)
    for _ in range(3):
        assert post(client, body_for(bob_link), "guess").status_code == 401

    # when it tries again, even with the right token
    refused = post(client, body_for(bob_link), "guess")
    right = post(client, body_for(bob_link), token)

    # then it is told plainly to wait, and nothing is created
    assert (refused.status_code, right.status_code) == (429, 429)
    assert refused.json()["success"] is False
    assert refused.json()["error"].startswith("Too many failed authentications")
    assert int(refused["Retry-After"]) > 0
    assert OnboardingSession.objects.count() == 0
    # while a bot on another address is not affected
    other = client.post(
        URL,
        data=json.dumps(body_for(bob_link)),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
        REMOTE_ADDR="198.51.100.9",
    )
    assert other.status_code == 201


def post_with(client, body, authorization):
    return client.post(
        URL,
        data=json.dumps(body),
        content_type="application/json",
        HTTP_AUTHORIZATION=authorization,
    )


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
        ({"discord_username": "a\x00b"}, 400, "discord_username"),
        ({"referral_code": "\x00"}, 400, "referral_code"),
        ({"referral_code": 0}, 400, "referral_code"),
        ({"referral_code": False}, 400, "referral_code"),
        ({"referral_code": []}, 400, "referral_code"),
        ({"discord_user_id": "123456789012345678\n"}, 400, "discord_user_id"),
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
