"""REST routes for invites, messages, interaction callbacks and interaction webhooks."""

from __future__ import annotations

from aiohttp import web

from .. import errors, payloads, validation
from .. import permissions as perms
from .common import actor, auth, body, no_content, query_bool, reply, world

routes = web.RouteTableDef()
P = "/api/v10"


# -- invites -----------------------------------------------------------------------------------


@routes.post(P + "/channels/{channel_id}/invites")
@auth("bot")
async def create_invite(request: web.Request) -> web.Response:
    params = validation.check_invite_body(await body(request))
    w = world(request)
    channel = w.get_channel(request.match_info["channel_id"])
    if channel.guild_id is not None:
        w.bot_guild(channel.guild_id)
    invite = w.create_invite(channel.id, actor(request), **params)
    return reply(payloads.invite(invite, w))


@routes.get(P + "/channels/{channel_id}/invites")
@auth("bot")
async def list_channel_invites(request: web.Request) -> web.Response:
    w = world(request)
    channel = w.get_channel(request.match_info["channel_id"])
    if channel.guild_id is None:
        raise errors.missing_access()
    w.require_channel_permission(channel, actor(request), perms.MANAGE_CHANNELS)
    return reply([payloads.invite(i, w) for i in w.channel_invites(channel.id)])


@routes.get(P + "/guilds/{guild_id}/invites")
@auth("bot")
async def list_guild_invites(request: web.Request) -> web.Response:
    """All live invites, unpaginated; needs MANAGE_GUILD."""
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    w.require_guild_permission(guild, actor(request), perms.MANAGE_GUILD)
    return reply([payloads.invite(i, w) for i in w.guild_invites(guild.id)])


@routes.get(P + "/guilds/{guild_id}/vanity-url")
@auth("bot")
async def get_guild_vanity_url(request: web.Request) -> web.Response:
    """The vanity invite's code (null when the guild has none) and uses; needs MANAGE_GUILD.
    Not in the guild's invite list, as on Discord."""
    w = world(request)
    guild = w.bot_guild(request.match_info["guild_id"])
    w.require_guild_permission(guild, actor(request), perms.MANAGE_GUILD)
    return reply({"code": guild.vanity_url_code, "uses": guild.vanity_uses})


@routes.get(P + "/invites/{code}")
@auth("bot_or_bearer")
async def get_invite(request: web.Request) -> web.Response:
    """The public invite: no usage metadata (that is only in the channel/guild lists)."""
    w = world(request)
    invite = w.get_invite(request.match_info["code"])
    data = payloads.invite(
        invite, w, metadata=False, with_counts=query_bool(request, "with_counts")
    )
    return reply(data)


@routes.delete(P + "/invites/{code}")
@auth("bot")
async def delete_invite(request: web.Request) -> web.Response:
    w = world(request)
    invite = w.delete_invite(request.match_info["code"], actor_id=actor(request))
    return reply(payloads.invite(invite, w, metadata=False))


# -- messages ----------------------------------------------------------------------------------


@routes.post(P + "/channels/{channel_id}/messages")
@auth("bot")
async def create_message(request: web.Request) -> web.Response:
    w = world(request)
    data = await body(request)
    msg = w.create_message(request.match_info["channel_id"], actor(request), data)
    return reply(payloads.message(msg, w))


@routes.get(P + "/channels/{channel_id}/messages")
@auth("bot")
async def list_messages(request: web.Request) -> web.Response:
    """Newest first, as Discord returns them; `limit` 1–100 (default 50), `before`/`after`."""
    w = world(request)
    channel = w.get_channel(request.match_info["channel_id"])
    if channel.guild_id is not None:
        w.require_channel_permission(channel, actor(request), perms.READ_MESSAGE_HISTORY)
    try:
        limit = int(request.query.get("limit", "50"))
    except ValueError:
        raise errors.invalid_form(("limit",), "NUMBER_TYPE_COERCE", "Value is not int.") from None
    if not 1 <= limit <= 100:
        raise errors.invalid_form(
            ("limit",), "NUMBER_TYPE_MAX", "int value should be less than or equal to 100."
        )
    messages = w.channel_messages(channel.id)
    if "before" in request.query:
        messages = [m for m in messages if int(m.id) < int(request.query["before"])]
    if "after" in request.query:
        messages = [m for m in messages if int(m.id) > int(request.query["after"])]
        messages = messages[:limit]
    messages = list(reversed(messages))[:limit]
    return reply([payloads.message(m, w) for m in messages])


def _own_message(request: web.Request):
    w = world(request)
    channel = w.get_channel(request.match_info["channel_id"])
    if channel.guild_id is not None:
        w.require_channel_permission(channel, actor(request), perms.VIEW_CHANNEL)
    return w, w.get_message(channel.id, request.match_info["message_id"])


@routes.get(P + "/channels/{channel_id}/messages/{message_id}")
@auth("bot")
async def get_message(request: web.Request) -> web.Response:
    w, msg = _own_message(request)
    if msg.visible_to is not None:
        raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
    return reply(payloads.message(msg, w))


@routes.patch(P + "/channels/{channel_id}/messages/{message_id}")
@auth("bot")
async def edit_message(request: web.Request) -> web.Response:
    w, msg = _own_message(request)
    if msg.author_id != actor(request):
        raise errors.DiscordError(
            403, errors.CANNOT_EDIT_OTHERS_MESSAGE, "Cannot edit a message authored by another user"
        )
    return reply(payloads.message(w.edit_message(msg, await body(request)), w))


@routes.delete(P + "/channels/{channel_id}/messages/{message_id}")
@auth("bot")
async def delete_message(request: web.Request) -> web.Response:
    w, msg = _own_message(request)
    channel = w.channels[msg.channel_id]
    if msg.author_id != actor(request) and not (
        channel.guild_id and w.channel_permissions(channel, actor(request)) & perms.MANAGE_MESSAGES
    ):
        raise errors.missing_permissions()
    w.delete_message(msg)
    return no_content()


# -- interactions ------------------------------------------------------------------------------


@routes.post(P + "/interactions/{interaction_id}/{interaction_token}/callback")
@auth("none")
async def interaction_callback(request: web.Request) -> web.Response:
    """204 without a body; with `?with_response=true`, 200 and the callback resource."""
    w = world(request)
    data = await body(request)
    interaction = w.interaction_callback(
        request.match_info["interaction_id"], request.match_info["interaction_token"], data
    )
    if not query_bool(request, "with_response"):
        return no_content()
    data: dict = {
        "interaction": {
            "id": interaction.id,
            "type": interaction.type,
            "response_message_id": interaction.original_message_id,
            "response_message_loading": interaction.response_type == 5,
            "response_message_ephemeral": bool(
                interaction.original_message_id
                and w.messages[interaction.original_message_id].visible_to
            ),
        }
    }
    if interaction.original_message_id is None:
        del data["interaction"]["response_message_id"]
    if interaction.original_message_id and interaction.response_type in (4, 7):
        # Only message-creating/updating responses have a resource (Discord's docs and spec).
        data["resource"] = {
            "type": interaction.response_type,
            "message": payloads.message(w.messages[interaction.original_message_id], w),
        }
    return reply(data)


@routes.post(P + "/webhooks/{webhook_id}/{webhook_token}")
@auth("none")
async def followup(request: web.Request) -> web.Response:
    w = world(request)
    msg = w.followup(
        request.match_info["webhook_id"], request.match_info["webhook_token"], await body(request)
    )
    if query_bool(request, "wait"):
        return reply(payloads.message(msg, w))
    return no_content()


@routes.get(P + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
@routes.patch(P + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
@routes.delete(P + "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}")
@auth("none")
async def webhook_message(request: web.Request) -> web.Response:
    """Follow-up messages and `@original`, addressed by the interaction token."""
    w = world(request)
    info = request.match_info
    msg = w.webhook_message(info["webhook_id"], info["webhook_token"], info["message_id"])
    if request.method == "PATCH":
        msg = w.edit_message(msg, await body(request))
    elif request.method == "DELETE":
        w.delete_message(msg)
        return no_content()
    return reply(payloads.message(msg, w))
