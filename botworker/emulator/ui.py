"""A small server-rendered web UI so a person without a Discord account can walk the journey:
open an invite, accept it as a test user, see the welcome message, click its button, fill in the
modal, and authorise OAuth2. Plain HTML forms, no JavaScript, no external assets; every action
goes through the same `World` methods as the control API.
"""

from __future__ import annotations

import asyncio
import contextlib
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from . import models
from .errors import DiscordError
from .oauth import OAuthError
from .rest.common import EMULATOR

if TYPE_CHECKING:
    from .server import Emulator

STYLE = """
body{font:15px/1.5 system-ui,sans-serif;margin:0;background:#f2f3f5;color:#1e1f22}
header{background:#5865f2;color:#fff;padding:.6rem 1.2rem}header a{color:#fff}
main{max-width:46rem;margin:1.2rem auto;background:#fff;padding:1.2rem 1.6rem;border-radius:8px}
.msg{border-top:1px solid #e3e5e8;padding:.6rem 0}.author{font-weight:600}
.eph{background:#eef0ff;padding:.4rem;border-radius:4px}.muted{color:#5c5e66;font-size:.85em}
button{background:#5865f2;color:#fff;border:0;border-radius:4px;padding:.35rem .9rem;cursor:pointer}
button.s2{background:#4e5058}button.s3{background:#248046}button.s4{background:#da373c}
input,select,textarea{font:inherit;padding:.3rem;width:100%;box-sizing:border-box}
label{display:block;margin:.6rem 0 .2rem;font-weight:600}.error{color:#da373c}
form.inline{display:inline}
"""


def setup(app: web.Application) -> None:
    app.router.add_get("/", index)
    app.router.add_post("/users", create_user)
    app.router.add_get("/invite/{code}", invite_page)
    app.router.add_post("/invite/{code}", accept_invite)
    app.router.add_get("/channels/{channel_id}", channel_page)
    app.router.add_post("/channels/{channel_id}/click", click)
    app.router.add_get("/interactions/{interaction_id}/modal", modal_page)
    app.router.add_post("/interactions/{interaction_id}/modal", submit_modal)
    app.router.add_get("/oauth2/authorize", authorize_page)
    app.router.add_post("/oauth2/authorize", authorize)


def _emu(request: web.Request) -> Emulator:
    return request.app[EMULATOR]


def page(title: str, body: str, status: int = 200) -> web.Response:
    html = (
        f"<!doctype html><html lang=en><meta charset=utf-8><title>{escape(title)}</title>"
        f"<style>{STYLE}</style><header><a href='/'>Local Discord</a> · {escape(title)}</header>"
        f"<main>{body}</main></html>"
    )
    return web.Response(text=html, content_type="text/html", status=status)


def _humans(emu: Emulator) -> list[models.User]:
    return [u for u in emu.world.users.values() if not u.bot]


def _option(user: models.User, selected: str | None) -> str:
    chosen = " selected" if user.id == selected else ""
    return f"<option value='{user.id}'{chosen}>{escape(user.username)}</option>"


def _user_picker(
    emu: Emulator, selected: str | None = None, *, exclude: set[str] = frozenset()
) -> str:
    options = "".join(_option(u, selected) for u in _humans(emu) if u.id not in exclude)
    return (
        "<label for=user_id>Test user</label><select name=user_id id=user_id>"
        f"<option value=''>(a new test user)</option>{options}</select>"
        "<label for=username>Name for a new user (optional)</label>"
        "<input name=username id=username maxlength=32>"
    )


async def _picked_user(emu: Emulator, form: Any) -> str:
    return str(form.get("user_id") or "") or emu.create_user(form.get("username") or None).id


# -- index -----------------------------------------------------------------------------------


async def index(request: web.Request) -> web.StreamResponse:
    if request.headers.get("Upgrade", "").lower() == "websocket":
        return await _emu(request).gateway.handle(request)
    emu = _emu(request)
    w = emu.world
    parts = [
        f"<p class=muted>API <code>{escape(emu.api_base)}</code> · gateway "
        f"<code>{escape(emu.ws_url)}</code> · control <code>/_emulator/state</code></p>"
    ]
    for guild in w.guilds.values():
        channels = "".join(
            f"<li><a href='/channels/{cid}'>#{escape(w.channels[cid].name or '')}</a></li>"
            for cid in guild.channel_ids
        )
        invites = "".join(
            f"<li><a href='/invite/{escape(i.code)}'>{escape(i.code)}</a> "
            f"<span class=muted>uses {i.uses}/{i.max_uses or '∞'}</span></li>"
            for i in w.guild_invites(guild.id)[-20:]
        )
        parts.append(
            f"<h2>{escape(guild.name)}</h2><p>{len(guild.members)} members</p>"
            f"<h3>Channels</h3><ul>{channels}</ul>"
            f"<h3>Invites</h3><ul>{invites or '<li class=muted>none</li>'}</ul>"
        )
    users = "".join(
        f"<li>{escape(u.username)} <span class=muted>{u.id}</span></li>" for u in _humans(emu)
    )
    parts.append(
        f"<h3>Test users</h3><ul>{users}</ul><form method=post action='/users'>"
        "<label for=username>New test user</label><input name=username id=username>"
        "<p><button>Create user</button></p></form>"
    )
    return page("Home", "".join(parts))


async def create_user(request: web.Request) -> web.Response:
    form = await request.post()
    _emu(request).create_user(str(form.get("username") or "") or None)
    raise web.HTTPSeeOther("/")


# -- invites ---------------------------------------------------------------------------------


async def invite_page(request: web.Request, error: str = "") -> web.Response:
    emu = _emu(request)
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
        + f"<form method=post>{_user_picker(emu, exclude=exclude)}"
        "<p><button>Accept Invite</button></p></form>",
    )


async def accept_invite(request: web.Request) -> web.Response:
    emu = _emu(request)
    form = await request.post()
    code = request.match_info["code"]
    try:
        invite = emu.world.get_invite(code)
        user_id = await _picked_user(emu, form)
        emu.accept_invite(code, user_id)
    except DiscordError as error:
        return await invite_page(request, error.message)
    raise web.HTTPSeeOther(f"/channels/{invite.channel_id}?{urlencode({'as': user_id})}")


# -- channels, buttons, modals ---------------------------------------------------------------


def _buttons(message: dict[str, Any], channel_id: str, viewer: str) -> str:
    out = []
    for row in message.get("components", []):
        for item in row.get("components", []):
            if item.get("type") != 2:
                continue
            label = escape(item.get("label") or "…")
            if item.get("style") == 5:
                out.append(f"<a href='{escape(item.get('url') or '#')}'>{label}</a> ")
                continue
            disabled = " disabled" if item.get("disabled") else ""
            out.append(
                f"<form class=inline method=post action='/channels/{channel_id}/click'>"
                f"<input type=hidden name=user_id value='{escape(viewer)}'>"
                f"<input type=hidden name=message_id value='{message['id']}'>"
                f"<input type=hidden name=custom_id value='{escape(item.get('custom_id') or '')}'>"
                f"<button class=s{item.get('style', 1)}{disabled}>{label}</button></form> "
            )
    return "".join(out)


async def channel_page(request: web.Request) -> web.Response:
    emu = _emu(request)
    try:
        channel = emu.world.get_channel(request.match_info["channel_id"])
    except DiscordError as error:
        return page("Unknown channel", f"<p class=error>{escape(error.message)}</p>", 404)
    viewer = request.query.get("as", "")
    rows = []
    for message in emu.messages(channel.id, viewer or None):
        eph = message["flags"] & models.EPHEMERAL
        rows.append(
            f"<div class='msg{' eph' if eph else ''}'><span class=author>"
            f"{escape(message['author']['username'])}</span> <span class=muted>"
            f"{escape(message['timestamp'][:19])}{' · only you can see this' if eph else ''}"
            f"</span><div>{escape(message['content'])}</div>"
            f"{_buttons(message, channel.id, viewer) if viewer else ''}</div>"
        )
    picker = "".join(_option(u, viewer) for u in _humans(emu))
    notice = escape(request.query.get("notice", ""))
    return page(
        f"#{channel.name}",
        f"<form method=get><label for=as>Viewing as</label><select name=as id=as>"
        f"<option value=''>(nobody: buttons hidden)</option>{picker}</select>"
        f"<p><button>Switch</button></p></form>"
        + (f"<p class=error>{notice}</p>" if notice else "")
        + ("".join(rows) or "<p class=muted>No messages yet.</p>"),
    )


async def _after_interaction(emu: Emulator, interaction: models.Interaction) -> web.Response:
    """Wait (bounded) for the bot's answer, then show the modal or go back to the channel."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(interaction.settled.wait(), emu.world.interaction_timeout + 0.5)
    query = {"as": interaction.user_id}
    if interaction.modal is not None:
        raise web.HTTPSeeOther(f"/interactions/{interaction.id}/modal?{urlencode(query)}")
    if interaction.failed:
        query["notice"] = "This interaction failed"
    raise web.HTTPSeeOther(f"/channels/{interaction.channel_id}?{urlencode(query)}")


async def click(request: web.Request) -> web.Response:
    emu = _emu(request)
    form = await request.post()
    try:
        interaction = emu.click_button(
            str(form["user_id"]), str(form["message_id"]), str(form["custom_id"])
        )
    except DiscordError as error:
        query = urlencode({"as": form.get("user_id", ""), "notice": error.message})
        raise web.HTTPSeeOther(f"/channels/{request.match_info['channel_id']}?{query}") from None
    return await _after_interaction(emu, interaction)


async def modal_page(request: web.Request) -> web.Response:
    emu = _emu(request)
    interaction = emu.world.interactions.get(request.match_info["interaction_id"])
    if interaction is None or interaction.modal is None:
        return page("No modal", "<p class=error>There is no modal to show.</p>", 404)
    modal = interaction.modal
    fields = []
    for row in modal.get("components", []):
        for item in row.get("components", []):
            name = escape(item["custom_id"])
            attrs = " required" if item.get("required", True) else ""
            if item.get("min_length"):
                attrs += f" minlength={int(item['min_length'])}"
            if item.get("max_length"):
                attrs += f" maxlength={int(item['max_length'])}"
            if item.get("placeholder"):
                attrs += f" placeholder='{escape(item['placeholder'])}'"
            value = escape(item.get("value") or "")
            control = (
                f"<textarea name='{name}' id='{name}' rows=4{attrs}>{value}</textarea>"
                if item.get("style") == 2
                else f"<input name='{name}' id='{name}' value='{value}'{attrs}>"
            )
            fields.append(f"<label for='{name}'>{escape(item.get('label') or '')}</label>{control}")
    return page(
        modal.get("title") or "Form",
        f"<h1>{escape(modal.get('title') or '')}</h1><form method=post>"
        f"<input type=hidden name=__user_id value='{interaction.user_id}'>{''.join(fields)}"
        "<p><button>Submit</button></p></form>",
    )


async def submit_modal(request: web.Request) -> web.Response:
    emu = _emu(request)
    form = await request.post()
    values = {k: str(v) for k, v in form.items() if k != "__user_id"}
    try:
        interaction = emu.submit_modal(
            str(form["__user_id"]), request.match_info["interaction_id"], values
        )
    except DiscordError as error:
        return page("Could not submit", f"<p class=error>{escape(error.message)}</p>", 400)
    return await _after_interaction(emu, interaction)


# -- OAuth2 ----------------------------------------------------------------------------------


async def authorize_page(request: web.Request, error: str = "") -> web.Response:
    emu = _emu(request)
    query = request.query
    scopes = query.get("scope", "").split()
    hidden = "".join(
        f"<input type=hidden name='{k}' value='{escape(query.get(k, ''))}'>"
        for k in ("client_id", "redirect_uri", "scope", "state", "response_type")
    )
    items = "".join(f"<li>{escape(s)}</li>" for s in scopes)
    return page(
        "Authorize",
        (f"<p class=error>{escape(error)}</p>" if error else "")
        + f"<h1>{escape(emu.world.application.name)}</h1><p>wants to access your account:</p>"
        f"<ul>{items}</ul><form method=post>{hidden}{_user_picker(emu)}"
        "<p><button>Authorize</button></p></form>",
    )


async def authorize(request: web.Request) -> web.Response:
    emu = _emu(request)
    form = await request.post()
    try:
        user_id = await _picked_user(emu, form)
        url = emu.authorize_oauth(
            user_id,
            scopes=str(form.get("scope", "")).split(),
            redirect_uri=str(form.get("redirect_uri", "")),
            state=str(form["state"]) if form.get("state") else None,
            client_id=str(form.get("client_id", "")),
        )
    except (OAuthError, DiscordError) as error:
        return await authorize_page(request, str(error))
    raise web.HTTPFound(url)
