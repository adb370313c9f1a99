"""The OpenAPI yardstick: routes match, Discord-shaped bodies pass and wrong shapes are refused.

The payloads are written by hand from Discord's documentation (invite, message, guild member,
role, user, application, gateway, error and interaction-response objects), with the fields
Discord's spec additionally requires, so these tests also record what the emulator must send.
No Django and no database: only `botworker.emulator.openapi` is imported.
"""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from botworker.emulator import openapi
from botworker.emulator.openapi import spec

BOT_ID = "1300000000000000001"
GUILD_ID = "1300000000000000100"
CHANNEL_ID = "1300000000000000200"
TIMESTAMP = "2025-03-01T12:00:00.123000+00:00"

BOT_USER: dict[str, Any] = {
    "id": BOT_ID,
    "username": "invitetrail",
    "avatar": None,
    "discriminator": "0000",
    "public_flags": 0,
    "flags": 0,
    "bot": True,
    "banner": None,
    "accent_color": None,
    "global_name": "Invitetrail",
    "avatar_decoration_data": None,
    "collectibles": None,
    "primary_guild": None,
}
HUMAN: dict[str, Any] = {
    "id": "1300000000000000050",
    "username": "ada",
    "avatar": "a_1269e74af4df7417b13759eae50c83dc",
    "discriminator": "0",
    "public_flags": 64,
    "flags": 64,
    "banner": None,
    "accent_color": 16711680,
    "global_name": "Ada",
    "primary_guild": {
        "identity_guild_id": GUILD_ID,
        "identity_enabled": True,
        "tag": "TRAIL",
        "badge": "5b8a2e0d8d6c0b0c4a1f9e3d2c1b0a99",
    },
}
INVITE: dict[str, Any] = {
    "type": 0,
    "code": "abcDEF12",
    "inviter": BOT_USER,
    "max_age": 0,
    "created_at": TIMESTAMP,
    "expires_at": None,
    "guild_id": GUILD_ID,
    "guild": {
        "id": GUILD_ID,
        "name": "Invitetrail Demo",
        "splash": None,
        "banner": None,
        "description": None,
        "icon": None,
        "features": ["COMMUNITY", "NEWS"],
        "verification_level": 1,
        "vanity_url_code": None,
        "nsfw_level": 0,
        "nsfw": False,
        "premium_subscription_count": 0,
    },
    "channel": {"id": CHANNEL_ID, "type": 0, "name": "start-here"},
    "uses": 0,
    "max_uses": 0,
    "temporary": False,
    "flags": 0,
}
JOIN_BUTTON_ROW = {
    "type": 1,
    "id": 1,
    "components": [{"type": 2, "id": 2, "custom_id": "join:42", "style": 1, "label": "Join"}],
}
MESSAGE: dict[str, Any] = {
    "type": 0,
    "content": "Welcome! Press the button to join the campaign.",
    "mentions": [],
    "mention_roles": [],
    "attachments": [],
    "embeds": [],
    "timestamp": TIMESTAMP,
    "edited_timestamp": None,
    "flags": 0,
    "components": [JOIN_BUTTON_ROW],
    "id": "1300000000000000400",
    "channel_id": "1300000000000000201",
    "author": BOT_USER,
    "pinned": False,
    "mention_everyone": False,
    "tts": False,
    "nonce": "1300000000000000999",
}
MEMBER: dict[str, Any] = {
    "avatar": None,
    "banner": None,
    "communication_disabled_until": None,
    "flags": 0,
    "joined_at": "2025-03-01T12:00:00+00:00",
    "nick": None,
    "pending": False,
    "premium_since": None,
    "roles": ["1300000000000000300", "1300000000000000301"],
    "user": HUMAN,
    "mute": False,
    "deaf": False,
}
EVERYONE_ROLE: dict[str, Any] = {
    "id": GUILD_ID,
    "name": "@everyone",
    "permissions": "2248473465835073",
    "position": 0,
    "color": 0,
    "colors": {"primary_color": 0, "secondary_color": None, "tertiary_color": None},
    "hoist": False,
    "managed": False,
    "mentionable": False,
    "icon": None,
    "unicode_emoji": None,
    "flags": 0,
}
ROLES = [
    EVERYONE_ROLE,
    {**EVERYONE_ROLE, "id": "1300000000000000300", "name": "Member", "position": 1},
    {
        **EVERYONE_ROLE,
        "id": "1300000000000000302",
        "name": "Invitetrail",
        "position": 3,
        "managed": True,
        "tags": {"bot_id": BOT_ID},
    },
    {
        **EVERYONE_ROLE,
        "id": "1300000000000000305",
        "name": "Booster",
        "position": 2,
        "tags": {"premium_subscriber": None},
    },
]
GATEWAY_BOT = {
    "url": "wss://gateway.discord.gg",
    "shards": 1,
    "session_start_limit": {
        "total": 1000,
        "remaining": 999,
        "reset_after": 14400000,
        "max_concurrency": 1,
    },
}
CURRENT_USER = {**BOT_USER, "mfa_enabled": True, "locale": "en-US", "verified": True, "email": None}
APPLICATION = {
    "id": BOT_ID,
    "name": "Invitetrail",
    "icon": None,
    "description": "",
    "type": None,
    "bot": BOT_USER,
    "bot_public": False,
    "bot_require_code_grant": False,
    "verify_key": "1e0a356058d627ca38a5c8c9648818061d49e49bd9da9e3ab17d98ad4d6bf2a8",
    "flags": 0,
    "flags_new": "0",
    "redirect_uris": ["http://127.0.0.1:8000/oauth/discord/callback"],
    "interactions_endpoint_url": None,
    "role_connections_verification_url": None,
    "owner": HUMAN,
    "approximate_guild_count": 1,
    "approximate_user_install_count": 0,
    "approximate_user_authorization_count": 3,
    "explicit_content_filter": 0,
    "team": None,
    "eligible_oauth2_scopes": ["bot", "applications.commands", "identify", "guilds.join"],
}
INVALID_FORM_BODY = {
    "code": 50035,
    "message": "Invalid Form Body",
    "errors": {
        "content": {
            "_errors": [
                {"code": "BASE_TYPE_MAX_LENGTH", "message": "Must be 2000 or fewer in length."}
            ]
        },
        "components": {
            "0": {
                "components": {
                    "0": {
                        "custom_id": {
                            "_errors": [
                                {"code": "BASE_TYPE_REQUIRED", "message": "This field is required"}
                            ]
                        }
                    }
                }
            }
        },
    },
}
MODAL_CALLBACK = {
    "type": 9,
    "data": {
        "custom_id": "signup:42",
        "title": "Tell us about you",
        "components": [
            {
                "type": 1,
                "components": [
                    {
                        "type": 4,
                        "custom_id": "email",
                        "style": 1,
                        "label": "Email",
                        "placeholder": "you@example.com",
                        "min_length": 3,
                        "max_length": 200,
                        "required": True,
                    }
                ],
            },
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": "why", "style": 2, "label": "Why?", "required": False}
                ],
            },
        ],
    },
}
CREATE_MESSAGE = {
    "content": "Welcome! Press the button to join the campaign.",
    "components": [
        {
            "type": 1,
            "components": [{"type": 2, "style": 1, "label": "Join", "custom_id": "join:42"}],
        }
    ],
    "allowed_mentions": {"parse": []},
    "tts": False,
}


def with_changes(payload: dict[str, Any], **changes: Any) -> dict[str, Any]:
    changed = copy.deepcopy(payload)
    changed.update(changes)
    return changed


def without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


# --- route matching -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "template"),
    [
        ("GET", "/users/@me", "/users/@me"),
        ("GET", "/users/1300000000000000050", "/users/{user_id}"),
        ("GET", "/channels/1/messages/pins", "/channels/{channel_id}/messages/pins"),
        ("GET", "/channels/1/messages/2", "/channels/{channel_id}/messages/{message_id}"),
        (
            "POST",
            "/api/v10/channels/123/invites?with_counts=true",
            "/channels/{channel_id}/invites",
        ),
        ("GET", "https://discord.com/api/v10/gateway/bot", "/gateway/bot"),
        ("GET", "http://127.0.0.1:8090/api/v10/invites/abc/", "/invites/{code}"),
        (
            "PATCH",
            "/webhooks/1/tok/messages/@original",
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original",
        ),
    ],
)
def test_it_matches_concrete_paths_preferring_literal_segments(
    method: str, path: str, template: str
) -> None:
    # given a concrete request path
    # when it is looked up
    operation = spec.find_operation(method, path)
    # then the most specific template answers
    assert operation is not None
    assert operation.template == template


def test_it_extracts_path_params_of_an_interaction_callback() -> None:
    # given an interaction callback path whose token contains a dash
    path = "/interactions/123/tok-en/callback"
    # when it is looked up
    operation = spec.find_operation("post", path)
    # then the operation and its parameters are known
    assert operation is not None
    assert operation.operation_id == "create_interaction_response"
    assert operation.path_params == {"interaction_id": "123", "interaction_token": "tok-en"}


def test_it_falls_back_to_a_param_template_when_the_literal_lacks_the_method() -> None:
    # given `/guilds/{id}/members/@me` exists, but only for PATCH
    # when a GET of the same path is looked up
    operation = spec.find_operation("GET", "/guilds/1/members/@me")
    # then the `{user_id}` route answers, as `@me` is a valid user id there
    assert operation is not None
    assert operation.operation_id == "get_guild_member"


def test_it_reports_unknown_routes_and_methods() -> None:
    # given a route Discord's spec lacks (OAuth2 token exchange) and a method it lacks
    # when they are validated
    unknown_route = spec.validate_response("POST", "/oauth2/token", 200, {})
    unknown_method = spec.validate_response("DELETE", "/gateway/bot", 200, {})
    # then both say so instead of passing silently
    assert spec.find_operation("POST", "/oauth2/token") is None
    assert unknown_route == ["POST /oauth2/token: no such route in Discord's spec"]
    assert unknown_method == ["DELETE /gateway/bot: method not in Discord's spec (has ['GET'])"]


# --- responses that must pass ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "status", "body"),
    [
        pytest.param("POST", f"/channels/{CHANNEL_ID}/invites", 200, INVITE, id="create-invite"),
        pytest.param("GET", "/invites/abcDEF12?with_counts=true", 200,
                     {**INVITE, "approximate_member_count": 12, "approximate_presence_count": 3},
                     id="resolve-invite"),
        pytest.param("GET", f"/channels/{CHANNEL_ID}/invites", 200, [INVITE], id="channel-invites"),
        pytest.param("POST", "/channels/1300000000000000201/messages", 200, MESSAGE, id="message"),
        pytest.param("GET", f"/guilds/{GUILD_ID}/members/1300000000000000050", 200, MEMBER,
                     id="member"),
        pytest.param("GET", f"/guilds/{GUILD_ID}/roles", 200, ROLES, id="roles"),
        pytest.param("GET", "/gateway/bot", 200, GATEWAY_BOT, id="gateway-bot"),
        pytest.param("GET", "/users/@me", 200, CURRENT_USER, id="current-user"),
        pytest.param("GET", "/oauth2/applications/@me", 200, APPLICATION, id="application"),
        pytest.param("POST", "/channels/1/messages", 400, INVALID_FORM_BODY, id="error-50035"),
        pytest.param("GET", "/channels/1", 404, {"code": 10003, "message": "Unknown Channel"},
                     id="error-4xx"),
        pytest.param("POST", "/channels/1/messages", 429,
                     {"message": "You are being rate limited.", "retry_after": 0.5,
                      "global": False}, id="rate-limited"),
        pytest.param("PUT", f"/guilds/{GUILD_ID}/members/1/roles/2", 204, None, id="no-content"),
        pytest.param("POST", "/interactions/1/tok/callback", 204, b"", id="callback-no-content"),
    ],
)  # fmt: skip
def test_it_accepts_discord_shaped_responses(
    method: str, path: str, status: int, body: Any
) -> None:
    # given a response body shaped as Discord documents it
    # when it is validated against the spec
    errors = spec.validate_response(method, path, status, body)
    # then there is nothing to report
    assert errors == []


def test_it_accepts_a_raw_json_response_body() -> None:
    # given the bytes of a message as they come off the wire
    raw = json.dumps(MESSAGE).encode()
    # when they are validated
    errors = spec.validate_response("POST", "/api/v10/channels/1/messages", 200, raw)
    # then they are decoded and pass
    assert errors == []


# --- responses that must fail ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "body", "expected"),
    [
        pytest.param("/channels/1/messages", with_changes(MESSAGE, id=1300000000000000400),
                     "$.id: 1300000000000000400 is not of type 'string'", id="integer-id"),
        pytest.param("/channels/1/messages", without(MESSAGE, "channel_id"),
                     "$: 'channel_id' is a required property", id="missing-field"),
        pytest.param("/channels/1/invites", with_changes(INVITE, uses="0"),
                     "$.uses: '0' is not of type 'integer'", id="string-uses"),
        pytest.param("/channels/1/messages", with_changes(MESSAGE, timestamp="2025-03-01 12:00"),
                     "$.timestamp: '2025-03-01 12:00' is not a 'date-time'", id="naive-time"),
        pytest.param("/channels/1/messages", with_changes(MESSAGE, flags=2**40),
                     "$.flags: 1099511627776 is not a 'int32'", id="int32-overflow"),
        pytest.param("/channels/1/messages", with_changes(MESSAGE, components=[
            {**JOIN_BUTTON_ROW, "components": [{"type": 2, "id": 2, "style": 9}]}]),
                     "$.components[0].components[0].style: 9 is not one of [1, 2, 3, 4, 5, 6]",
                     id="bad-button-style"),
    ],
)  # fmt: skip
def test_it_refuses_wrong_shapes_naming_the_field(path: str, body: Any, expected: str) -> None:
    # given a message or invite with one field wrong
    # when it is validated as the POST response
    errors = spec.validate_response("POST", path, 200, body)
    # then exactly that field is reported
    assert [error.split(": ", 1)[1] for error in errors] == [expected]


def test_it_refuses_a_user_without_the_fields_the_spec_requires() -> None:
    # given a user object with only the fields Discord's docs mark as always present
    user = {k: BOT_USER[k] for k in ("id", "username", "discriminator", "global_name", "avatar")}
    # when it is validated as the current user
    errors = spec.validate_response("GET", "/users/@me", 200, user)
    # then the spec's stricter required fields are named
    for field_name in ("public_flags", "flags", "mfa_enabled", "locale"):
        assert any(f"'{field_name}' is a required property" in error for error in errors)


def test_it_refuses_a_union_member_with_a_wrong_discriminator_listing_each_branch() -> None:
    # given an invite of a type no invite schema has
    body = with_changes(INVITE, type=7)
    # when it is validated
    errors = spec.validate_response("POST", "/channels/1/invites", 200, body)
    # then the one error says why each alternative failed, without dumping the body
    assert len(errors) == 1
    assert "matches none of the oneOf branches" in errors[0]
    assert "$.type: 7 is not one of [0]" in errors[0]


def test_it_refuses_bodies_where_none_belongs_and_undocumented_statuses() -> None:
    # given a 204 with a body, a 201 where only 200 is documented, and bytes that are not JSON
    # when they are validated
    with_body = spec.validate_response("DELETE", "/channels/1/messages/2", 204, {"id": "2"})
    undocumented = spec.validate_response("GET", "/gateway/bot", 201, GATEWAY_BOT)
    not_json = spec.validate_response("GET", "/gateway/bot", 200, b"<html>")
    # then each is reported
    assert with_body == [
        "DELETE /channels/{channel_id}/messages/{message_id} 204: "
        "must have no body, got {'id': '2'}"
    ]
    assert undocumented == [
        "GET /gateway/bot 201: status not in Discord's spec (has 200, 429, 4XX)"
    ]
    assert len(not_json) == 1
    assert "body is not JSON" in not_json[0]


def test_it_refuses_a_gateway_url_without_a_scheme() -> None:
    # given a gateway answer whose url is a bare host
    body = with_changes(GATEWAY_BOT, url="gateway.discord.gg")
    # when it is validated
    errors = spec.validate_response("GET", "/gateway/bot", 200, body)
    # then the uri format is enforced
    assert errors == ["GET /gateway/bot 200: $.url: 'gateway.discord.gg' is not a 'uri'"]


# --- requests -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        pytest.param("POST", "/interactions/123/tok-en/callback", MODAL_CALLBACK, id="modal"),
        pytest.param("POST", "/interactions/123/tok-en/callback",
                     {"type": 4, "data": {"content": "You're in!", "flags": 64}}, id="ephemeral"),
        pytest.param("POST", "/interactions/123/tok-en/callback", {"type": 6}, id="deferred"),
        pytest.param("POST", f"/channels/{CHANNEL_ID}/messages", CREATE_MESSAGE, id="message"),
        pytest.param("POST", f"/channels/{CHANNEL_ID}/invites",
                     {"max_age": 0, "max_uses": 0, "temporary": False, "unique": True},
                     id="invite"),
        pytest.param("PUT", f"/guilds/{GUILD_ID}/members/1/roles/2", None, id="no-body"),
    ],
)  # fmt: skip
def test_it_accepts_discord_shaped_requests(method: str, path: str, body: Any) -> None:
    # given a request body as a bot sends it
    # when it is validated against the operation's requestBody
    errors = spec.validate_request(method, path, body)
    # then there is nothing to report
    assert errors == []


async def test_it_accepts_the_modal_and_button_row_nextcord_builds() -> None:
    # given the modal and the button row our bot builds with nextcord (a Modal needs a loop)
    nextcord = pytest.importorskip("nextcord")
    modal = nextcord.ui.Modal("Tell us about you", custom_id="signup:42")
    modal.add_item(nextcord.ui.TextInput(label="Email", custom_id="email", max_length=200))
    modal.add_item(nextcord.ui.TextInput(label="Why?", custom_id="why", required=False))
    view = nextcord.ui.View(timeout=None)
    view.add_item(nextcord.ui.Button(label="Join", custom_id="join:42"))
    # when their payloads are validated as the requests nextcord sends
    modal_errors = spec.validate_request(
        "POST", "/interactions/1/tok/callback", {"type": 9, "data": modal.to_dict()}
    )
    message_errors = spec.validate_request(
        "POST", "/channels/1/messages", {"content": "Join?", "components": view.to_components()}
    )
    # then both have Discord's shapes
    assert modal_errors == []
    assert message_errors == []


def test_it_refuses_a_modal_with_a_bad_text_input() -> None:
    # given a modal whose text input has an unknown style and an overlong label
    modal = copy.deepcopy(MODAL_CALLBACK)
    modal["data"]["components"][0]["components"][0].update(style=3, label="x" * 46)
    # when it is validated
    errors = spec.validate_request("POST", "/interactions/1/tok/callback", modal)
    # then both problems are pointed at
    where = "$.data.components[0].components[0]"
    assert any(f"{where}.style: 3 is not one of [1, 2]" in error for error in errors)
    assert any(f"{where}.label: '{'x' * 46}' is too long" in error for error in errors)


def test_it_checks_multipart_payload_json_and_ignores_file_bytes() -> None:
    # given a message with an attachment, sent as nextcord does: payload_json plus a file part
    payload = {**CREATE_MESSAGE, "attachments": [{"id": 0, "filename": "card.png"}]}
    form = {"payload_json": json.dumps(payload), "files[0]": b"\x89PNG..."}
    bad_form = {"payload_json": json.dumps({"content": 5}), "files[0]": b"\x89PNG..."}
    # when both are validated as multipart
    errors = spec.validate_request("POST", "/channels/1/messages", form, "multipart/form-data")
    content_type = "multipart/form-data; boundary=----nextcord"
    bad = spec.validate_request("POST", "/channels/1/messages", bad_form, content_type)
    # then the JSON part is held to the schema
    assert errors == []
    assert any("$.content: 5 is not of type 'string', 'null'" in error for error in bad)


def test_it_reads_urlencoded_fields_leniently_as_strings() -> None:
    # given invite options sent form-encoded, where every value is a string
    good = "max_age=3600&max_uses=5&unique=true"
    bad = "max_age=soon"
    # when they are validated
    content_type = "application/x-www-form-urlencoded"
    errors = spec.validate_request("POST", "/channels/1/invites", good, content_type)
    bad_errors = spec.validate_request("POST", "/channels/1/invites", bad, content_type)
    # then numbers spelled as strings pass but words do not
    assert errors == []
    assert any("$.max_age: 'soon' is not of type 'integer', 'null'" in e for e in bad_errors)


def test_it_reports_request_body_problems_before_the_schema() -> None:
    # given a missing required body, a body where none is taken, an unaccepted content type
    # and the OAuth2 token exchange, which Discord's spec does not describe
    # when they are validated
    missing = spec.validate_request("POST", "/interactions/1/t/callback", None)
    unexpected = spec.validate_request("GET", "/gateway/bot", {"x": 1})
    wrong_type = spec.validate_request("POST", "/guilds/1/roles", {"name": "x"}, "text/plain")
    token = spec.validate_request("POST", "/oauth2/token", "grant_type=authorization_code")
    # then each gets its own plain message
    assert missing == [
        "POST /interactions/{interaction_id}/{interaction_token}/callback request: "
        "a body is required"
    ]
    assert unexpected == ["GET /gateway/bot request: takes no body, got {'x': 1}"]
    assert wrong_type == [
        "POST /guilds/{guild_id}/roles request: text/plain not accepted (takes application/json)"
    ]
    assert token == ["POST /oauth2/token: no such route in Discord's spec"]


# --- laziness, caching, speed, CLI ----------------------------------------------------------


def test_it_does_not_load_the_spec_on_import() -> None:
    # given a fresh interpreter
    code = (
        "import botworker.emulator, botworker.emulator.openapi as m; "
        "print('document' in m.spec.__dict__)"
    )
    # when the emulator package and this module are imported
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(openapi.__file__).parents[2],
    )
    # then the 1.1 MB document has not been read
    assert result.stdout.strip() == "False"


def test_it_caches_one_validator_per_schema() -> None:
    # given a validated body
    spec.validate_response("GET", "/gateway/bot", 200, GATEWAY_BOT)
    cached = dict(spec._validators)
    # when the same route is validated again
    spec.validate_response("GET", "/api/v10/gateway/bot", 200, GATEWAY_BOT)
    # then no new validator was built
    assert spec._validators == cached


def test_it_validates_a_message_in_a_few_milliseconds() -> None:
    # given a warmed-up validator
    spec.validate_response("POST", "/channels/1/messages", 200, MESSAGE)
    rounds = 200
    # when many messages are validated
    started = time.perf_counter()
    for _ in range(rounds):
        assert spec.validate_response("POST", "/channels/1/messages", 200, MESSAGE) == []
    per_body = (time.perf_counter() - started) / rounds
    # then each takes a few milliseconds at most (about 1.3 ms when measured)
    assert per_body < 0.010


def test_it_vendors_the_spec_and_its_licence() -> None:
    # given the vendored files
    here = Path(openapi.__file__).parent
    # when they are read
    licence = (here / "DISCORD-OPENAPI-LICENSE").read_text()
    # then the spec is OpenAPI 3.1 with its MIT licence beside it
    assert spec.document["openapi"].startswith("3.1")
    assert "MIT License" in licence
    assert openapi.SPEC_COMMIT in openapi.__doc__


def test_it_prints_a_route_summary(capsys: pytest.CaptureFixture[str]) -> None:
    # given a route of interest
    # when the CLI is asked about it
    status = openapi.main(["POST", "/channels/123/invites"])
    # then the operation, its request schemas and its statuses are printed
    out = capsys.readouterr().out
    assert status == 0
    assert "POST /channels/{channel_id}/invites  (create_channel_invite)" in out
    assert "request application/json: CreateGroupDMInviteRequest | CreateGuildInviteRequest" in out
    assert "200: FriendInviteResponse | GroupDMInviteResponse | GuildInviteResponse" in out
    assert "4XX: ErrorResponse" in out
