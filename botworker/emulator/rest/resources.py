"""REST routes for the gateway, users, the application and its commands, guilds, channels,
roles and members (reads, role changes, `guilds.join`, kicks) and DM channels."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from .. import errors, payloads, validation
from .. import permissions as perms
from ..errors import DiscordError, invalid_form
from .common import ACCESS_TOKEN, WS_URL, actor, auth, body, no_content, query_bool, reply, world

routes = web.RouteTableDef()
P = "/api/v10"


@routes.get(P + "/gateway")
@auth("none")
async def get_gateway(request: web.Request) -> web.Response:
    return reply({"url": request.app[WS_URL]()})


@routes.get(P + "/gateway/bot")
@auth("bot")
async def get_gateway_bot(request: web.Request) -> web.Response:
    return reply(
        {
            "url": request.app[WS_URL](),
            "shards": 1,
            "session_start_limit": {
                "total": 1000,
                "remaining": 999,
                "reset_after": 14_400_000,
                "max_concurrency": 1,
            },
        }
    )


@routes.get(P + "/users/@me")
@auth("bot_or_bearer")
async def get_me(request: web.Request) -> web.Response:
    w = world(request)
    access = request.get(ACCESS_TOKEN)
    if access is None:
        data = payloads.user_pii(w.users[w.bot_id], with_email=False)
        data["email"] = None
        return reply(data)
    if "identify" not in access.scopes:
        raise errors.unauthorized()
    return reply(payloads.user_pii(w.users[access.user_id], with_email="email" in access.scopes))


@routes.get(P + "/users/@me/guilds")
@auth("bot_or_bearer")
async def get_my_guilds(request: web.Request) -> web.Response:
    w = world(request)
    access = request.get(ACCESS_TOKEN)
    if access is not None and "guilds" not in access.scopes:
        raise errors.unauthorized()
    user_id = actor(request)
    return reply(
        [
            {
                "id": g.id,
                "name": g.name,
                "icon": None,
                "banner": None,
                "owner": g.owner_id == user_id,
                "permissions": str(w.guild_permissions(g, user_id)),
                "features": [],
            }
            for g in w.guilds.values()
            if user_id in g.members
        ]
    )


@routes.get(P + "/users/{user_id:[0-9]+}")
@auth("bot")
async def get_user(request: web.Request) -> web.Response:
    return reply(payloads.user(world(request).get_user(request.match_info["user_id"])))


@routes.post(P + "/users/@me/channels")
@auth("bot")
async def create_dm(request: web.Request) -> web.Response:
    data = await body(request)
    recipient = data.get("recipient_id")
    if not recipient:
        raise invalid_form(("recipient_id",), "BASE_TYPE_REQUIRED", "This field is required")
    w = world(request)
    channel = w.dm_channel(w.bot_id, str(recipient))
    return reply(payloads.channel(channel, w))


@routes.get(P + "/oauth2/applications/@me")
@auth("bot")
async def get_application(request: web.Request) -> web.Response:
    return reply(payloads.application(world(request)))


# -- application commands ---------------------------------------------------------------------


def _commands_scope(request: web.Request) -> str | None:
    w = world(request)
    if request.match_info["application_id"] != w.application.id:
        raise errors.missing_access()
    guild_id = request.match_info.get("guild_id")
    if guild_id is not None:
        w.bot_guild(guild_id)
    return guild_id


def _command(
    request: web.Request,
    data: dict[str, Any],
    guild_id: str | None,
    existing: dict[str, Any] | None,
) -> dict[str, Any]:
    w = world(request)
    name = data.get("name")
    if not isinstance(name, str) or not 1 <= len(name) <= 32:
        raise invalid_form(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 32 in length.")
    kind = data.get("type") or 1
    description = data.get("description") or ""
    if kind == 1 and not 1 <= len(description) <= 100:
        raise invalid_form(
            ("description",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length."
        )
    command = {
        "id": existing["id"] if existing else w.ids.next(),
        "application_id": w.application.id,
        "version": w.ids.next(),
        "type": kind,
        "name": name,
        "description": description,
        "default_member_permissions": data.get("default_member_permissions"),
        "nsfw": bool(data.get("nsfw") or False),
        "options": data.get("options") or [],
        "contexts": data.get("contexts"),
        "integration_types": data.get("integration_types") or [0],
    }
    if guild_id:
        command["guild_id"] = guild_id
    return command


@routes.get(P + "/applications/{application_id}/commands")
@routes.get(P + "/applications/{application_id}/guilds/{guild_id}/commands")
@auth("bot")
async def list_commands(request: web.Request) -> web.Response:
    scope = _commands_scope(request)
    return reply(world(request).application.commands.get(scope, []))


@routes.put(P + "/applications/{application_id}/commands")
@routes.put(P + "/applications/{application_id}/guilds/{guild_id}/commands")
@auth("bot")
async def overwrite_commands(request: web.Request) -> web.Response:
    scope = _commands_scope(request)
    raw = await request.text()
    try:
        items = json.loads(raw or "[]")
    except ValueError:
        raise DiscordError(400, 50109, "The request body contains invalid JSON.") from None
    if not isinstance(items, list):
        raise invalid_form((), "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
    existing = {c["name"]: c for c in world(request).application.commands.get(scope, [])}
    commands = [_command(request, item, scope, existing.get(item.get("name"))) for item in items]
    world(request).application.commands[scope] = commands
    return reply(commands)


@routes.post(P + "/applications/{application_id}/commands")
@routes.post(P + "/applications/{application_id}/guilds/{guild_id}/commands")
@auth("bot")
async def upsert_command(request: web.Request) -> web.Response:
    scope = _commands_scope(request)
    data = await body(request)
    commands = world(request).application.commands.setdefault(scope, [])
    existing = next((c for c in commands if c["name"] == data.get("name")), None)
    command = _command(request, data, scope, existing)
    if existing:
        commands[commands.index(existing)] = command
    else:
        commands.append(command)
    return reply(command, status=200 if existing else 201)


# -- guilds, channels, roles, members --------------------------------------------------------


@routes.get(P + "/guilds/{guild_id}")
@auth("bot")
async def get_guild(request: web.Request) -> web.Response:
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    return reply(payloads.guild(guild, w, with_counts=query_bool(request, "with_counts")))


@routes.get(P + "/guilds/{guild_id}/channels")
@auth("bot")
async def get_guild_channels(request: web.Request) -> web.Response:
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    return reply([payloads.channel(w.channels[c], w) for c in guild.channel_ids])


@routes.get(P + "/guilds/{guild_id}/roles")
@auth("bot")
async def get_roles(request: web.Request) -> web.Response:
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    ordered = sorted(guild.roles.values(), key=lambda r: r.position)
    return reply([payloads.role(r) for r in ordered])


@routes.post(P + "/guilds/{guild_id}/roles")
@auth("bot")
async def create_role(request: web.Request) -> web.Response:
    """Create Guild Role: MANAGE_ROLES; the role goes to position 1; GUILD_ROLE_CREATE."""
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    fields = validation.check_role_body(await body(request))
    return reply(payloads.role(w.create_role(guild.id, actor(request), **fields)))


@routes.delete(P + "/guilds/{guild_id}/roles/{role_id}")
@auth("bot")
async def delete_role(request: web.Request) -> web.Response:
    """Delete Guild Role: MANAGE_ROLES and a higher role; 204; GUILD_ROLE_DELETE."""
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    w.delete_role(guild.id, request.match_info["role_id"], actor(request))
    return no_content()


@routes.get(P + "/guilds/{guild_id}/members")
@auth("bot")
async def list_members(request: web.Request) -> web.Response:
    """Needs the GUILD_MEMBERS privileged intent enabled for the application (else 50001)."""
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    if "members" not in w.application.privileged_intents:
        raise errors.missing_access()
    try:
        limit = int(request.query.get("limit", "1"))
        after = int(request.query.get("after", "0"))
    except ValueError:
        raise invalid_form(("limit",), "NUMBER_TYPE_COERCE", "Value is not int.") from None
    if not 1 <= limit <= 1000:
        raise invalid_form(
            ("limit",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 1000."
        )
    members = sorted(
        (m for m in guild.members.values() if int(m.user_id) > after), key=lambda m: int(m.user_id)
    )
    return reply([payloads.member(m, w) for m in members[:limit]])


@routes.get(P + "/guilds/{guild_id}/members/{user_id}")
@auth("bot")
async def get_member(request: web.Request) -> web.Response:
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    return reply(payloads.member(w.get_member(guild, request.match_info["user_id"]), w))


@routes.put(P + "/guilds/{guild_id}/members/{user_id}")
@auth("bot")
async def add_member(request: web.Request) -> web.Response:
    """OAuth2 `guilds.join`: 201 with the member when added, 204 when already a member."""
    data = await body(request)
    token = data.get("access_token")
    if not isinstance(token, str) or not token:
        raise invalid_form(("access_token",), "BASE_TYPE_REQUIRED", "This field is required")
    roles = data.get("roles")
    if roles is not None and not isinstance(roles, list):
        raise invalid_form(("roles",), "LIST_TYPE_CONVERT", "Only iterables may be used.")
    w = world(request)
    member, created = w.oauth_join(
        request.match_info["guild_id"],
        request.match_info["user_id"],
        actor(request),
        token,
        roles=roles,
        nick=data.get("nick"),
    )
    return reply(payloads.member(member, w), status=201) if created else no_content()


@routes.delete(P + "/guilds/{guild_id}/members/{user_id}")
@auth("bot")
async def kick_member(request: web.Request) -> web.Response:
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    w.remove_member(guild.id, request.match_info["user_id"], actor_id=actor(request))
    return no_content()


@routes.put(P + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
@routes.delete(P + "/guilds/{guild_id}/members/{user_id}/roles/{role_id}")
@auth("bot")
async def member_role(request: web.Request) -> web.Response:
    info = request.match_info
    world(request).set_member_role(
        info["guild_id"],
        info["user_id"],
        info["role_id"],
        actor(request),
        add=request.method == "PUT",
    )
    return no_content()


@routes.get(P + "/channels/{channel_id}")
@auth("bot")
async def get_channel(request: web.Request) -> web.Response:
    w = world(request)
    channel = w.get_channel(request.match_info["channel_id"])
    if channel.guild_id is not None:
        w.bot_guild(channel.guild_id)
        if not w.channel_permissions(channel, actor(request)) & perms.VIEW_CHANNEL:
            raise errors.missing_access()
    elif actor(request) not in channel.recipient_ids:
        raise errors.missing_access()
    return reply(payloads.channel(channel, w))
