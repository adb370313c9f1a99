"""The control API under `/_emulator/`: how tests, the simulator and the demo act as users and
read the world. JSON in, JSON out; errors use Discord's error body (or OAuth2's for OAuth).

Everything here goes through the same `World` methods as REST and the web UI, so "a user
accepts an invite" here is exactly what Discord would do (events, uses, consumption).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from . import defaults, payloads
from .errors import DiscordError
from .faults import parse_rate
from .models import Interaction
from .oauth import OAuthError
from .rest.common import EMULATOR, reply

if TYPE_CHECKING:
    from .server import Emulator
    from .state import World

routes = web.RouteTableDef()
C = "/_emulator"


def setup(app: web.Application) -> None:
    app.middlewares.append(control_errors)
    app.router.add_routes(routes)


@web.middleware
async def control_errors(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    if not request.path.startswith(C + "/"):
        return await handler(request)
    try:
        return await handler(request)
    except DiscordError as error:
        return reply(error.body, status=error.status)
    except OAuthError as error:
        return reply(error.body, status=error.status)
    except (KeyError, ValueError, TypeError) as error:
        return reply({"message": f"bad request: {error}", "code": 0}, status=400)


def _emu(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    data = json.loads(raw) if raw.strip() else {}
    if not isinstance(data, dict):
        raise ValueError("the body must be a JSON object")
    return data


def interaction_state(world: World, interaction: Interaction) -> dict[str, Any]:
    """What the user sees of an interaction: the modal shown, or the (ephemeral) reply."""
    messages = []
    for message_id in [interaction.original_message_id, *interaction.followup_ids]:
        if message_id and message_id in world.messages:
            messages.append(payloads.message(world.messages[message_id], world))
    return {
        "id": interaction.id,
        "type": interaction.type,
        "user_id": interaction.user_id,
        "guild_id": interaction.guild_id,
        "channel_id": interaction.channel_id,
        "message_id": interaction.message_id,
        "data": interaction.data,
        "responded": interaction.responded,
        "response_type": interaction.response_type,
        "modal": interaction.modal,
        "messages": messages,
        "ephemeral": any(world.messages[m["id"]].visible_to for m in messages),
        "failed": interaction.failed,
    }


async def _settled(request: web.Request, interaction: Interaction, wait: Any) -> dict[str, Any]:
    if wait:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(interaction.settled.wait(), float(wait))
    return interaction_state(_emu(request).world, interaction)


# -- world and users ---------------------------------------------------------------------------


@routes.get(C + "/state")
async def state(request: web.Request) -> web.Response:
    emu = _emu(request)
    w = emu.world
    return reply(
        {
            "base_url": emu.base_url,
            "api_base": emu.api_base,
            "gateway_url": emu.ws_url,
            "application": payloads.application(w),
            "guilds": [payloads.guild(g, w, with_counts=True) for g in w.guilds.values()],
            "channels": [payloads.channel(c, w) for c in w.channels.values()],
            "users": [payloads.user(u) for u in w.users.values()],
            "invite_delete_order": w.invite_delete_order,
            "roles_in": w.roles_in,
            "roles_update_delay_ms": w.roles_update_delay * 1000,
            "latency_ms": emu.latency_ms,
            "strict": emu.faults.strict,
            "clock_offset": emu.clock.offset,
        }
    )


@routes.post(C + "/reset")
async def reset(request: web.Request) -> web.Response:
    data = await _json(request)
    _emu(request).reset(seed=bool(data.get("seed", True)))
    return reply({"ok": True})


@routes.get(C + "/users")
async def list_users(request: web.Request) -> web.Response:
    return reply([payloads.user(u) for u in _emu(request).world.users.values()])


@routes.post(C + "/users")
async def create_user(request: web.Request) -> web.Response:
    data = await _json(request)
    user = _emu(request).create_user(
        data.get("username"),
        global_name=data.get("global_name"),
        other_guilds=int(data.get("other_guilds", 0)),
    )
    return reply(payloads.user(user), status=201)


@routes.post(C + "/clock/advance")
async def advance_clock(request: web.Request) -> web.Response:
    data = await _json(request)
    _emu(request).clock.advance(float(data["seconds"]))
    return reply({"offset": _emu(request).clock.offset})


@routes.post(C + "/config")
async def config(request: web.Request) -> web.Response:
    """Keys (all optional): invite_delete_order "before"/"after", interaction_timeout (s),
    members_intent, roles_in "add"/"update" (where a role invite's roles first appear),
    roles_update_delay_ms (ADD → UPDATE gap with "update"), latency_ms (REST and gateway)."""
    data = await _json(request)
    emu = _emu(request)
    if "invite_delete_order" in data:
        emu.set_invite_delete_order(data["invite_delete_order"])
    if "roles_in" in data or "roles_update_delay_ms" in data:
        delay = data.get("roles_update_delay_ms")
        emu.set_roles_in(
            data.get("roles_in", emu.world.roles_in), None if delay is None else float(delay)
        )
    if "latency_ms" in data:
        emu.set_latency(float(data["latency_ms"]))
    if "interaction_timeout" in data:
        emu.world.interaction_timeout = float(data["interaction_timeout"])
    if "members_intent" in data:
        intents = emu.world.application.privileged_intents
        (intents.add if data["members_intent"] else intents.discard)("members")
    return reply({"ok": True})


# -- invites and members -----------------------------------------------------------------------


@routes.get(C + "/invites")
async def list_invites(request: web.Request) -> web.Response:
    return reply(_emu(request).invites(request.query.get("guild_id", defaults.GUILD_ID)))


@routes.post(C + "/invites")
async def create_invite(request: web.Request) -> web.Response:
    data = await _json(request)
    emu = _emu(request)
    keys = ("max_age", "max_uses", "temporary", "unique", "role_ids")
    params = {k: data[k] for k in keys if k in data}
    invite = emu.create_invite(
        data.get("channel_id", defaults.INVITE_CHANNEL_ID), data.get("inviter_id"), **params
    )
    return reply(payloads.invite(invite, emu.world), status=201)


@routes.delete(C + "/invites/{code}")
async def delete_invite(request: web.Request) -> web.Response:
    emu = _emu(request)
    invite = emu.world.delete_invite(request.match_info["code"])
    return reply(payloads.invite(invite, emu.world))


@routes.post(C + "/invites/{code}/accept")
async def accept_invite(request: web.Request) -> web.Response:
    """Body: `user_id` (or `username` for a new user; neither: a new user), and optionally
    `invite_delete_order` ("before"/"after") and `duplicate_member_add`."""
    data = await _json(request)
    emu = _emu(request)
    user_id = data.get("user_id") or emu.create_user(data.get("username")).id
    member = emu.accept_invite(
        request.match_info["code"],
        user_id,
        invite_delete_order=data.get("invite_delete_order"),
        duplicate_member_add=bool(data.get("duplicate_member_add", False)),
    )
    return reply({"guild_id": member.guild_id, "member": payloads.member(member, emu.world)})


@routes.get(C + "/guilds/{guild_id}/members")
async def list_members(request: web.Request) -> web.Response:
    return reply(_emu(request).members(request.match_info["guild_id"]))


@routes.get(C + "/guilds/{guild_id}/roles")
async def list_roles(request: web.Request) -> web.Response:
    guild = _emu(request).world.get_guild(request.match_info["guild_id"])
    return reply([payloads.role(r) for r in sorted(guild.roles.values(), key=lambda r: r.position)])


@routes.delete(C + "/guilds/{guild_id}/members/{user_id}")
async def remove_member(request: web.Request) -> web.Response:
    _emu(request).remove_member(request.match_info["user_id"], request.match_info["guild_id"])
    return reply({"ok": True})


@routes.patch(C + "/guilds/{guild_id}/members/{user_id}")
async def update_member(request: web.Request) -> web.Response:
    data = await _json(request)
    emu = _emu(request)
    info = request.match_info
    member = emu.world.set_member_flags(info["guild_id"], info["user_id"], int(data["flags"]))
    return reply(payloads.member(member, emu.world))


@routes.post(C + "/guilds/{guild_id}/members/{user_id}/duplicate-add")
async def duplicate_add(request: web.Request) -> web.Response:
    _emu(request).duplicate_member_add(
        request.match_info["user_id"], request.match_info["guild_id"]
    )
    return reply({"ok": True})


@routes.get(C + "/ground-truth")
async def ground_truth(request: web.Request) -> web.Response:
    """Every join: how the member really got in (invite code, OAuth2 or seed), and the roles
    a role invite gave."""
    return reply(_emu(request).ground_truth())


@routes.get(C + "/ground-truth/returning")
async def returning_visits(request: web.Request) -> web.Response:
    """Invites accepted by members already in the guild: no join, no use counted."""
    return reply(_emu(request).returning_visits())


# -- messages and interactions -----------------------------------------------------------------


@routes.get(C + "/channels/{channel_id}/messages")
async def channel_messages(request: web.Request) -> web.Response:
    emu = _emu(request)
    return reply(emu.messages(request.match_info["channel_id"], request.query.get("viewer_id")))


@routes.post(C + "/interactions/click")
async def click(request: web.Request) -> web.Response:
    """Body: `user_id`, `message_id`, `custom_id`, optional `wait` (seconds to await the answer)."""
    data = await _json(request)
    interaction = _emu(request).click_button(
        str(data["user_id"]), str(data["message_id"]), str(data["custom_id"])
    )
    return reply(await _settled(request, interaction, data.get("wait")), status=201)


@routes.post(C + "/interactions/{interaction_id}/submit")
async def submit(request: web.Request) -> web.Response:
    """Submit the modal shown for interaction `interaction_id`: `user_id`, `values`, `wait`."""
    data = await _json(request)
    interaction = _emu(request).submit_modal(
        str(data["user_id"]), request.match_info["interaction_id"], dict(data.get("values") or {})
    )
    return reply(await _settled(request, interaction, data.get("wait")), status=201)


@routes.get(C + "/interactions/failures")
async def failures(request: web.Request) -> web.Response:
    return reply(_emu(request).interaction_failures)


@routes.get(C + "/interactions/{interaction_id}")
async def get_interaction(request: web.Request) -> web.Response:
    world = _emu(request).world
    interaction = world.interactions.get(request.match_info["interaction_id"])
    if interaction is None:
        return reply({"message": "Unknown interaction", "code": 10062}, status=404)
    return reply(await _settled(request, interaction, request.query.get("wait")))


@routes.post(C + "/oauth/authorize")
async def oauth_authorize(request: web.Request) -> web.Response:
    """Body: `user_id`, `scopes` (list or space-separated), `redirect_uri`, `state`, `client_id`."""
    data = await _json(request)
    scopes = data.get("scopes") or ["identify"]
    if isinstance(scopes, str):
        scopes = scopes.split()
    url = _emu(request).authorize_oauth(
        str(data["user_id"]),
        scopes=list(scopes),
        redirect_uri=str(data["redirect_uri"]),
        state=data.get("state"),
        client_id=data.get("client_id"),
    )
    return reply({"redirect_url": url})


# -- faults, records, gateway ------------------------------------------------------------------


@routes.get(C + "/calls")
async def calls(request: web.Request) -> web.Response:
    return reply(_emu(request).calls)


@routes.get(C + "/violations")
async def violations(request: web.Request) -> web.Response:
    return reply(_emu(request).violations)


@routes.delete(C + "/violations")
async def clear_violations(request: web.Request) -> web.Response:
    _emu(request).faults.violations.clear()
    return reply({"ok": True})


@routes.post(C + "/faults")
async def configure_faults(request: web.Request) -> web.Response:
    """Keys (all optional): clear, strict, route_rate "N/S", global_rate, rate_limits,
    inject_429, failures, latency — lists of rules with a route `pattern` glob."""
    data = await _json(request)
    faults = _emu(request).faults
    if data.get("clear"):
        faults.clear()
    if "strict" in data:
        faults.strict = bool(data["strict"])
    if "route_rate" in data:
        faults.route_rate = parse_rate(data["route_rate"]) if data["route_rate"] else None
    if "global_rate" in data:
        faults.global_rate = int(data["global_rate"]) if data["global_rate"] else None
    for rule in data.get("rate_limits", []):
        faults.set_route_rate(rule["pattern"], int(rule["limit"]), float(rule.get("per", 1)))
    for rule in data.get("inject_429", []):
        faults.inject_rate_limit(
            rule.get("pattern", "*"),
            count=int(rule.get("count", 1)),
            retry_after=float(rule.get("retry_after", 0.05)),
            is_global=bool(rule.get("global", False)),
        )
    for rule in data.get("failures", []):
        count = rule.get("count")
        faults.inject_failure(
            rule.get("pattern", "*"),
            status=int(rule.get("status", 500)),
            count=None if count is None and "probability" in rule else int(count or 1),
            probability=float(rule.get("probability", 1.0)),
        )
    for rule in data.get("latency", []):
        faults.set_latency(rule.get("pattern", "*"), float(rule["ms"]) / 1000)
    return reply({"ok": True})


@routes.get(C + "/gateway")
async def gateway_state(request: web.Request) -> web.Response:
    gateway = _emu(request).gateway
    return reply(
        {
            "sessions": [
                {"id": s.id, "intents": s.intents, "seq": s.seq, "connected": bool(s.connection)}
                for s in gateway.sessions.values()
            ],
            "connections": len(gateway.connections),
            "identify_count": gateway.identify_count,
            "resume_count": gateway.resume_count,
            "events": [name for name, _ in gateway.events],
        }
    )


@routes.post(C + "/gateway/drop")
async def drop(request: web.Request) -> web.Response:
    return reply({"dropped": _emu(request).drop_gateway()})


@routes.post(C + "/gateway/reconnect")
async def reconnect(request: web.Request) -> web.Response:
    _emu(request).request_reconnect()
    return reply({"ok": True})


@routes.post(C + "/gateway/invalidate")
async def invalidate(request: web.Request) -> web.Response:
    data = await _json(request)
    _emu(request).invalidate_sessions(bool(data.get("resumable", False)))
    return reply({"ok": True})
