"""A channel as a member sees it — messages with markdown and mentions, kept current without
reloading — and what a member does there: click a button, fill in a modal."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from html import escape
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from aiohttp import web

from .. import models
from ..errors import DiscordError
from .base import channel_nav, emu_of, option, page
from .markup import render

if TYPE_CHECKING:
    from ..server import Emulator


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


def _messages_html(emu: Emulator, channel: models.Channel, viewer: str) -> str:
    rows = []
    for message in emu.messages(channel.id, viewer or None):
        eph = message["flags"] & models.EPHEMERAL
        edited = " (edited)" if message.get("edited_timestamp") else ""
        rows.append(
            f"<div class='msg{' eph' if eph else ''}' data-id='{message['id']}'>"
            f"<span class=author>{escape(message['author']['username'])}</span> <span class=muted>"
            f"{escape(message['timestamp'][:19])}{edited}"
            f"{' · only you can see this' if eph else ''}</span>"
            f"<div class=content>{render(message['content'], emu.world, channel.guild_id)}</div>"
            f"{_buttons(message, channel.id, viewer) if viewer else ''}</div>"
        )
    return "".join(rows) or "<p class=muted>No messages yet.</p>"


def _latest(emu: Emulator, guild_id: str | None, viewer: str) -> dict[str, str]:
    """Each of the guild's channels' newest message id that `viewer` can see ("0": none yet)."""
    guild = emu.world.guilds.get(guild_id or "")
    latest = {}
    for cid in guild.channel_ids if guild is not None else []:
        visible = emu.world.channel_messages(cid, viewer or None)
        latest[cid] = visible[-1].id if visible else "0"
    return latest


def _version(html: str) -> str:
    return hashlib.sha1(html.encode(), usedforsecurity=False).hexdigest()[:16]


def _live_url(channel_id: str, viewer: str) -> str:
    return f"/channels/{channel_id}/live" + (f"?{urlencode({'as': viewer})}" if viewer else "")


async def channel_page(request: web.Request) -> web.Response:
    emu = emu_of(request)
    try:
        channel = emu.world.get_channel(request.match_info["channel_id"])
    except DiscordError as error:
        return page("Unknown channel", f"<p class=error>{escape(error.message)}</p>", 404)
    viewer = request.query.get("as", "")
    messages = _messages_html(emu, channel, viewer)
    picker = "".join(option(u, viewer) for u in emu.world.users.values() if not u.bot)
    notice = escape(request.query.get("notice", ""))
    nav = channel_nav(emu, channel.guild_id, channel.id, viewer) if channel.guild_id else ""
    return page(
        f"#{channel.name}",
        f"<form method=get><label for=as>Viewing as</label><select name=as id=as>"
        f"<option value=''>(nobody: buttons hidden)</option>{picker}</select>"
        f"<p><button>Switch</button></p></form>"
        + f"<p class=error id=notice role=status>{notice}</p>"
        + f"<div id=messages data-version='{_version(messages)}'>{messages}</div>",
        nav=nav,
        live=_live_url(channel.id, viewer),
        channel_id=channel.id,
    )


async def channel_live(request: web.Request) -> web.Response:
    """For the page's script: the messages' HTML, its version, and each channel's latest id."""
    emu = emu_of(request)
    try:
        channel = emu.world.get_channel(request.match_info["channel_id"])
    except DiscordError as error:
        return web.json_response({"message": error.message}, status=404)
    viewer = request.query.get("as", "")
    html = _messages_html(emu, channel, viewer)
    return web.json_response(
        {
            "html": html,
            "version": _version(html),
            "latest": _latest(emu, channel.guild_id, viewer),
        },
        headers={"Cache-Control": "no-store"},
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
    emu = emu_of(request)
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
    emu = emu_of(request)
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
    emu = emu_of(request)
    form = await request.post()
    values = {k: str(v) for k, v in form.items() if k != "__user_id"}
    try:
        interaction = emu.submit_modal(
            str(form["__user_id"]), request.match_info["interaction_id"], values
        )
    except DiscordError as error:
        return page("Could not submit", f"<p class=error>{escape(error.message)}</p>", 400)
    return await _after_interaction(emu, interaction)
