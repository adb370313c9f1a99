"""REST v10 of the local Discord: routes under `/api/v10` and the middleware around them.

The middleware does, per request and in Discord's order: count the call by route, resolve
authentication (`Bot <token>` or `Bearer <access token>`; a wrong one is 401), apply injected
latency and 5xx, the global and per-route rate limits, then run the handler and render any
`DiscordError` as Discord's JSON error. In strict mode it also records unknown routes, bodies
Discord refuses (400s) and, when the OpenAPI checker is installed, shapes outside Discord's spec.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from aiohttp import web

from ..errors import DiscordError, unauthorized
from ..faults import DROP, route_name
from . import messaging, oauth_routes, resources
from .common import ACCESS_TOKEN, ACTOR_ID, API_PREFIX, AUTH_KEY, FAULTS, WORLD, Handler, reply

log = logging.getLogger(__name__)

try:  # the spec checker is a dev-time module; the emulator works without it
    from ..openapi import spec as openapi_spec
except ImportError:  # pragma: no cover - depends on what is installed
    openapi_spec = None


def setup(app: web.Application) -> None:
    app.middlewares.append(api_middleware)
    for table in (resources.routes, messaging.routes, oauth_routes.routes):
        app.router.add_routes(table)


def _template(request: web.Request) -> str | None:
    route = request.match_info.route
    if request.match_info.http_exception is not None or route.resource is None:
        return None
    return route.resource.canonical.removeprefix(API_PREFIX)


def _authenticate(request: web.Request, kind: str) -> str | None:
    """Returns the acting user id, or raises 401 the way Discord does."""
    world = request.app[WORLD]
    header = request.headers.get("Authorization", "")
    scheme, _, credential = header.partition(" ")
    if kind == "none":
        return None
    if scheme == "Bot" and kind in ("bot", "bot_or_bearer"):
        if credential == world.token:
            request[AUTH_KEY] = "bot"
            return world.bot_id
        raise unauthorized()
    if scheme == "Bearer" and kind in ("bearer", "bot_or_bearer"):
        access = world.bearer(credential)
        request[AUTH_KEY] = f"bearer:{access.user_id}"
        request[ACCESS_TOKEN] = access
        return access.user_id
    raise unauthorized()


@web.middleware
async def api_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    if not request.path.startswith(API_PREFIX + "/") and request.path != API_PREFIX:
        return await handler(request)
    faults = request.app[FAULTS]
    template = _template(request)
    path = request.path.removeprefix(API_PREFIX)
    if template is None:
        faults.calls[route_name(request.method, path)] += 1
        status = getattr(request.match_info.http_exception, "status", 404)
        if faults.strict:
            faults.record_violation("unknown-route", request.method, path, f"status {status}")
        text = "405: Method Not Allowed" if status == 405 else "404: Not Found"
        return reply({"message": text, "code": 0}, status=status)
    route = route_name(request.method, template)
    faults.calls[route] += 1
    delay = 0.0
    try:
        kind = getattr(handler, "emulator_auth", "bot")
        request[ACTOR_ID] = _authenticate(request, kind)
        # The network's round trip: half of it before Discord acts on the request, half before
        # the answer reaches the client (what the client sees late is the answer, and what
        # Discord serves is its state at the halfway point, as over a real network).
        delay = faults.latency_for(route) / 2
        if delay:
            await asyncio.sleep(delay)
        status = faults.injected_failure(route)
        if status == DROP:
            # The network fails under the call: the connection closes with no answer.
            if request.transport is not None:
                request.transport.abort()
            return web.Response(status=500)  # written nowhere: the connection is gone
        if status is not None:
            await asyncio.sleep(delay)
            return reply({"message": f"{status}: Internal Server Error", "code": 0}, status=status)
        limited = faults.rate_limit(
            route,
            dict(request.match_info),
            request.get(AUTH_KEY, request.remote or "anonymous"),
            exempt_global=template.startswith(("/interactions/", "/webhooks/")),
        )
        if limited.retry_after is not None:
            await asyncio.sleep(delay)
            return reply(limited.body(), status=429, headers=limited.headers)
        response = await handler(request)
        response.headers.update(limited.headers)
    except DiscordError as error:
        if faults.strict and error.status == 400:
            faults.record_violation("invalid-payload", request.method, path, error.body)
        response = reply(error.body, status=error.status)
    if faults.strict:
        await _check_shapes(request, response, path)
    if delay:
        await asyncio.sleep(delay)
    return response


async def _check_shapes(request: web.Request, response: web.StreamResponse, path: str) -> None:
    """Strict mode: validate accepted request bodies and JSON replies against Discord's spec."""
    faults = request.app[FAULTS]
    if openapi_spec is None or not isinstance(response, web.Response):
        return
    if response.status < 400 and request.can_read_body is False and request.body_exists:
        try:
            sent: Any = json.loads(await request.text())
        except ValueError:
            sent = None
        if isinstance(sent, dict | list):
            for problem in openapi_spec.validate_request(request.method, path, sent):
                faults.record_violation("openapi-request", request.method, path, problem)
    if response.body is None or response.status == 204:
        return
    try:
        data = json.loads(response.body)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return
    if isinstance(data, dict) and "errors" in data:
        # Discord's docs show field errors with string codes ("BASE_TYPE_REQUIRED"); the
        # spec types them as integers. The docs win, so these bodies are not checked.
        return
    for problem in openapi_spec.validate_response(request.method, path, response.status, data):
        faults.record_violation("openapi-response", request.method, path, problem)
