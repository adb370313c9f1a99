"""Interactions: callbacks, modals, follow-ups and `@original`, and the "interaction failed"
cases a real Discord user would see (no answer within 3 s, answered twice)."""

from __future__ import annotations

import pytest

from botworker.emulator import Emulator, defaults

WELCOME = defaults.WELCOME_CHANNEL_ID
BUTTON_ROW = [
    {"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}
]
MODAL = {
    "title": "About you",
    "custom_id": "form",
    "components": [
        {
            "type": 1,
            "components": [{"type": 4, "custom_id": "game", "style": 1, "label": "Favourite game"}],
        }
    ],
}


@pytest.fixture
async def clicked(emulator: Emulator, api):
    """A member clicked the Go button on a bot message; returns (interaction, user)."""
    _, message, _ = await api.rest(
        "POST", f"/channels/{WELCOME}/messages", {"content": "hi", "components": BUTTON_ROW}
    )
    user = emulator.create_user("gina")
    emulator.accept_invite(emulator.create_invite().code, user.id)
    return emulator.click_button(user.id, message["id"], "go"), user


def _callback(interaction) -> str:
    return f"/interactions/{interaction.id}/{interaction.token}/callback"


async def test_it_answers_the_callback_with_204(clicked, api):
    interaction, _ = clicked

    status, body, _ = await api.rest("POST", _callback(interaction), {"type": 6}, headers={})

    assert (status, body) == (204, None)
    assert interaction.responded and interaction.response_type == 6


async def test_it_refuses_a_second_answer_and_records_it(emulator, clicked, api):
    interaction, _ = clicked
    await api.rest("POST", _callback(interaction), {"type": 6}, headers={})

    status, error, _ = await api.rest("POST", _callback(interaction), {"type": 6}, headers={})

    assert (status, error["code"]) == (400, 40060)
    assert emulator.interaction_failures[-1]["reason"] == "acknowledged twice"


async def test_it_records_an_unanswered_click_as_failed(emulator, clicked):
    # given nobody answers the click (the emulator's 3 s shortened for the test)
    emulator.world.interaction_timeout = 0.05
    interaction, user = clicked
    emulator.world.interactions.pop(interaction.id)
    late = emulator.click_button(user.id, interaction.message_id, "go")

    # when the deadline passes
    await emulator.wait_for_response(late.id)

    # then Discord's "This interaction failed" is recorded and the token is dead
    assert late.failed == "no response within 3 seconds"
    with pytest.raises(AssertionError):
        emulator.assert_no_failed_interactions()


async def test_it_refuses_a_late_callback(emulator, clicked, api):
    interaction, _ = clicked
    interaction.created_monotonic -= 4

    status, error, _ = await api.rest("POST", _callback(interaction), {"type": 6}, headers={})

    assert (status, error["code"]) == (404, 10062)


async def test_it_validates_modals(clicked, api):
    interaction, _ = clicked
    untitled = {k: v for k, v in MODAL.items() if k != "title"}

    status, error, _ = await api.rest(
        "POST", _callback(interaction), {"type": 9, "data": untitled}, headers={}
    )

    assert (status, error["code"]) == (400, 50035)
    assert error["errors"]["data"]["title"]["_errors"][0]["code"] == "BASE_TYPE_REQUIRED"


async def test_it_refuses_six_rows_in_a_modal(clicked, api):
    interaction, _ = clicked
    rows = [
        {"type": 1, "components": [{"type": 4, "custom_id": f"f{i}", "style": 1, "label": "x"}]}
        for i in range(6)
    ]

    status, error, _ = await api.rest(
        "POST",
        _callback(interaction),
        {"type": 9, "data": {**MODAL, "components": rows}},
        headers={},
    )

    assert (status, error["code"]) == (400, 50035)


async def test_it_only_takes_the_modal_back_from_its_user(emulator, clicked, api):
    interaction, _ = clicked
    await api.rest("POST", _callback(interaction), {"type": 9, "data": MODAL}, headers={})
    stranger = emulator.create_user("mallory")
    emulator.accept_invite(emulator.create_invite().code, stranger.id)

    status, error = await api.control(
        "POST",
        f"/interactions/{interaction.id}/submit",
        {"user_id": stranger.id, "values": {"game": "go"}},
    )

    assert (status, error["code"]) == (403, 50001)


async def test_it_delivers_the_modal_values(emulator, clicked, api):
    interaction, user = clicked
    await api.rest("POST", _callback(interaction), {"type": 9, "data": MODAL}, headers={})

    status, submitted = await api.control(
        "POST",
        f"/interactions/{interaction.id}/submit",
        {"user_id": user.id, "values": {"game": "go"}},
    )

    assert status == 201 and submitted["type"] == 5
    row = submitted["data"]["components"][0]["components"][0]
    assert (row["custom_id"], row["value"]) == ("game", "go")
    payload = emulator.world.interaction_payload(emulator.world.interactions[submitted["id"]])
    assert payload["member"]["user"]["id"] == user.id and payload["message"]["id"]


async def test_it_shows_an_ephemeral_reply_only_to_its_user(emulator, clicked, api):
    interaction, user = clicked

    await api.rest(
        "POST",
        _callback(interaction),
        {"type": 4, "data": {"content": "just you", "flags": 64}},
        headers={},
    )

    assert [m["content"] for m in emulator.messages(WELCOME, user.id)] == ["hi", "just you"]
    assert [m["content"] for m in emulator.messages(WELCOME)] == ["hi"]


async def test_it_edits_the_deferred_reply_and_sends_follow_ups(emulator, clicked, api):
    interaction, _ = clicked
    hook = f"/webhooks/{defaults.APPLICATION_ID}/{interaction.token}"
    await api.rest("POST", _callback(interaction), {"type": 5}, headers={})

    _, loading, _ = await api.rest("GET", hook + "/messages/@original", headers={})
    _, edited, _ = await api.rest(
        "PATCH", hook + "/messages/@original", {"content": "done"}, headers={}
    )
    _, followup, _ = await api.rest("POST", hook + "?wait=true", {"content": "more"}, headers={})
    deleted, _, _ = await api.rest("DELETE", hook + f"/messages/{followup['id']}", headers={})

    assert loading["flags"] & 128
    assert edited["content"] == "done" and not edited["flags"] & 128
    assert followup["content"] == "more"
    assert deleted == 204
    assert [m["content"] for m in emulator.messages(WELCOME)] == ["hi", "done"]


async def test_it_updates_the_clicked_message(emulator, clicked, api):
    interaction, _ = clicked

    await api.rest(
        "POST",
        _callback(interaction),
        {"type": 7, "data": {"content": "clicked", "components": []}},
        headers={},
    )

    (message,) = emulator.messages(WELCOME)
    assert message["content"] == "clicked" and message["components"] == []
    assert message["edited_timestamp"] is not None


async def test_it_answers_unknown_interactions(api):
    status, error, _ = await api.rest(
        "POST", "/interactions/1/nope/callback", {"type": 6}, headers={}
    )

    assert (status, error["code"]) == (404, 10062)
