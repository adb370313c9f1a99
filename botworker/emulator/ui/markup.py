"""Message content as Discord's clients show it: markdown and mentions, rendered safely.

The content is HTML-escaped first; only then are the markdown markers (which escaping leaves
alone) and the escaped mention forms (`&lt;@id&gt;`) replaced by tags, and every name put into
a tag is escaped too, so nothing a message says can become markup. Code (`` `x` ``, fenced
blocks) is kept verbatim. Supported, as in Discord's "Markdown Text 101": **bold**, *italic* /
_italic_, __underline__, ~~strikethrough~~, ||spoiler||, inline code, code blocks, line breaks;
mentions <@user> / <@!user> (the member's nickname, else display name, else username),
<@&role>, <#channel>.
"""

from __future__ import annotations

import re
from html import escape
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..state import World

_CODE = re.compile(r"```(?:[a-z0-9_+-]*\n)?(.+?)```|`([^`\n]+)`", re.DOTALL)
_USER = re.compile(r"&lt;@!?(\d{15,21})&gt;")
_ROLE = re.compile(r"&lt;@&amp;(\d{15,21})&gt;")
_CHANNEL = re.compile(r"&lt;#(\d{15,21})&gt;")
_STYLES = [
    (re.compile(r"\*\*(.+?)\*\*", re.DOTALL), "strong"),
    (re.compile(r"__(.+?)__", re.DOTALL), "u"),
    (re.compile(r"\*(?!\s)(.+?)(?<!\s)\*", re.DOTALL), "em"),
    (re.compile(r"(?<![\w])_(?!\s)(.+?)(?<!\s)_(?![\w])", re.DOTALL), "em"),
    (re.compile(r"~~(.+?)~~", re.DOTALL), "s"),
    (re.compile(r"\|\|(.+?)\|\|", re.DOTALL), "span class=spoiler"),
]
_PLACEHOLDER = "\x00{}\x00"


def render(content: str, world: World, guild_id: str | None) -> str:
    """HTML for a message's `content` (safe to put inside an element)."""
    kept: list[str] = []  # finished HTML (code, mentions) that markdown must not touch

    def keep(html: str) -> str:
        kept.append(html)
        return _PLACEHOLDER.format(len(kept) - 1)

    def code(match: re.Match[str]) -> str:
        block, inline = match.group(1), match.group(2)
        return keep(f"<pre>{block}</pre>" if block is not None else f"<code>{inline}</code>")

    text = _CODE.sub(code, escape(content.replace("\x00", "")))
    text = _USER.sub(lambda m: keep(_mention("@" + _user_name(world, guild_id, m[1]))), text)
    text = _ROLE.sub(lambda m: keep(_mention("@" + _role_name(world, guild_id, m[1]))), text)
    text = _CHANNEL.sub(lambda m: keep(_channel(world, m[1])), text)
    for pattern, tag in _STYLES:
        closing = tag.split()[0]
        text = pattern.sub(lambda m, t=tag, c=closing: f"<{t}>{m[1]}</{c}>", text)
    text = text.replace("\n", "<br>")
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m[1])], text)


def _mention(label: str) -> str:
    return f"<span class=mention>{escape(label)}</span>"


def _user_name(world: World, guild_id: str | None, user_id: str) -> str:
    user = world.users.get(user_id)
    if user is None:
        return "unknown-user"
    guild = world.guilds.get(guild_id or "")
    member = guild.members.get(user_id) if guild is not None else None
    return (member.nick if member else None) or user.global_name or user.username


def _role_name(world: World, guild_id: str | None, role_id: str) -> str:
    guild = world.guilds.get(guild_id or "")
    role = guild.roles.get(role_id) if guild is not None else None
    return role.name if role is not None else "deleted-role"


def _channel(world: World, channel_id: str) -> str:
    channel = world.channels.get(channel_id)
    if channel is None:
        return _mention("#unknown")
    name = escape(f"#{channel.name or ''}")
    return f"<a class=mention href='/channels/{channel_id}'>{name}</a>"
