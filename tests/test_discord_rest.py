"""The REST client against the local Discord: retries, rate limits and typed errors."""

import logging
import traceback

import pytest

from botworker.discord_rest import (
    DiscordHTTPError,
    DiscordRateLimited,
    DiscordREST,
    DiscordUnavailable,
    route_key,
)
from botworker.emulator import defaults as discord

CREATE = "POST /channels/*/invites"


@pytest.fixture
def rest(discord_emulator):
    return DiscordREST(discord_emulator.api_base, discord.BOT_TOKEN, timeout=2)


def test_it_creates_a_single_use_invite(rest, discord_emulator):
    invite = rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600)
    assert (invite["max_uses"], invite["max_age"]) == (1, 600)
    assert invite["code"] in {i["code"] for i in discord_emulator.invites()}


def test_it_retries_a_5xx_and_succeeds(rest, discord_emulator):
    discord_emulator.call(discord_emulator.faults.inject_failure, CREATE, status=502, count=2)
    assert rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600)["code"]


def test_it_waits_out_a_429_and_succeeds(rest, discord_emulator):
    discord_emulator.call(
        discord_emulator.faults.inject_rate_limit, CREATE, count=1, retry_after=0.05
    )
    assert rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600)["code"]


def test_it_gives_up_on_a_429_longer_than_its_budget(rest, discord_emulator):
    discord_emulator.call(discord_emulator.faults.inject_rate_limit, CREATE, count=1, retry_after=9)
    with pytest.raises(DiscordRateLimited) as caught:
        rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600, budget=1)
    assert caught.value.retry_after == 9


def test_it_raises_discords_error_code(rest):
    with pytest.raises(DiscordHTTPError) as caught:
        rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=700_000)
    assert (caught.value.status, caught.value.code) == (400, 50035)


def test_it_reports_an_unknown_invite_as_already_gone(rest):
    assert rest.delete_invite("doesNotExist") is False


def test_it_reports_persistent_failure_as_unavailable(rest, discord_emulator):
    discord_emulator.call(discord_emulator.faults.inject_failure, CREATE, count=None)
    with pytest.raises(DiscordUnavailable):
        rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600, budget=2)


def test_it_refuses_to_call_without_a_token(discord_emulator):
    with pytest.raises(DiscordUnavailable, match="DISCORD_BOT_TOKEN"):
        DiscordREST(discord_emulator.api_base, "").guild_invites(discord.GUILD_ID)


def test_rate_limit_keys_keep_the_major_parameter():
    assert route_key("POST", "/channels/1300000000000000200/invites") == (
        "POST /channels/1300000000000000200/invites"
    )
    assert route_key("PUT", "/guilds/1300000000000000100/members/1300000000000000500/roles/1") == (
        "PUT /guilds/1300000000000000100/members/{id}/roles/1"
    )


def test_it_exchanges_a_code_as_the_oauth_client_without_a_bot_token(discord_emulator, settings):
    # given a user who authorised the application, and a client that has no bot token
    user = discord_emulator.create_user("oauth-user")
    redirect = "http://127.0.0.1:8000/discord/oauth/callback"
    back = discord_emulator.authorize_oauth(
        user.id, scopes=["identify", "guilds.join"], redirect_uri=redirect
    )
    code = back.split("code=")[1].split("&")[0]
    rest = DiscordREST(discord_emulator.api_base, "", timeout=2)

    # when the code is exchanged and the token used
    token = rest.exchange_code(code, redirect)
    me = rest.current_user(token["access_token"])

    # then the user is known; a second exchange is refused with Discord's OAuth2 error
    assert me["id"] == user.id
    with pytest.raises(DiscordHTTPError) as refused:
        rest.exchange_code(code, redirect)
    assert (refused.value.status, refused.value.message) == (400, 'Invalid "code" in request.')


def test_it_keeps_waiting_out_429s_while_its_budget_lasts(rest, discord_emulator):
    # Given more rate-limit answers in a row than the client's attempts for failures
    discord_emulator.call(
        discord_emulator.faults.inject_rate_limit, CREATE, count=6, retry_after=0.01
    )
    # When it calls with a budget that covers the waits, then it gets through
    assert rest.create_invite(discord.INVITE_CHANNEL_ID, max_age=600, budget=5)["code"]


TOKEN = "aW50ZXJhY3Rpb24-secret-interaction-token"


def everything_said(exc: BaseException, caplog) -> str:
    """The exception as an operator could see it: its message, its full traceback with any
    chained cause or context, and every log line written meanwhile."""
    return "".join(traceback.format_exception(exc)) + caplog.text


def test_a_network_error_on_a_follow_up_never_shows_the_interaction_token(caplog):
    # given a Discord that cannot be reached (nothing listens on loopback port 9)
    rest = DiscordREST("http://127.0.0.1:9", discord.BOT_TOKEN, timeout=1, max_attempts=1)

    # when a follow-up fails, logged as the task would log it
    with caplog.at_level(logging.DEBUG), pytest.raises(DiscordUnavailable) as failure:
        try:
            rest.followup(discord.APPLICATION_ID, TOKEN, "hello")
        except DiscordUnavailable:
            logging.getLogger("test").exception("follow-up failed")
            raise

    # then neither the error, its traceback nor the log carries the token
    assert "/webhooks/" in str(failure.value)
    assert TOKEN not in everything_said(failure.value, caplog)


def test_a_refused_or_failing_follow_up_never_shows_the_interaction_token(discord_emulator, caplog):
    rest = DiscordREST(discord_emulator.api_base, discord.BOT_TOKEN, timeout=2, max_attempts=1)

    with caplog.at_level(logging.DEBUG), pytest.raises(DiscordHTTPError) as refused:
        rest.followup(discord.APPLICATION_ID, TOKEN, "hello")  # no such interaction
    assert TOKEN not in everything_said(refused.value, caplog)

    discord_emulator.call(discord_emulator.faults.inject_failure, "POST /webhooks/*", count=None)
    with caplog.at_level(logging.DEBUG), pytest.raises(DiscordUnavailable) as failing:
        rest.followup(discord.APPLICATION_ID, TOKEN, "hello")
    assert "HTTP 500" in str(failing.value)
    assert TOKEN not in everything_said(failing.value, caplog)
