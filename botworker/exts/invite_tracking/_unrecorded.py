"""Joins the invite-tracking cog decided but could not record, because the database was
unavailable: kept (in memory, and in the snapshot store with the snapshot that counts them) and
recorded when the database is back, with the decision already made. A kept join goes first into
the guild's next batch; a quiet guild gets a retry of its own, backing off while the database
stays down. Recording is keyed by (guild, member, join time), so a retry records a join once.
"""

from __future__ import annotations

import asyncio
import logging
import time

import nextcord
from django.conf import settings
from django.db import InterfaceError, OperationalError
from nextcord.ext import commands

from botworker.attribution import Decision
from botworker.snapshots import load_unrecorded, save_unrecorded
from botworker.sync import run_sync, run_sync_joins
from referrals.evidence import attribution_inputs

from ._logic import PendingJoin
from ._recording import Batch

log = logging.getLogger("botworker.invite_tracking")

# What a database that is down (or a connection that broke) raises: worth recording again.
DATABASE_DOWN = (OperationalError, InterfaceError)
MAX_RETRY_SECONDS = 60.0


def join_of(row: dict) -> tuple[PendingJoin, Decision]:
    """The join and its decision back from `record_join`'s keyword arguments."""
    join = PendingJoin(
        row["member_id"], row["username"], row["joined_at"], row["rejoin_flag"], time.monotonic()
    )
    decision = Decision(
        row["member_id"],
        row["decision"],
        row["invite_code"],
        row["link_id"],
        tuple(row["candidates"]),
        row["credit_link_id"],
    )
    return join, decision


class Unrecorded:
    """Mixed into the invite-tracking cog (which provides `bot`, `_hand_over` and `_stopping`)."""

    bot: commands.Bot
    _stopping: bool
    _kept: dict[int, dict[tuple[str, str], dict]]
    _kept_changed: set[int]
    _retries: dict[int, asyncio.Task[None]]

    def keep_unrecorded(self, guild: nextcord.Guild, row: dict, error: BaseException) -> bool:
        """Keep a join whose recording failed because the database is down. False (not kept)
        for any other failure: retrying a join the database refused would fail forever."""
        if not isinstance(error, DATABASE_DOWN):
            return False
        key = (row["member_id"], row["joined_at"].isoformat())
        self._kept.setdefault(guild.id, {})[key] = row
        self._kept_changed.add(guild.id)
        log.warning(
            "guild=%s join of member %s (%s) not recorded, database unavailable (%s): kept, "
            "recorded when it is back (%d kept)",
            guild.id,
            row["member_id"],
            row["decision"],
            type(error).__name__,
            len(self._kept[guild.id]),
        )
        self._schedule_retry(guild)
        return True

    def with_unrecorded(self, guild_id: int, batch: Batch) -> Batch:
        """`batch` with the guild's kept joins first (oldest first): they are taken out, and
        kept again if they fail again."""
        kept = sorted(self._kept.pop(guild_id, {}).values(), key=lambda row: row["joined_at"])
        if not kept:
            return batch
        self._kept_changed.add(guild_id)
        joins, decisions = zip(*(join_of(row) for row in kept), strict=True)
        return Batch(
            [*joins, *batch.joins], [*decisions, *batch.decisions], batch.inputs, batch.snapshot
        )

    def unrecorded(self, guild_id: int) -> list[dict]:
        """What the snapshot store must hold for the guild."""
        return list(self._kept.get(guild_id, {}).values())

    def unrecorded_to_save(self, guild_id: int) -> list[dict] | None:
        """The kept joins to write with the guild's snapshot; None when there are none and
        none were written before (nothing to write)."""
        if guild_id in self._kept_changed or self._kept.get(guild_id):
            return self.unrecorded(guild_id)
        return None

    def kept_members(self, guild_id: int) -> set[str]:
        return {member_id for member_id, _ in self._kept.get(guild_id, {})}

    async def persist_unrecorded(self, guild_id: int) -> None:
        """Write the kept joins when they changed and no snapshot write carried them."""
        if guild_id not in self._kept_changed:
            return
        rows = self.unrecorded(guild_id)
        try:
            stored = await run_sync_joins(save_unrecorded, str(guild_id), rows)
            self._kept_changed.discard(guild_id)
        except Exception as exc:
            stored = False
            log.warning("guild=%s kept joins not persisted (%s)", guild_id, exc)
        if not stored and rows:
            log.warning("guild=%s %d kept join(s) held in memory only", guild_id, len(rows))

    async def restore_unrecorded(self, guild: nextcord.Guild) -> None:
        """At start-up: the joins a previous run kept, recorded with the first batch. Raises
        when the store does not answer (start-up is tried again: a snapshot written without
        them would drop them)."""
        rows = await run_sync(load_unrecorded, str(guild.id))
        if not rows:
            return
        kept = self._kept.setdefault(guild.id, {})
        for row in rows:
            kept.setdefault((row["member_id"], row["joined_at"].isoformat()), row)
        log.info("guild=%s recording %d join(s) kept by the last run", guild.id, len(rows))
        self._schedule_retry(guild, delay=0.0)

    def _schedule_retry(self, guild: nextcord.Guild, delay: float | None = None) -> None:
        task = self._retries.get(guild.id)
        if task is None or task.done():
            self._retries[guild.id] = asyncio.create_task(
                self._retry(guild, delay), name=f"join-retry-{guild.id}"
            )

    async def _retry(self, guild: nextcord.Guild, delay: float | None) -> None:
        """Wait, then hand the kept joins to the recorder once the database answers again."""
        step = float(settings.BOT_RECORD_RETRY_SECONDS)
        delay = step if delay is None else delay
        while not self._stopping and self._kept.get(guild.id):
            await asyncio.sleep(delay)
            delay = min(max(delay * 2, step), MAX_RETRY_SECONDS)
            try:
                inputs = await run_sync_joins(attribution_inputs, str(guild.id))
            except Exception as exc:
                log.info("guild=%s database still unavailable (%s)", guild.id, exc)
                continue
            self._hand_over(guild, Batch([], [], inputs, None))  # type: ignore[attr-defined]
            return
