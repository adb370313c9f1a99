"""OAuth2: authorise, exchange the code, read the user, and add them with `guilds.join`."""

from __future__ import annotations

import base64
from urllib.parse import parse_qs, urlsplit

from botworker.emulator import defaults

REDIRECT = "http://127.0.0.1:8000/discord/callback"
BASIC = base64.b64encode(f"{defaults.APPLICATION_ID}:{defaults.CLIENT_SECRET}".encode()).decode()


async def _authorised(emulator, api, scopes="identify guilds.join", **extra):
    user = emulator.create_user("hana", **extra)
    status, body = await api.control(
        "POST",
        "/oauth/authorize",
        {"user_id": user.id, "scopes": scopes, "redirect_uri": REDIRECT, "state": "s1"},
    )
    assert status == 200
    query = parse_qs(urlsplit(body["redirect_url"]).query)
    return user, query


async def _exchange(api, code, redirect=REDIRECT, auth=BASIC):
    async with api.session.post(
        api.emu.api_base + "/oauth2/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect},
        headers={"Authorization": f"Basic {auth}"},
    ) as response:
        return response.status, await response.json()


async def test_it_runs_the_authorization_code_flow(emulator, api):
    # given a user who authorised the application
    user, query = await _authorised(emulator, api)
    assert query["state"] == ["s1"]

    # when the code is exchanged and the token used
    status, token = await _exchange(api, query["code"][0])
    me_status, me, _ = await api.rest(
        "GET", "/users/@me", headers={"Authorization": f"Bearer {token['access_token']}"}
    )

    # then a Bearer token for that user with the granted scopes
    assert status == 200 and token["token_type"] == "Bearer"
    assert token["scope"] == "identify guilds.join"
    assert (me_status, me["id"]) == (200, user.id)
    assert "email" not in me


async def test_it_adds_the_member_with_guilds_join(emulator, api):
    user, query = await _authorised(emulator, api)
    _, token = await _exchange(api, query["code"][0])
    path = f"/guilds/{defaults.GUILD_ID}/members/{user.id}"
    body = {"access_token": token["access_token"], "roles": [defaults.MEMBER_ROLE_ID]}

    created, member, _ = await api.rest("PUT", path, body)
    again, nothing, _ = await api.rest("PUT", path, body)

    assert (created, again, nothing) == (201, 204, None)
    assert member["roles"] == [defaults.MEMBER_ROLE_ID]
    truth = emulator.ground_truth()[-1]
    assert (truth["via"], truth["oauth_client_id"]) == ("oauth", defaults.APPLICATION_ID)
    assert [n for n, _ in emulator.gateway.events].count("GUILD_MEMBER_ADD") == 1


async def test_it_refuses_a_user_already_in_100_guilds(emulator, api):
    user, query = await _authorised(emulator, api, other_guilds=100)
    _, token = await _exchange(api, query["code"][0])

    status, error, _ = await api.rest(
        "PUT",
        f"/guilds/{defaults.GUILD_ID}/members/{user.id}",
        {"access_token": token["access_token"]},
    )

    assert (status, error["code"]) == (400, 30001)


async def test_it_refuses_a_token_without_guilds_join(emulator, api):
    user, query = await _authorised(emulator, api, scopes="identify")
    _, token = await _exchange(api, query["code"][0])

    status, error, _ = await api.rest(
        "PUT",
        f"/guilds/{defaults.GUILD_ID}/members/{user.id}",
        {"access_token": token["access_token"]},
    )

    assert (status, error["code"]) == (403, 50025)


async def test_it_uses_a_code_only_once(emulator, api):
    _, query = await _authorised(emulator, api)
    await _exchange(api, query["code"][0])

    status, error = await _exchange(api, query["code"][0])

    assert (status, error["error"]) == (400, "invalid_grant")


async def test_it_checks_the_redirect_uri_and_the_client(emulator, api):
    _, query = await _authorised(emulator, api)

    wrong_redirect = await _exchange(api, query["code"][0], redirect="http://127.0.0.1/other")
    _, query = await _authorised(emulator, api)
    bad_secret = await _exchange(
        api, query["code"][0], auth=base64.b64encode(b"1300000000000000001:nope").decode()
    )

    assert wrong_redirect == (
        400,
        {"error": "invalid_grant", "error_description": 'Invalid "redirect_uri" in request.'},
    )
    assert (bad_secret[0], bad_secret[1]["error"]) == (401, "invalid_client")


async def test_it_only_redirects_to_allowed_uris(emulator, api):
    user = emulator.create_user()

    status, error = await api.control(
        "POST",
        "/oauth/authorize",
        {"user_id": user.id, "scopes": ["identify"], "redirect_uri": "https://evil.example/cb"},
    )

    assert (status, error["error"]) == (400, "invalid_request")


async def _revoke(api, form, auth=BASIC, content_type=None):
    headers = {"Authorization": f"Basic {auth}"}
    kwargs = {"data": form} if content_type is None else {"json": form}
    async with api.session.post(
        api.emu.api_base + "/oauth2/token/revoke", headers=headers, **kwargs
    ) as response:
        return response.status, await response.json()


async def test_it_revokes_a_grant_by_its_access_or_refresh_token(emulator, api):
    # given two users' tokens
    _, first = await _authorised(emulator, api)
    _, second = await _authorised(emulator, api)
    _, token = await _exchange(api, first["code"][0])
    _, other = await _exchange(api, second["code"][0])

    # when the first access token is revoked, and the other grant by its refresh token
    revoked = await _revoke(
        api, {"token": token["access_token"], "token_type_hint": "access_token"}
    )
    by_refresh = await _revoke(api, {"token": other["refresh_token"]})

    # then both answer 200 {} and neither token works any more
    assert revoked == by_refresh == (200, {})
    for access in (token["access_token"], other["access_token"]):
        status, _, _ = await api.rest(
            "GET", "/users/@me", headers={"Authorization": f"Bearer {access}"}
        )
        assert status == 401


async def test_it_validates_a_revocation_as_discord_does(emulator, api):
    wrong = base64.b64encode(f"{defaults.APPLICATION_ID}:nope".encode()).decode()

    assert await _revoke(api, {"token": "unknown"}) == (200, {})
    assert (await _revoke(api, {}))[0] == 400
    assert (await _revoke(api, {"token": "x", "token_type_hint": "id_token"}))[0] == 400
    assert (await _revoke(api, {"token": "x"}, auth=wrong))[1]["error"] == "invalid_client"
    assert (await _revoke(api, {"token": "x"}, content_type="json"))[0] == 400
