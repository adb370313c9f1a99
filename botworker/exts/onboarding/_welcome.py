"""Where the welcome message goes, and sending it there.

A campaign's welcome channel may be deleted, hidden from the bot or read-only by the time a
member joins; the member must still get their button. So the message goes to the first place
that works, in this order:

1. the campaign's welcome channel(s),
2. the guild's system channel,
3. text channels named like "welcome", then like "general",
4. any other text channel the bot can view and send in (by position),
5. a DM to the member.

Steps 1–4 skip channels the bot's cached permissions rule out, and a send Discord refuses anyway
(permissions changed since the cache, channel gone) moves on to the next candidate.
"""

from __future__ import annotations

import logging

import nextcord

from analytics.joins import Welcome
from botworker.exts._failures import DISCORD_ERRORS, describe
from campaigns.validators import is_snowflake

from . import _views

log = logging.getLogger(__name__)

NAME_HINTS = ("welcome", "general")
MENTIONS = nextcord.AllowedMentions(everyone=False, roles=False, users=True, replied_user=False)


def candidate_channels(
    guild: nextcord.Guild, channel_ids: tuple[str, ...]
) -> list[nextcord.TextChannel]:
    """Text channels to try, best first, without duplicates, only where the bot can post."""
    ordered: list[nextcord.abc.GuildChannel | None] = []
    for raw in channel_ids:
        if is_snowflake(str(raw)):
            ordered.append(guild.get_channel(int(raw)))
    ordered.append(guild.system_channel)
    by_position = sorted(guild.text_channels, key=lambda c: (c.position, c.id))
    for hint in NAME_HINTS:
        ordered.extend(c for c in by_position if hint in c.name.casefold())
    ordered.extend(by_position)
    chosen: list[nextcord.TextChannel] = []
    for channel in ordered:
        fresh = isinstance(channel, nextcord.TextChannel) and channel not in chosen
        if fresh and _can_post(guild, channel):
            chosen.append(channel)
    return chosen


def _can_post(guild: nextcord.Guild, channel: nextcord.TextChannel) -> bool:
    me = guild.me
    if me is None:
        return False
    allowed = channel.permissions_for(me)
    return allowed.view_channel and allowed.send_messages


async def deliver(member: nextcord.Member, welcome: Welcome) -> str | None:
    """Post the welcome with its button; return where it went (a channel id or "DM"), or None
    when nothing worked (logged as an error: the member has no way to start onboarding)."""
    guild = member.guild
    for channel in candidate_channels(guild, welcome.channel_ids):
        try:
            await channel.send(
                welcome.text, view=_views.start_view(welcome.session_id), allowed_mentions=MENTIONS
            )
        except DISCORD_ERRORS as exc:
            # A network failure may hide a post Discord made: a second welcome elsewhere is
            # better than none.
            log.warning(
                "welcome not postable guild=%s member=%s channel=%s session=%s: %s",
                guild.id,
                member.id,
                channel.id,
                welcome.session_id,
                describe(exc),
            )
            continue
        log.info(
            "welcome posted guild=%s member=%s channel=%s session=%s campaign=%r",
            guild.id,
            member.id,
            channel.id,
            welcome.session_id,
            welcome.campaign_name,
        )
        return str(channel.id)
    try:
        await member.send(
            welcome.text, view=_views.start_view(welcome.session_id), allowed_mentions=MENTIONS
        )
    except DISCORD_ERRORS as exc:
        log.error(
            "welcome NOT delivered guild=%s member=%s session=%s: no channel the bot can post "
            "in and the DM failed (%s); check the bot's View Channel/Send Messages",
            guild.id,
            member.id,
            welcome.session_id,
            describe(exc),
        )
        return None
    log.info(
        "welcome posted guild=%s member=%s channel=DM session=%s campaign=%r",
        guild.id,
        member.id,
        welcome.session_id,
        welcome.campaign_name,
    )
    return "DM"
