"""Start-up and re-IDENTIFY for the invite-tracking cog: restore each guild's persisted
snapshot and queue the joins that happened while the bot was away, for the worker to attribute
under the same rules as live joins (a member's referral role makes them exact).
"""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import datetime
from typing import TYPE_CHECKING

import nextcord

from analytics.joins import recorded_members
from botworker._queries import managed_invites_created_since
from botworker.attribution import InviteState
from botworker.snapshots import load_snapshot
from botworker.sync import run_sync

from ._logic import GuildInvites, PendingJoin, Timers
from ._roles import role_ids

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from nextcord.ext import commands

log = logging.getLogger("botworker.invite_tracking")

RESTART_MAX_SECONDS = 60


class Reconciliation:
    """Mixed into the invite-tracking cog (which provides the queues and the workers)."""

    bot: commands.Bot
    guilds: dict[int, GuildInvites]
    timers: Timers
    _stopping: bool
    _restarts: dict[int, asyncio.Task[None]]
    _restart_tries: dict[int, int]
    _reconcile_from: dict[int, datetime]
    _wake: dict[int, asyncio.Event]
    _units: dict[int, asyncio.Lock]
    _early: dict[int, list[PendingJoin]]
    _enqueue: Callable[[int, list[PendingJoin]], None]
    _ensure_worker: Callable[..., None]
    restore_unrecorded: Callable[[nextcord.Guild], Awaitable[None]]
    kept_members: Callable[[int], set[str]]
    link_offline_oauth: Callable[[nextcord.Guild, list[nextcord.Member]], Awaitable[set[str]]]

    async def start_guild(self, guild: nextcord.Guild, *, restore: bool) -> None:
        """Track `guild`; with `restore`, queue the joins missed while the bot was away.

        1. Known guild (a re-IDENTIFY): queue members who joined after the snapshot and are
           not recorded; the worker attributes them with the next fetch.
        2. New tracker: the persisted snapshot (if `restore` and there is one), plus managed
           invites created since, is the baseline; offline joins are queued the same way.
           Without a baseline the first fetch becomes it (joins queued meanwhile: `unknown`).
        3. The worker fetches at once, so the baseline is never older than the start-up.
        """
        tracker = self.guilds.get(guild.id)
        if tracker is None:
            try:
                persisted = await self._load(guild.id) if restore else None
                if restore:
                    await self.restore_unrecorded(guild)
            except Exception:  # the database or the cache does not answer: nothing is started
                self._start_again(guild)
                return
            tracker = GuildInvites(str(guild.id), *(persisted or (None, None)), timers=self.timers)
            self.guilds[guild.id] = tracker
            self._wake[guild.id] = asyncio.Event()
            self._units[guild.id] = asyncio.Lock()
            if persisted is None:
                log.info("guild=%s no persisted invite snapshot: taking one", guild.id)
        if tracker.taken_at is not None and restore:
            # Invites we made while away are part of the baseline: consumed meanwhile, they
            # would otherwise be in neither list and their uses invisible. A retry reconciles
            # from where the first try would have (the running worker has moved on since).
            since = min(tracker.taken_at, self._reconcile_from.get(guild.id, tracker.taken_at))
            try:
                for invite in await run_sync(managed_invites_created_since, str(guild.id), since):
                    tracker.invite_created(invite)
                await self._queue_offline_joins(guild, tracker, since)
            except Exception:
                self._reconcile_from[guild.id] = since
                self._start_again(guild)
                return
        self._reconcile_from.pop(guild.id, None)
        self._restart_tries.pop(guild.id, None)
        pending = self._restarts.pop(guild.id, None)
        if pending is not None and pending is not asyncio.current_task():
            pending.cancel()
        self._enqueue(guild.id, self._early.pop(guild.id, []))
        self._ensure_worker(guild.id, refresh=True)

    def _start_again(self, guild: nextcord.Guild) -> None:
        """Start-up could not read the database (or the cache holding the snapshot): try again
        later, 1 s doubling to a minute. A guild not tracked yet is not started meanwhile (its
        joins wait in the early queue), so no snapshot replaces the one that covers the joins
        made while the bot was away; a guild already tracked (a reconnect) goes on, and the
        retry reconciles from where this try began."""
        tries = self._restart_tries.get(guild.id, 0) + 1
        self._restart_tries[guild.id] = tries
        delay = min(RESTART_MAX_SECONDS, 2 ** (tries - 1))
        log.exception(
            "guild=%s joins made while the bot was away not reconciled (try %d); trying again "
            "in %d s, new joins wait meanwhile",
            guild.id,
            tries,
            delay,
        )

        async def later() -> None:
            await asyncio.sleep(delay)
            current = self.bot.get_guild(guild.id)
            if not self._stopping and current is not None:
                await self.start_guild(current, restore=True)

        self._restarts[guild.id] = asyncio.create_task(later(), name=f"reconcile-{guild.id}")

    async def _load(self, guild_id: int) -> tuple[dict[str, InviteState], object] | None:
        """The persisted snapshot; None when there is none or it cannot be decoded (a fresh one
        is taken). A store that does not answer raises: start-up is tried again."""
        try:
            return await run_sync(load_snapshot, str(guild_id))
        except (ValueError, KeyError, TypeError):
            log.exception("guild=%s persisted invite snapshot unreadable", guild_id)
            return None

    async def _queue_offline_joins(
        self, guild: nextcord.Guild, tracker: GuildInvites, since: datetime
    ) -> None:
        arrived = [m for m in guild.members if not m.bot and m.joined_at and m.joined_at > since]
        # OAuth joins first: welcomed if nobody has been, and never attributed from invites.
        recorded = await self.link_offline_oauth(guild, arrived)
        recorded |= await run_sync(recorded_members, str(guild.id), since)
        recorded |= self.kept_members(guild.id)  # decided already: recorded with their decision
        missed = sorted(
            (m for m in arrived if str(m.id) not in recorded), key=lambda m: m.joined_at
        )
        now = time.monotonic()
        joins = [
            PendingJoin(
                str(m.id),
                m.name,
                m.joined_at,
                bool(m.flags.did_rejoin),
                now,
                role_ids=role_ids(m),
            )
            for m in missed
        ]
        if joins:
            log.info(
                "guild=%s reconciling %d join(s) since %s: members=%s",
                guild.id,
                len(joins),
                since.isoformat(),
                ",".join(j.member_id for j in joins),
            )
        self._enqueue(guild.id, joins)
