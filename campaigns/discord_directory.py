"""The bot's view of Discord for the campaign form: its guilds, their channels and roles.

Read through our REST client (`GET /users/@me/guilds`, `/guilds/{id}/channels`,
`/guilds/{id}/roles`, as Discord documents them), cached for
`DISCORD_DIRECTORY_CACHE_SECONDS` so the admin form costs Discord nothing on most loads, and
refreshed on demand. When the bot cannot see Discord (no token, an error, a guild it is not
in) the answer says why in words, and the form falls back to typed ids.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache

from botworker.discord_rest import DiscordError, DiscordHTTPError, discord
from campaigns.validators import is_snowflake

log = logging.getLogger(__name__)

# Channel types an invite and a welcome can go to: GUILD_TEXT, GUILD_ANNOUNCEMENT.
POSTABLE_CHANNEL_TYPES = (0, 5)
# A lookup never keeps an admin page waiting longer than this (seconds).
BUDGET = 4.0
# A failed lookup is remembered this long (seconds), so a page that asks twice, or a manager
# reloading, does not wait on a failing Discord again; "Refresh from Discord" asks at once.
FAILURE_SECONDS = 15
NO_GUILD = "Choose the server first."
NO_TOKEN = (
    "The bot has no token (DISCORD_BOT_TOKEN is empty), so its view of Discord is not "
    "available: type the ids instead."
)


@dataclass(frozen=True)
class Option:
    id: str
    name: str
    note: str = ""  # e.g. why the bot could not give this role

    @property
    def label(self) -> str:
        return f"{self.name} ({self.note})" if self.note else self.name


ABOVE_THE_BOT = "above the bot's highest role: it cannot give it"


@dataclass(frozen=True)
class GuildDirectory:
    """What the bot sees of one guild; `error` says why it sees nothing."""

    guild_id: str
    channels: list[Option] = field(default_factory=list)
    roles: list[Option] = field(default_factory=list)
    error: str = ""

    @property
    def role_names(self) -> dict[str, str]:
        return {role.id: role.name for role in self.roles}


@dataclass(frozen=True)
class Guilds:
    """The guilds the bot is in; `error` says why the list is missing."""

    guilds: list[Option] = field(default_factory=list)
    error: str = ""


def _key(*parts: str) -> str:
    return ":".join(("discord-directory", "v1", settings.DISCORD_API_BASE, *parts))


def _why(exc: DiscordError, what: str) -> str:
    if isinstance(exc, DiscordHTTPError) and exc.status in (401, 403):
        return f"The bot is not allowed to read {what} ({exc.status}: {exc.message})."
    if isinstance(exc, DiscordHTTPError) and exc.status == 404:
        return f"The bot cannot see {what}: is it in that server?"
    return f"Discord did not answer for {what} ({exc}); try again, or type the id."


def bot_guilds(*, refresh: bool = False) -> Guilds:
    """The guilds the bot is in, by name."""
    if not settings.DISCORD_BOT_TOKEN:
        return Guilds(error=NO_TOKEN)
    key = _key("guilds")
    cached = None if refresh else cache.get(key)
    if cached is not None:
        return cached
    try:
        found = discord().bot_guilds(budget=BUDGET)
    except DiscordError as exc:
        log.warning("discord directory: guilds unavailable: %s", exc)
        failed = Guilds(error=_why(exc, "the bot's servers"))
        cache.set(key, failed, FAILURE_SECONDS)
        return failed
    answer = Guilds(
        guilds=sorted(
            (Option(str(g["id"]), str(g.get("name") or g["id"])) for g in found),
            key=lambda o: o.name.casefold(),
        )
    )
    cache.set(key, answer, settings.DISCORD_DIRECTORY_CACHE_SECONDS)
    return answer


def guild_directory(guild_id: str, *, refresh: bool = False) -> GuildDirectory:
    """Channels a member can be invited into or welcomed in (by position), and the roles the
    bot could give (highest first, without @everyone and integration-managed roles)."""
    guild_id = str(guild_id or "")
    if not is_snowflake(guild_id):
        return GuildDirectory(guild_id, error=NO_GUILD)
    if not settings.DISCORD_BOT_TOKEN:
        return GuildDirectory(guild_id, error=NO_TOKEN)
    key = _key("guild", guild_id)
    cached = None if refresh else cache.get(key)
    if cached is not None:
        return cached
    client = discord()
    try:
        channels = client.guild_channels(guild_id, budget=BUDGET)
        roles = client.guild_roles(guild_id, budget=BUDGET)
    except DiscordError as exc:
        log.warning("discord directory: guild=%s unavailable: %s", guild_id, exc)
        failed = GuildDirectory(guild_id, error=_why(exc, f"server {guild_id}"))
        cache.set(key, failed, FAILURE_SECONDS)
        return failed
    top = _bot_top_position(client, guild_id, roles)
    answer = GuildDirectory(
        guild_id,
        channels=[
            Option(str(c["id"]), "#" + str(c.get("name") or c["id"]))
            for c in sorted(channels, key=lambda c: (c.get("position", 0), int(c["id"])))
            if c.get("type") in POSTABLE_CHANNEL_TYPES
        ],
        roles=[
            Option(
                str(r["id"]),
                str(r.get("name") or r["id"]),
                ABOVE_THE_BOT if top is not None and r.get("position", 0) >= top else "",
            )
            for r in sorted(roles, key=lambda r: (-r.get("position", 0), int(r["id"])))
            if str(r["id"]) != guild_id and not r.get("managed")
        ],
    )
    cache.set(key, answer, settings.DISCORD_DIRECTORY_CACHE_SECONDS)
    return answer


def _bot_top_position(client, guild_id: str, roles: list[dict]) -> int | None:
    """The position of the bot's highest role: Discord lets a bot give only roles below it.
    None when it cannot be read (then no role is marked)."""
    try:
        member = client.bot_member(guild_id, budget=BUDGET)
    except (DiscordError, KeyError, TypeError) as exc:
        log.info("discord directory: guild=%s bot's roles unknown: %s", guild_id, exc)
        return None
    positions = {str(r["id"]): r.get("position", 0) for r in roles}
    held = [positions[str(r)] for r in member.get("roles", []) if str(r) in positions]
    return max(held, default=0)


def role_label(role_id: str, names: dict[str, str]) -> str:
    """ "Member (1300…)" when the name is known, else the bare id."""
    name = names.get(str(role_id))
    return f"{name} ({role_id})" if name else str(role_id)


def describe_roles(guild_id: str, role_ids: object) -> str:
    """Role ids as "Member (1300…); VIP (1300…)", named as the bot sees the guild now (bare ids
    when it cannot see it); "" for none."""
    if not isinstance(role_ids, list) or not role_ids:
        return ""
    names = guild_directory(guild_id).role_names
    return "; ".join(role_label(str(r), names) for r in role_ids)
