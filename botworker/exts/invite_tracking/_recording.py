"""Recording decided batches for the invite-tracking cog: off the worker's path, in order.

The worker decides a batch and goes on to the next fetch; a recorder per guild writes each
batch's joins (one transaction), then persists the snapshot the batch left behind, then tells
the other extensions. Recording first keeps the crash invariant: a snapshot never covers joins
that were not recorded, so the next start reconciles anything lost (joins the database was not
there to record are kept, and written with the snapshot: see `_unrecorded`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime

import nextcord
from nextcord.ext import commands

from analytics.joins import record_joins
from botworker.attribution import Decision, InviteState
from botworker.snapshots import save_snapshot
from botworker.sync import run_sync_joins
from referrals.evidence import AttributionInputs

from ._logic import PendingJoin

log = logging.getLogger("botworker.invite_tracking")


@dataclass(frozen=True)
class Batch:
    """A decided batch on its way to the recorder, with the snapshot it leaves behind."""

    joins: list[PendingJoin]
    decisions: list[Decision]
    inputs: AttributionInputs | None
    snapshot: tuple[dict[str, InviteState], datetime] | None


class Recording:
    """Mixed into the invite-tracking cog (which provides `bot`, `drop_referral_roles` and
    the kept joins of `Unrecorded`)."""

    bot: commands.Bot
    _kept_changed: set[int]
    with_unrecorded: Callable[[int, Batch], Batch]
    keep_unrecorded: Callable[[nextcord.Guild, dict, BaseException], bool]
    unrecorded_to_save: Callable[[int], list[dict] | None]
    persist_unrecorded: Callable[[int], Awaitable[None]]
    _recorded: dict[int, asyncio.Queue[Batch]]
    _recorders: dict[int, asyncio.Task[None]]

    def _hand_over(self, guild: nextcord.Guild, batch: Batch) -> None:
        """Queue a decided batch for the guild's recorder (started on first use)."""
        queue = self._recorded.setdefault(guild.id, asyncio.Queue())
        queue.put_nowait(batch)
        task = self._recorders.get(guild.id)
        if task is None or task.done():
            self._recorders[guild.id] = asyncio.create_task(
                self._recorder(guild, queue), name=f"join-recorder-{guild.id}"
            )

    async def _recorder(self, guild: nextcord.Guild, queue: asyncio.Queue[Batch]) -> None:
        """Record batches in the order they were decided, each before its snapshot is
        persisted: a crash in between leaves joins that the next start reconciles, never joins
        that no snapshot window covers. Batches that queued up while one was being written are
        written together (one transaction, one wait for SQLite's write lock), so a burst costs
        the recorder one round per write, not one per fetch."""
        while True:
            group = [self.with_unrecorded(guild.id, await queue.get())]
            while not queue.empty():
                group.append(queue.get_nowait())
            started = time.monotonic()
            try:
                await self._record(guild, group)
                log.debug(
                    "guild=%s %d batch(es), %d join(s) recorded in %.0f ms (%d waiting)",
                    guild.id,
                    len(group),
                    sum(len(b.joins) for b in group),
                    (time.monotonic() - started) * 1000,
                    queue.qsize(),
                )
                # Snapshots are cumulative: the newest one covers what the others did.
                latest = next((b.snapshot for b in reversed(group) if b.snapshot), None)
                if latest is not None:
                    await self._save(guild.id, *latest)
                await self.persist_unrecorded(guild.id)
                for _ in group:
                    self.bot.dispatch("invite_snapshot", guild.id)
            except Exception:
                log.exception("guild=%s recording %d batch(es) failed", guild.id, len(group))
            finally:
                for _ in group:
                    queue.task_done()

    async def _record(self, guild: nextcord.Guild, group: list[Batch]) -> None:
        """Record the batches' joins in one unit of work, then tell the other extensions."""
        items = [
            (join, decision, batch.inputs)
            for batch in group
            for join, decision in zip(batch.joins, batch.decisions, strict=True)
        ]
        if not items:
            return
        rows = [
            {
                "guild_id": str(guild.id),
                "member_id": join.member_id,
                "username": join.username,
                "joined_at": join.joined_at,
                "decision": decision.kind,
                "invite_code": decision.invite_code,
                "link_id": decision.link_id,
                "candidates": decision.candidates,
                "rejoin_flag": join.rejoin_flag,
                "credit_link_id": decision.credit_link,
            }
            for join, decision, _ in items
        ]
        try:
            outcomes = await run_sync_joins(record_joins, rows)
        except Exception as exc:
            outcomes = [exc] * len(items)
        for (join, decision, inputs), outcome, row in zip(items, outcomes, rows, strict=True):
            if isinstance(outcome, Exception) and self.keep_unrecorded(guild, row, outcome):
                continue
            if isinstance(outcome, Exception):
                log.error(
                    "guild=%s join of member %s (%s) not recorded: %s",
                    guild.id,
                    join.member_id,
                    decision.kind,
                    outcome,
                    exc_info=outcome,
                )
                continue
            self.bot.dispatch("join_recorded", guild.id, join.member_id, outcome)
            member = guild.get_member(int(join.member_id))
            if outcome.created and member is not None:
                self.bot.dispatch("member_attributed", member, outcome)
            if member is not None and inputs is not None and decision.link_id is not None:
                self.drop_referral_roles(member, inputs.roles)

    async def _save(
        self, guild_id: int, before: dict[str, InviteState] | None, taken_at: datetime | None
    ) -> None:
        if before is None or taken_at is None:
            return
        try:
            kept = self.unrecorded_to_save(guild_id)
            await run_sync_joins(save_snapshot, str(guild_id), dict(before), taken_at, kept)
            self._kept_changed.discard(guild_id)
        except Exception:
            log.exception("guild=%s invite snapshot not persisted", guild_id)
