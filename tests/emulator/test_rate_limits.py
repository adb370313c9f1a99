"""Rate limits and injected faults: nextcord obeys the headers, retries 429s and succeeds."""

from __future__ import annotations

import asyncio

import pytest

from botworker.emulator import defaults

MESSAGES = f"/channels/{defaults.WELCOME_CHANNEL_ID}/messages"
SEND = "POST /channels/{channel_id}/messages"


async def test_it_retries_a_429_and_succeeds(emulator, discord_client):
    # given the next message send is rate limited
    client, _ = await discord_client(emulator)
    emulator.faults.inject_rate_limit(SEND, count=1, retry_after=0.05)

    # when the bot sends a message
    message = await client.get_channel(int(defaults.WELCOME_CHANNEL_ID)).send("hello")

    # then nextcord waited, retried and got it through
    assert message.content == "hello"
    assert emulator.calls[SEND] == 2
    assert emulator.faults.refusals[SEND] == 1
    assert [m["content"] for m in emulator.messages(defaults.WELCOME_CHANNEL_ID)] == ["hello"]


async def test_it_retries_a_global_429(emulator, discord_client):
    client, _ = await discord_client(emulator)
    emulator.faults.inject_rate_limit(SEND, count=1, retry_after=0.05, is_global=True)

    message = await client.get_channel(int(defaults.WELCOME_CHANNEL_ID)).send("again")

    assert message.content == "again"
    assert emulator.calls[SEND] == 2


async def test_it_keeps_nextcord_within_a_route_bucket(emulator, discord_client):
    # given a tight bucket on message sends
    client, _ = await discord_client(emulator)
    emulator.faults.set_route_rate(SEND, 3, 0.2)
    channel = client.get_channel(int(defaults.WELCOME_CHANNEL_ID))

    # when the bot sends four messages at once
    await asyncio.gather(*(channel.send(f"m{i}") for i in range(4)))

    # then all arrived; the client paced itself from the headers (a 429 here would be retried,
    # so count them too: with correct headers there are none)
    assert len(emulator.messages(defaults.WELCOME_CHANNEL_ID)) == 4
    assert emulator.faults.refusals[SEND] == 0


async def test_it_sends_rate_limit_headers_and_429_bodies(emulator, api):
    emulator.faults.set_route_rate(SEND, 1, 5.0)

    status, _, first = await api.rest("POST", MESSAGES, {"content": "one"})
    status2, body, second = await api.rest("POST", MESSAGES, {"content": "two"})

    assert status == 200
    assert first.headers["X-RateLimit-Limit"] == "1"
    assert first.headers["X-RateLimit-Remaining"] == "0"
    assert float(first.headers["X-RateLimit-Reset-After"]) == pytest.approx(5.0, abs=0.5)
    assert first.headers["X-RateLimit-Bucket"]
    assert status2 == 429
    assert body["global"] is False and 0 < body["retry_after"] <= 5
    assert second.headers["Via"] and second.headers["X-RateLimit-Scope"] == "user"
    assert second.headers["Content-Type"] == "application/json"


async def test_it_limits_each_channel_separately(emulator, api):
    emulator.faults.set_route_rate(SEND, 1, 5.0)

    await api.rest("POST", MESSAGES, {"content": "one"})
    status, _, _ = await api.rest(
        "POST", f"/channels/{defaults.GENERAL_CHANNEL_ID}/messages", {"content": "two"}
    )

    assert status == 200


async def test_it_enforces_the_global_limit(emulator, api):
    emulator.faults.global_rate = 3

    statuses = [(await api.rest("GET", "/users/@me"))[0] for _ in range(4)]
    _, body, response = await api.rest("GET", "/users/@me")

    assert statuses == [200, 200, 200, 429]
    assert body["global"] is True
    assert response.headers["X-RateLimit-Global"] == "true"
    assert response.headers["X-RateLimit-Scope"] == "global"


async def test_it_injects_server_errors(emulator, api):
    emulator.faults.inject_failure("GET /guilds/*", status=502, count=1)

    first, body, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}")
    second, _, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}")

    assert (first, second) == (502, 200)
    assert body["code"] == 0


async def test_it_injects_errors_with_a_seeded_probability(emulator, api):
    emulator.faults.inject_failure("GET /users/@me", count=None, probability=0.5)

    statuses = [(await api.rest("GET", "/users/@me"))[0] for _ in range(20)]

    assert 0 < statuses.count(500) < 20


async def test_it_counts_calls_by_route(emulator, api):
    await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/roles")
    await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/roles")

    status, calls = await api.control("GET", "/calls")

    assert calls["GET /guilds/{guild_id}/roles"] == 2
