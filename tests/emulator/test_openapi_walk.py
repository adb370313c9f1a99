"""Every REST route the emulator serves, walked once with a real request; each accepted request
body and each response is validated against Discord's published OpenAPI spec.

(Error bodies with field `errors` are excepted: Discord's docs give their inner codes as strings,
the spec as integers; the docs win.)
"""

from __future__ import annotations

import json
import re

import pytest

from botworker.emulator import defaults
from botworker.emulator.openapi import spec
from botworker.emulator.rest.common import API_PREFIX

G, C, W = defaults.GUILD_ID, defaults.INVITE_CHANNEL_ID, defaults.WELCOME_CHANNEL_ID
APP = defaults.APPLICATION_ID


@pytest.fixture
async def walked(emulator, api):
    """Call each route, in an order where every id it needs already exists."""
    user = emulator.create_user("ivy")
    emulator.accept_invite(emulator.create_invite().code, user.id)
    row = [{"type": 1, "components": [{"type": 2, "style": 1, "label": "Go", "custom_id": "go"}]}]
    calls: list[tuple[str, str, object, dict[str, str] | None]] = []

    async def call(method, path, body=None, headers=None):
        status, data, _ = await api.rest(method, path, body, headers=headers)
        calls.append((method, path, body, status, data))
        return status, data

    await call("GET", "/gateway", headers={})
    await call("GET", "/gateway/bot")
    await call("GET", "/users/@me")
    await call("GET", "/users/@me/guilds")
    await call("GET", f"/users/{user.id}")
    await call("GET", "/oauth2/applications/@me")
    command = {"name": "ping", "description": "Ping", "type": 1}
    await call("PUT", f"/applications/{APP}/commands", [command])
    await call("POST", f"/applications/{APP}/commands", command)
    await call("GET", f"/applications/{APP}/commands")
    await call("PUT", f"/applications/{APP}/guilds/{G}/commands", [command])
    await call("POST", f"/applications/{APP}/guilds/{G}/commands", {**command, "name": "pong"})
    await call("GET", f"/applications/{APP}/guilds/{G}/commands")
    await call("GET", f"/guilds/{G}?with_counts=true")
    await call("GET", f"/guilds/{G}/channels")
    await call("GET", f"/guilds/{G}/roles")
    await call("GET", f"/guilds/{G}/members?limit=10")
    await call("GET", f"/guilds/{G}/members/{user.id}")
    await call("PUT", f"/guilds/{G}/members/{user.id}/roles/{defaults.MEMBER_ROLE_ID}")
    await call("DELETE", f"/guilds/{G}/members/{user.id}/roles/{defaults.MEMBER_ROLE_ID}")
    await call("GET", f"/channels/{C}")
    emulator.world.guilds[G].roles[defaults.BOT_ROLE_ID].permissions |= 1 << 4  # MANAGE_CHANNELS
    await call("GET", f"/channels/{C}/invites")
    # a referral role as nextcord's Guild.create_role sends it, and a role invite giving it
    role_body = {
        "permissions": "0",
        "colors": {"primary_color": 0x3498DB, "secondary_color": None, "tertiary_color": None},
        "hoist": False,
        "mentionable": False,
        "name": "via Link 1",
    }
    _, role = await call("POST", f"/guilds/{G}/roles", role_body)
    invite_body = {"max_age": 600, "max_uses": 1, "unique": True, "role_ids": [role["id"]]}
    _, invite = await call("POST", f"/channels/{C}/invites", invite_body)
    await call("GET", f"/channels/{C}/invites")
    await call("GET", f"/guilds/{G}/invites")
    emulator.world.guilds[G].vanity_url_code = "walked"
    await call("GET", f"/guilds/{G}/vanity-url")
    await call("GET", f"/invites/{invite['code']}?with_counts=true")
    await call("DELETE", f"/invites/{invite['code']}")
    await call("DELETE", f"/guilds/{G}/roles/{role['id']}")
    _, message = await call("POST", f"/channels/{W}/messages", {"content": "hi", "components": row})
    await call("GET", f"/channels/{W}/messages?limit=5")
    await call("GET", f"/channels/{W}/messages/{message['id']}")
    await call("PATCH", f"/channels/{W}/messages/{message['id']}", {"content": "edited"})
    _, dm = await call("POST", "/users/@me/channels", {"recipient_id": user.id})
    await call("POST", f"/channels/{dm['id']}/messages", {"content": "hello in private"})
    click = emulator.click_button(user.id, message["id"], "go")
    await call(
        "POST",
        f"/interactions/{click.id}/{click.token}/callback?with_response=true",
        {"type": 5, "data": {"flags": 64}},
        headers={},
    )
    hook = f"/webhooks/{APP}/{click.token}"
    await call("GET", hook + "/messages/@original", headers={})
    await call("PATCH", hook + "/messages/@original", {"content": "done"}, headers={})
    _, follow = await call("POST", hook + "?wait=true", {"content": "more"}, headers={})
    await call("DELETE", hook + f"/messages/{follow['id']}", headers={})
    await call("DELETE", f"/channels/{W}/messages/{message['id']}")
    redirect = emulator.authorize_oauth(
        user.id, scopes=["identify"], redirect_uri="http://127.0.0.1/cb"
    )
    code = redirect.split("code=")[1].split("&")[0]
    token = emulator.world.exchange_token(
        {"grant_type": "authorization_code", "code": code, "redirect_uri": "http://127.0.0.1/cb"},
        APP,
        defaults.CLIENT_SECRET,
    )
    await call("GET", "/oauth2/@me", headers={"Authorization": f"Bearer {token['access_token']}"})
    joiner = emulator.create_user("jo")
    redirect = emulator.authorize_oauth(
        joiner.id, scopes=["guilds.join"], redirect_uri="http://127.0.0.1/cb"
    )
    joined = emulator.world.exchange_token(
        {
            "grant_type": "authorization_code",
            "code": redirect.split("code=")[1],
            "redirect_uri": "http://127.0.0.1/cb",
        },
        APP,
        defaults.CLIENT_SECRET,
    )
    await call("PUT", f"/guilds/{G}/members/{joiner.id}", {"access_token": joined["access_token"]})
    emulator.world.guilds[G].roles[defaults.BOT_ROLE_ID].permissions |= 1 << 1  # KICK_MEMBERS
    await call("DELETE", f"/guilds/{G}/members/{user.id}")
    return calls


def _served_routes(emulator) -> set[str]:
    app = emulator._runner.app  # the running aiohttp application
    names = set()
    for route in app.router.routes():
        canonical = route.resource.canonical if route.resource else ""
        if canonical.startswith(API_PREFIX) and route.method != "HEAD":
            names.add(f"{route.method} {canonical.removeprefix(API_PREFIX)}")
    return names


async def test_it_answers_every_route_in_discords_shapes(emulator, walked):
    problems = []
    for method, path, body, status, data in walked:
        bare = path.split("?")[0]
        assert status < 400, f"{method} {path} -> {status} {data}"
        if isinstance(body, dict | list):
            problems += spec.validate_request(method, bare, json.loads(json.dumps(body)))
        if data is not None:
            problems += spec.validate_response(method, bare, status, data)
    assert problems == [], "\n".join(problems)


async def test_it_returns_role_invites_with_their_roles_everywhere(walked):
    # every invite answer of the walk after the role invite was made lists its role
    created = next(i for i, c in enumerate(walked) if c[:2] == ("POST", f"/channels/{C}/invites"))
    role_id, code = walked[created][2]["role_ids"][0], walked[created][4]["code"]
    answers = {}
    for method, path, _, _, data in walked[created:]:
        if "/invites" in path and data is not None:
            items = data if isinstance(data, list) else [data]
            (invite,) = [i for i in items if i["code"] == code]
            answers[f"{method} {path.split('?')[0]}"] = invite["roles"]
    assert len(answers) == 5  # create, channel list, guild list, resolve, delete
    assert {key: [r["id"] for r in roles] for key, roles in answers.items()} == {
        key: [role_id] for key in answers
    }
    (role,) = answers[f"POST /channels/{C}/invites"]
    assert set(role) == {"id", "name", "position", "color", "colors", "icon", "unicode_emoji"}
    assert (role["name"], role["position"], role["color"]) == ("via Link 1", 1, 0x3498DB)


async def test_it_walks_every_route_it_serves(emulator, walked):
    # every served route (OAuth's form/redirect endpoints aside) was called above
    called = {name for name in emulator.calls}
    served = _served_routes(emulator) - {
        "POST /oauth2/token",
        "POST /oauth2/token/revoke",
        "GET /oauth2/@me",
        "GET /oauth2/authorize",
    }

    assert served - called == set()


async def test_it_serves_only_routes_that_discord_documents(emulator):
    undocumented = [
        name
        for name in _served_routes(emulator)
        if spec.find_operation(name.split()[0], re.sub(r"\{[^}]+\}", "1", name.split()[1])) is None
        and name != "POST /oauth2/token"  # form-encoded OAuth2; not in the spec
        and name != "POST /oauth2/token/revoke"  # form-encoded too (Discord's OAuth2 docs)
        and name != "GET /oauth2/authorize"  # a browser redirect, not an API operation
    ]

    assert undocumented == []
