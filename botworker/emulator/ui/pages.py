"""The home page, invites (open one, accept it as a test user) and the OAuth2 consent page."""

from __future__ import annotations

from html import escape
from urllib.parse import urlencode

from aiohttp import web

from ..errors import DiscordError
from ..oauth import OAuthError
from .base import channel_nav, emu_of, humans, page, picked_user, user_picker


async def index(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await emu_of(request).gateway.handle(request)
    emu = emu_of(request)
    w = emu.world
    parts = [
        f"<p class=muted>API <code>{escape(emu.api_base)}</code> · gateway "
        f"<code>{escape(emu.ws_url)}</code> · control <code>/_emulator/state</code></p>"
    ]
    for guild in w.guilds.values():
        invites = "".join(
            f"<li><a href='/invite/{escape(i.code)}'>{escape(i.code)}</a> "
            f"<span class=muted>uses {i.uses}/{i.max_uses or '∞'}</span></li>"
            for i in w.guild_invites(guild.id)[-20:]
        )
        parts.append(
            f"<h2>{escape(guild.name)}</h2><p>{len(guild.members)} members</p>"
            f"<h3>Channels</h3>{channel_nav(emu, guild.id)}"
            f"<h3>Invites</h3><ul>{invites or '<li class=muted>none</li>'}</ul>"
        )
    users = "".join(
        f"<li>{escape(u.username)} <span class=muted>{u.id}</span></li>" for u in humans(emu)
    )
    parts.append(
        f"<h3>Test users</h3><ul>{users}</ul><form method=post action='/users'>"
        "<label for=username>New test user</label><input name=username id=username>"
        "<p><button>Create user</button></p></form>"
    )
    first = next(iter(w.guilds.values()), None)
    first_channel = first.channel_ids[0] if first is not None and first.channel_ids else ""
    live = f"/channels/{first_channel}/live" if first_channel else ""
    return page("Home", "".join(parts), live=live)


async def create_user(request: web.Request) -> web.Response:
    form = await request.post()
    emu_of(request).create_user(str(form.get("username") or "") or None)
    raise web.HTTPSeeOther("/")


async def invite_page(request: web.Request, error: str = "") -> web.Response:
    emu = emu_of(request)
    try:
        invite = emu.world.get_invite(request.match_info["code"])
    except DiscordError:
        return page(
            "Invite invalid",
            "<h1>Invite Invalid</h1><p>This invite may be expired, or "
            "you might not have permission to join.</p>",
            status=404,
        )
    guild = emu.world.guilds[invite.guild_id]
    channel = emu.world.channels[invite.channel_id]
    inviter = emu.world.users.get(invite.inviter_id or "")
    roles = [guild.roles[r] for r in invite.role_ids if r in guild.roles]
    # A role invite is worth accepting for members too: they get its roles (no join).
    exclude = set() if roles else set(guild.members)
    return page(
        f"Join {guild.name}",
        (f"<p class=error>{escape(error)}</p>" if error else "")
        + f"<p class=muted>{escape(inviter.username) if inviter else 'Someone'} invited you to "
        f"join</p><h1>{escape(guild.name)}</h1><p>#{escape(channel.name or '')} · "
        f"{len(guild.members)} members</p>"
        + (
            "<p>You will get the roles " + ", ".join(f"@{escape(r.name)}" for r in roles) + "</p>"
            if roles
            else ""
        )
        + f"<form method=post>{user_picker(emu, exclude=exclude)}"
        "<p><button>Accept Invite</button></p></form>",
    )


async def accept_invite(request: web.Request) -> web.Response:
    """Accept, then land where the welcome appears: the guild's system channel (where Discord
    posts join messages and a bot usually welcomes), else the invite's channel."""
    emu = emu_of(request)
    form = await request.post()
    code = request.match_info["code"]
    try:
        invite = emu.world.get_invite(code)
        user_id = await picked_user(emu, form)
        emu.accept_invite(code, user_id)
    except DiscordError as error:
        return await invite_page(request, error.message)
    guild = emu.world.guilds[invite.guild_id]
    landing = guild.system_channel_id or invite.channel_id
    raise web.HTTPSeeOther(f"/channels/{landing}?{urlencode({'as': user_id})}")


OAUTH_FIELDS = ("client_id", "redirect_uri", "scope", "state", "response_type")


async def authorize_page(request: web.Request, error: str = "") -> web.Response:
    emu = emu_of(request)
    query = request.query
    scopes = query.get("scope", "").split()
    hidden = "".join(
        f"<input type=hidden name='{k}' value='{escape(query.get(k, ''))}'>" for k in OAUTH_FIELDS
    )
    items = "".join(f"<li>{escape(s)}</li>" for s in scopes)
    return page(
        "Authorize",
        (f"<p class=error>{escape(error)}</p>" if error else "")
        + f"<h1>{escape(emu.world.application.name)}</h1><p>wants to access your account:</p>"
        f"<ul>{items}</ul><form method=post>{hidden}{user_picker(emu)}"
        "<p><button name=decision value=authorize>Authorize</button> "
        "<button name=decision value=cancel class=s2>Cancel</button></p></form>",
    )


async def authorize(request: web.Request) -> web.Response:
    """Authorize: back to the application with a code. Cancel: back with
    `error=access_denied`, as Discord does when the user declines."""
    emu = emu_of(request)
    form = await request.post()
    client_id = str(form.get("client_id", ""))
    redirect_uri = str(form.get("redirect_uri", ""))
    state = str(form["state"]) if form.get("state") else None
    try:
        if form.get("decision") == "cancel":
            url = emu.world.deny(client_id=client_id, redirect_uri=redirect_uri, state=state)
        else:
            url = emu.authorize_oauth(
                await picked_user(emu, form),
                scopes=str(form.get("scope", "")).split(),
                redirect_uri=redirect_uri,
                state=state,
                client_id=client_id,
            )
    except (OAuthError, DiscordError) as error:
        return await authorize_page(request, str(error))
    raise web.HTTPFound(url)
