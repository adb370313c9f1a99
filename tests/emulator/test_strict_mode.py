"""Strict mode: what Discord would refuse is refused and recorded, so a test can fail on it."""

from __future__ import annotations

import nextcord
import pytest

from botworker.emulator import defaults

WELCOME = defaults.WELCOME_CHANNEL_ID


async def test_it_fails_an_over_long_custom_id_from_nextcord(emulator, discord_client):
    # given strict mode and a bot
    emulator.faults.strict = True
    client, _ = await discord_client(emulator)
    view = nextcord.ui.View(timeout=None)
    view.add_item(nextcord.ui.Button(label="Start", custom_id="x" * 101))

    # when it sends a button whose custom_id is longer than Discord allows
    with pytest.raises(nextcord.HTTPException) as refused:
        await client.get_channel(int(WELCOME)).send("Welcome", view=view)

    # then Discord's 50035 came back and the violation is on record
    assert refused.value.code == 50035
    (violation,) = emulator.violations
    assert violation["kind"] == "invalid-payload"
    detail = violation["detail"]["errors"]["components"]["0"]["components"]["0"]["custom_id"]
    assert detail["_errors"][0]["code"] == "BASE_TYPE_MAX_LENGTH"
    with pytest.raises(AssertionError, match="invalid-payload"):
        emulator.assert_no_violations()


async def test_it_fails_over_long_content(emulator, discord_client):
    emulator.faults.strict = True
    client, _ = await discord_client(emulator)

    with pytest.raises(nextcord.HTTPException) as refused:
        await client.get_channel(int(WELCOME)).send("x" * 2001)

    assert refused.value.code == 50035
    assert emulator.violations[0]["detail"]["errors"]["content"]["_errors"][0]["message"] == (
        "Must be 2000 or fewer in length."
    )


async def test_it_accepts_2000_characters(emulator, api):
    emulator.faults.strict = True

    status, message, _ = await api.rest(
        "POST", f"/channels/{WELCOME}/messages", {"content": "x" * 2000}
    )

    assert status == 200 and len(message["content"]) == 2000
    emulator.assert_no_violations()


async def test_it_records_unknown_routes(emulator, api):
    emulator.faults.strict = True

    status, error, _ = await api.rest("GET", "/guilds/1/nothing-here")

    assert (status, error) == (404, {"message": "404: Not Found", "code": 0})
    assert emulator.violations[0]["kind"] == "unknown-route"


async def test_it_refuses_empty_and_duplicate_components(emulator, api):
    row = {
        "type": 1,
        "components": [
            {"type": 2, "style": 1, "label": "a", "custom_id": "same"},
            {"type": 2, "style": 1, "label": "b", "custom_id": "same"},
        ],
    }

    empty, error_empty, _ = await api.rest("POST", f"/channels/{WELCOME}/messages", {})
    duplicate, error_dup, _ = await api.rest(
        "POST", f"/channels/{WELCOME}/messages", {"content": "x", "components": [row]}
    )

    assert (empty, error_empty["code"]) == (400, 50006)
    assert (duplicate, error_dup["code"]) == (400, 50035)


async def test_it_rejects_a_wrong_token(api):
    status, error, _ = await api.rest("GET", "/users/@me", headers={"Authorization": "Bot nope"})

    assert (status, error) == (401, {"message": "401: Unauthorized", "code": 0})
