"""OAuth joins ("Join with Discord") seen by the invite-tracking cog: linked to the web app's
attempt, welcomed once, and never part of invite attribution (they spend no invite, and would
only make other joins of their burst look ambiguous).

- A live GUILD_MEMBER_ADD is linked before it may be queued; when the database cannot say
  whether it is an OAuth join, the join is held out of the queue and asked about again until
  it can (then linked, or queued as an invite join).
- At start-up, joins made while the bot was away are linked first; an OAuth join the web app
  recorded meanwhile is welcomed then (the attempt's `welcomed_at` claim makes that once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import nextcord
from django.conf import settings
from nextcord.ext import commands

from analytics.oauth_joins import link_oauth_join, link_offline_oauth_joins
from botworker.sync import run_sync_joins

from ._logic import PendingJoin
from ._unrecorded import MAX_RETRY_SECONDS

log = logging.getLogger("botworker.invite_tracking")


class OAuthJoins:
    """Mixed into the invite-tracking cog (which provides `bot`, `_enqueue` and `_stopping`)."""

    bot: commands.Bot
    _stopping: bool
    _enqueue: Callable[[int, list[PendingJoin]], None]

    async def linked_to_oauth(
        self, member: nextcord.Member, join: PendingJoin, *, retry: bool = True
    ) -> bool:
        """True when `join` is an OAuth join (linked, and welcomed if it is its first time) or
        is held until the database can tell; False: an invite join, for the tracker."""
        try:
            outcome = await run_sync_joins(
                link_oauth_join,
                guild_id=str(member.guild.id),
                member_id=join.member_id,
                username=join.username,
                joined_at=member.joined_at,
            )
        except Exception as exc:
            if not retry:
                raise
            log.warning(
                "guild=%s member=%s not yet known to be an OAuth join or not (%s): held out of "
                "invite attribution until the database answers",
                member.guild.id,
                join.member_id,
                type(exc).__name__,
            )
            self.in_background(self._link_later(member, join))  # type: ignore[attr-defined]
            return True
        if outcome is None:
            return False
        self.oauth_linked(member, outcome)
        return True

    def oauth_linked(self, member: nextcord.Member, outcome) -> None:
        self.bot.dispatch("join_recorded", member.guild.id, str(member.id), outcome)
        if outcome.welcome is not None:
            self.bot.dispatch("member_attributed", member, outcome)

    async def _link_later(self, member: nextcord.Member, join: PendingJoin) -> None:
        delay = float(settings.BOT_RECORD_RETRY_SECONDS)
        while not self._stopping:
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)
            try:
                if not await self.linked_to_oauth(member, join, retry=False):
                    self._enqueue(member.guild.id, [join])
                return
            except Exception as exc:
                log.info(
                    "guild=%s member=%s: still no answer (%s)", member.guild.id, join.member_id, exc
                )
        log.info(
            "guild=%s member=%s: reconciled at the next start", member.guild.id, join.member_id
        )

    async def link_offline_oauth(
        self, guild: nextcord.Guild, members: list[nextcord.Member]
    ) -> set[str]:
        """The OAuth joins among `members` (who joined while the bot was away): linked, and
        welcomed when nobody has welcomed them yet. Their ids, for reconciliation to skip."""
        rows = [(str(m.id), m.name, m.joined_at) for m in members if m.joined_at]
        linked = await run_sync_joins(link_offline_oauth_joins, str(guild.id), rows)
        for member in members:
            outcome = linked.get(str(member.id))
            if outcome is not None:
                self.oauth_linked(member, outcome)
        if linked:
            log.info("guild=%s %d OAuth join(s) made while away linked", guild.id, len(linked))
        return set(linked)
