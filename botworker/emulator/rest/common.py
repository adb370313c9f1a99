"""Helpers shared by the REST handlers: JSON replies, bodies, authentication markers."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from ..errors import DiscordError

if TYPE_CHECKING:
    from ..faults import Faults
    from ..state import World

API_PREFIX = "/api/v10"
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

# Typed keys for what the server stores on the app and on each request.
WORLD: web.AppKey[Any] = web.AppKey("world")
FAULTS: web.AppKey[Any] = web.AppKey("faults")
EMULATOR: web.AppKey[Any] = web.AppKey("emulator")
WS_URL: web.AppKey[Any] = web.AppKey("ws_url")
ACTOR_ID: web.RequestKey[str | None] = web.RequestKey("actor_id", str)
AUTH_KEY: web.RequestKey[str] = web.RequestKey("auth_key", str)
ACCESS_TOKEN: web.RequestKey[Any] = web.RequestKey("access_token", object)


def reply(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    """A JSON reply with `Content-Type: application/json` exactly (nextcord needs that)."""
    merged = {"Content-Type": "application/json"}
    merged.update(headers or {})
    return web.Response(body=json.dumps(data).encode(), status=status, headers=merged)


def no_content() -> web.Response:
    return web.Response(status=204)


def auth(kind: str) -> Callable[[Handler], Handler]:
    """Mark a handler's authentication: "bot", "bearer", "bot_or_bearer" or "none"."""

    def mark(handler: Handler) -> Handler:
        handler.emulator_auth = kind  # type: ignore[attr-defined]
        return handler

    return mark


def world(request: web.Request) -> World:
    return request.app[WORLD]


def faults(request: web.Request) -> Faults:
    return request.app[FAULTS]


def actor(request: web.Request) -> str:
    """The user making the request: the bot, or the Bearer token's user."""
    return request[ACTOR_ID]


async def body(request: web.Request) -> dict[str, Any]:
    """The JSON body (multipart `payload_json` too); {} when empty. Bad JSON → 50109."""
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":  # type: ignore[union-attr]
                return _loads(await part.text())  # type: ignore[union-attr]
        return {}
    raw = await request.text()
    if not raw.strip():
        return {}
    return _loads(raw)


def _loads(raw: str) -> dict[str, Any]:
    try:
        data = json.loads(raw)
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(data, dict):
        raise DiscordError(400, 50109, "The request body contains invalid JSON.")
    return data


def query_bool(request: web.Request, name: str) -> bool:
    return request.query.get(name, "").lower() in ("1", "true")
