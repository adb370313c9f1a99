"""OAuth2 REST routes: the token exchange, the Bearer `GET /oauth2/@me`, and the API-prefixed
authorize URL (which sends the browser to the web UI's authorise page, as Discord's does)."""

from __future__ import annotations

import base64
import binascii

from aiohttp import web

from .. import payloads
from ..oauth import OAuthError
from .common import ACCESS_TOKEN, auth, reply, world

routes = web.RouteTableDef()
P = "/api/v10"


def _client_credentials(
    request: web.Request, form: dict[str, str]
) -> tuple[str | None, str | None]:
    """HTTP basic auth (`client_id:client_secret`) or the form's client_id / client_secret."""
    header = request.headers.get("Authorization", "")
    if header.startswith("Basic "):
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None, None
        client_id, _, secret = decoded.partition(":")
        return client_id, secret
    return form.get("client_id"), form.get("client_secret")


FORM = "application/x-www-form-urlencoded"  # what Discord's token endpoints accept


def _unsupported() -> web.Response:
    body = {"error": "invalid_request", "error_description": "Unsupported content type."}
    return reply(body, status=400)


async def _client_form(request: web.Request) -> tuple[dict[str, str], str | None, str | None]:
    """The form's fields and the client's credentials (Basic auth or form fields)."""
    form = {k: str(v) for k, v in (await request.post()).items()}
    return (form, *_client_credentials(request, form))


@routes.post(P + "/oauth2/token")
@auth("none")
async def token(request: web.Request) -> web.Response:
    """`application/x-www-form-urlencoded`, as Discord requires; errors in OAuth2's shape."""
    if request.content_type != FORM:
        return _unsupported()
    form, client_id, secret = await _client_form(request)
    try:
        data = world(request).exchange_token(form, client_id, secret)
    except OAuthError as error:
        return reply(error.body, status=error.status)
    return reply(data)


@routes.post(P + "/oauth2/token/revoke")
@auth("none")
async def revoke(request: web.Request) -> web.Response:
    """Token revocation: form-encoded like the token endpoint, 200 with an empty object."""
    if request.content_type != FORM:
        return _unsupported()
    form, client_id, secret = await _client_form(request)
    try:
        world(request).revoke_token(form, client_id, secret)
    except OAuthError as error:
        return reply(error.body, status=error.status)
    return reply({})


@routes.get(P + "/oauth2/@me")
@auth("bearer")
async def authorization_info(request: web.Request) -> web.Response:
    w = world(request)
    access = request[ACCESS_TOKEN]
    data = {
        "application": {
            "id": w.application.id,
            "name": w.application.name,
            "icon": None,
            "description": "",
            "bot_public": True,
            "bot_require_code_grant": False,
            "verify_key": "0" * 64,
            "flags": w.application_flags(),
            "flags_new": str(w.application_flags()),
            "type": None,
        },
        "scopes": access.scopes,
        "expires": access.expires_at.isoformat(),
    }
    if "identify" in access.scopes:
        data["user"] = payloads.user(w.users[access.user_id])
    return reply(data)


@routes.get(P + "/oauth2/authorize")
@auth("none")
async def authorize_redirect(request: web.Request) -> web.Response:
    raise web.HTTPFound(f"/oauth2/authorize?{request.query_string}")
