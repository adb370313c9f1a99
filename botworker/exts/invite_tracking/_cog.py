"""The invite-tracking cog: Discord events in, attributed `discord_join` records out.

Per guild, one worker task handles joins in order. While it fetches the invite list, later
joins queue up and share the next fetch. Dispatches, for other extensions and tests:
- `member_attributed(member, outcome)`: a join newly recorded, or an OAuth join's first
  GUILD_MEMBER_ADD (onboarding posts the welcome);
- `join_recorded(guild_id, member_id, outcome)`: every join processed, duplicates included;
- `invite_snapshot(guild_id)`: a batch is done: the guild's snapshot was retaken and persisted
  and its joins recorded (the first one after start-up ends the reconciliation);
- `leave_recorded(guild_id, member_id)`: a GUILD_MEMBER_REMOVE was recorded;
- `return_visit_recorded(guild_id, member_id, link_id)`: a member already in the guild
  accepted a link's role invite.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import replace
from datetime import datetime

import nextcord
from django.utils import timezone
from nextcord.ext import commands

from analytics.joins import record_leave
from botworker.attribution import UNKNOWN, Decision, InviteState, snapshot_from
from botworker.exts._failures import DISCORD_ERRORS, describe
from botworker.sync import run_sync, run_sync_joins
from referrals.evidence import attribution_inputs

from ._logic import (
    GuildInvites,
    PendingJoin,
    Timers,
    Verdict,
    invite_state,
)
from ._oauth import OAuthJoins
from ._reconcile import Reconciliation
from ._recording import Batch, Recording
from ._roles import ReferralRoles, role_ids
from ._shutdown import Shutdown
from ._unrecorded import Unrecorded

log = logging.getLogger("botworker.invite_tracking")

# A batch that failed (the database unreachable, say) is tried again after this long, doubling
# up to the second figure: never at once, which would list the guild's invites in a loop.
BATCH_RETRY_SECONDS = (0.5, 30.0)


class InviteTracking(
    Recording, Unrecorded, OAuthJoins, Reconciliation, ReferralRoles, Shutdown, commands.Cog
):
    """Works out which invite each new member used and records the join."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self.guilds: dict[int, GuildInvites] = {}
        self.timers = Timers()  # the trackers' waits (tests inject shorter or longer ones)
        self._wake: dict[int, asyncio.Event] = {}
        self._units: dict[int, asyncio.Lock] = {}
        # Decided batches wait here for their recorder, so the next fetch need not wait for them.
        self._recorded: dict[int, asyncio.Queue[Batch]] = {}
        self._recorders: dict[int, asyncio.Task[None]] = {}
        # Joins decided but not recorded (database unavailable), by (member, join time).
        self._kept: dict[int, dict[tuple[str, str], dict]] = {}
        self._kept_changed: set[int] = set()
        self._retries: dict[int, asyncio.Task[None]] = {}
        # Start-up reconciliations waiting to be tried again (the database was unavailable).
        self._restarts: dict[int, asyncio.Task[None]] = {}
        self._restart_tries: dict[int, int] = {}
        self._reconcile_from: dict[int, datetime] = {}
        self._workers: dict[int, asyncio.Task[None]] = {}
        self._early: dict[int, list[PendingJoin]] = {}
        self._refresh: set[int] = set()  # guilds whose worker must fetch even with no join
        self.arriving: set[str] = set()  # members whose GUILD_MEMBER_ADD is being looked at
        self._stopping = False
        hooks = getattr(bot, "shutdown_hooks", None)
        if hooks is not None:
            hooks.append(self.shutdown)

    def use_timers(self, timers: Timers) -> None:
        """Wait this long from now on, in every guild (for tests)."""
        self.timers = timers
        for tracker in self.guilds.values():
            tracker.timers = timers

    def cog_unload(self) -> None:
        tasks = [*self._workers.values(), *self._recorders.values(), *self._retries.values()]
        for task in [*tasks, *self._restarts.values()]:
            task.cancel()
        self.stop_background()

    # -- gateway events --------------------------------------------------------------------

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Take (or restore and reconcile) every guild's invite snapshot; forget the guilds
        the bot was removed from while it was away (no GUILD_DELETE comes for those)."""
        for guild_id in [g for g in self.guilds if self.bot.get_guild(g) is None]:
            tracker, early = self._stop_tracking(guild_id)
            log.warning(
                "guild=%s the bot is no longer in this server: invite tracking stopped "
                "(%d queued join(s) not recorded)",
                guild_id,
                len(tracker.queue if tracker else []) + len(early),
            )
        for guild in self.bot.guilds:
            await self.start_guild(guild, restore=True)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: nextcord.Guild) -> None:
        """A guild the bot was just added to: a fresh snapshot."""
        await self.start_guild(guild, restore=False)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: nextcord.Guild) -> None:
        """The bot left or was removed from the guild (GUILD_DELETE without `unavailable`): it
        can neither list the invites nor welcome anyone there. The worker stops, the tracker
        goes, and the joins still queued are recorded as `unknown`."""
        tracker, early = self._stop_tracking(guild.id)
        if early:  # joins that came before the guild was tracked
            self._record_unknown(guild, early)
        if tracker is not None and tracker.queue:
            self._give_up(guild, tracker, "the bot is no longer in this server", "")
        log.warning(
            "guild=%s the bot is no longer in this server: invite tracking stopped", guild.id
        )

    def _stop_tracking(self, guild_id: int) -> tuple[GuildInvites | None, list[PendingJoin]]:
        """Forget a guild the bot is no longer in: its worker and start-up retry stop; returns
        its tracker and the joins that waited for its start, for the caller to account for."""
        for task in (self._workers.pop(guild_id, None), self._restarts.pop(guild_id, None)):
            if task is not None:
                task.cancel()
        self._refresh.discard(guild_id)
        return self.guilds.pop(guild_id, None), self._early.pop(guild_id, [])

    @commands.Cog.listener()
    async def on_invite_create(self, invite: nextcord.Invite) -> None:
        """Keep the snapshot current: the new invite with its uses at creation."""
        tracker = self._tracker_of(invite)
        if tracker is not None and invite.code:
            tracker.invite_created(
                invite_state(
                    invite.code,
                    invite.uses,
                    invite.max_uses,
                    invite.expires_at,
                    invite.created_at,
                    invite.max_age,
                )
            )

    @commands.Cog.listener()
    async def on_invite_delete(self, invite: nextcord.Invite) -> None:
        """Remember the deletion and when it was seen; the code stays in the snapshot."""
        tracker = self._tracker_of(invite)
        if tracker is not None and invite.code:
            tracker.invite_deleted(invite.code, timezone.now())

    @commands.Cog.listener()
    async def on_member_join(self, member: nextcord.Member) -> None:
        """Queue the join for the guild's worker (a repeated GUILD_MEMBER_ADD is dropped).

        A member the web app is adding with OAuth2 `guilds.join` spent no invite: their join is
        linked to the OAuth record instead, and kept out of invite attribution, where it would
        only make other joins of the same burst look ambiguous.
        """
        if member.bot:
            return
        now = timezone.now()
        join = PendingJoin(
            member_id=str(member.id),
            username=member.name,
            joined_at=member.joined_at or now,
            rejoin_flag=bool(member.flags.did_rejoin),
            arrived=time.monotonic(),
            seen_at=now,
            role_ids=role_ids(member),
        )
        self.arriving.add(join.member_id)
        try:
            if await self.linked_to_oauth(member, join):
                return
        finally:
            self.arriving.discard(join.member_id)
        # Roles that came in a GUILD_MEMBER_UPDATE meanwhile are in the cached member.
        cached = member.guild.get_member(member.id)
        join = replace(join, role_ids=role_ids(cached or member))
        tracker = self.guilds.get(member.guild.id)
        if tracker is not None and member.joined_at is not None:
            tracker.observe_lag(now, member.joined_at)
        self._enqueue(member.guild.id, [join])

    @commands.Cog.listener()
    async def on_raw_member_remove(self, payload: nextcord.RawMemberRemoveEvent) -> None:
        """GUILD_MEMBER_REMOVE → a `leave` event (not for bots: their joins are not recorded)."""
        if payload.user.bot:
            return
        guild_id, member_id = str(payload.guild_id), str(payload.user.id)
        try:
            await run_sync(
                record_leave, guild_id=guild_id, member_id=member_id, left_at=timezone.now()
            )
        except Exception:
            log.exception("leave of member %s in guild %s not recorded", member_id, guild_id)
            return
        self.bot.dispatch("leave_recorded", payload.guild_id, member_id)

    def _enqueue(self, guild_id: int, joins: list[PendingJoin]) -> None:
        tracker = self.guilds.get(guild_id)
        if tracker is None and self.bot.get_guild(guild_id) is None:
            if joins:  # it left the server while these were being looked at
                log.warning(
                    "guild=%s %d join(s) in a server the bot is no longer in: not recorded",
                    guild_id,
                    len(joins),
                )
            return
        if tracker is None:  # not started yet: the start queues them
            self._early.setdefault(guild_id, []).extend(joins)
            return
        if any([tracker.enqueue(join) for join in joins]):
            self._wake[guild_id].set()

    def _ensure_worker(self, guild_id: int, *, refresh: bool = False) -> None:
        if refresh:
            self._refresh.add(guild_id)
            self._wake[guild_id].set()
        task = self._workers.get(guild_id)
        if (task is None or task.done()) and not self._stopping:
            self._workers[guild_id] = asyncio.create_task(
                self._work(guild_id), name=f"invite-tracking-{guild_id}"
            )

    def _tracker_of(self, invite: nextcord.Invite) -> GuildInvites | None:
        guild = invite.guild
        return self.guilds.get(guild.id) if guild is not None else None

    # -- the worker ------------------------------------------------------------------------

    async def _work(self, guild_id: int) -> None:
        tracker, wake = self.guilds.get(guild_id), self._wake[guild_id]
        failures, delay = 0, 0.0
        while not self._stopping and tracker is not None:
            if not tracker.queue and guild_id not in self._refresh:
                wake.clear()
                await wake.wait()
                continue
            guild = self.bot.get_guild(guild_id)
            if guild is None:
                return  # the bot is no longer in it: on_guild_remove records what is queued
            self._refresh.discard(guild_id)
            async with self._units[guild_id]:
                if self._stopping:
                    return
                try:
                    await self._run_batch(guild, tracker)
                    failures = 0
                except Exception:
                    failures += 1
                    if tracker.fetching:
                        tracker.cancel_fetch()
                    first, most = BATCH_RETRY_SECONDS
                    delay = min(most, first * 2 ** (failures - 1))
                    log.exception(
                        "guild=%s invite tracking batch failed (%d in a row): %d join(s) wait, "
                        "next try in %.1f s",
                        guild_id,
                        failures,
                        len(tracker.queue),
                        delay,
                    )
            if failures:
                await asyncio.sleep(delay)  # outside the unit: a shutdown need not wait for it

    async def _run_batch(self, guild: nextcord.Guild, tracker: GuildInvites) -> None:
        """One unit of work: fetch until the queued joins can be decided, record them."""
        guild_id = guild.id
        force = False
        started = time.monotonic()
        while True:
            tracker.start_fetch(timezone.now())
            try:
                fetched, (read, vanity) = await asyncio.gather(
                    guild.invites(), self._vanity(guild, tracker)
                )
            except DISCORD_ERRORS as error:
                hint = (
                    " (the bot needs Manage Guild to list invites)"
                    if isinstance(error, nextcord.Forbidden)
                    else ""
                )
                self._give_up(guild, tracker, f"invite list not fetched ({describe(error)})", hint)
                return
            after = tracker.with_vanity(
                snapshot_from(
                    invite_state(i.code, i.uses, i.max_uses, i.expires_at, i.created_at, i.max_age)
                    for i in fetched
                    if i.code
                ),
                vanity,
                read=read,
            )
            inputs = await run_sync_joins(
                attribution_inputs, str(guild_id), tracker.codes_in_play(after)
            )
            while True:
                verdict = tracker.judge(
                    after,
                    inputs.managed,
                    inputs.revoked,
                    timezone.now(),
                    role_links=inputs.role_links,
                    force=force,
                )
                if verdict.defer in (None, "refetch"):
                    break
                # Late joins or late roles: wait, then judge the same list again. A fresh list
                # would show the uses of still later joins and start the wait over.
                self._log_defer(guild_id, tracker, verdict)
                force = not await self._wait_for(guild_id, tracker, verdict)
            if verdict.defer is None:
                break
            self._log_defer(guild_id, tracker, verdict)
            tracker.cancel_fetch()
            if time.monotonic() - started > tracker.timers.late_refetch:
                seconds = tracker.timers.late_refetch
                late = f"joins outran every invite-list fetch for {seconds:.0f} s"
                self._give_up(guild, tracker, late, ", a fresh baseline taken")
                return
        joins = tracker.settle(after, verdict, timezone.now())
        log.debug(
            "guild=%s batch of %d (%s) decided in %.0f ms (lag %.2f s)",
            guild_id,
            len(joins),
            ",".join(sorted(d.kind for d in verdict.decisions)),
            (time.monotonic() - started) * 1000,
            tracker.lag.total_seconds(),
        )
        self._hand_over(guild, Batch(joins, verdict.decisions, inputs, tracker.persistable()))

    async def _vanity(
        self, guild: nextcord.Guild, tracker: GuildInvites
    ) -> tuple[bool, InviteState | None]:
        """(read, the vanity URL with its uses) for a guild that has or had one (Get Guild
        Vanity URL; Discord's invite list leaves it out), asked for with the list. A failed
        read is (False, None): `GuildInvites.with_vanity` carries the last one forward."""
        if "VANITY_URL" not in guild.features and tracker.vanity_code is None:
            return True, None
        try:
            data = await self.bot.http.get_vanity_code(guild.id)
        except DISCORD_ERRORS as error:
            log.warning("guild=%s vanity URL not read: %s", guild.id, describe(error))
            return False, None
        code, uses = data.get("code"), data.get("uses")
        if not isinstance(code, str) or not code or not isinstance(uses, int) or uses < 0:
            return True, None  # no vanity URL (any more)
        return True, InviteState(code, uses, 0, None)

    def _give_up(self, guild: nextcord.Guild, tracker: GuildInvites, why: str, more: str) -> None:
        """The window cannot be judged: its joins are recorded `unknown` and the next fetch
        starts a fresh baseline (`tracker.fail()`)."""
        joins = tracker.fail()
        log.warning(
            "guild=%s %s: %d join(s) recorded as unknown%s", guild.id, why, len(joins), more
        )
        self._record_unknown(guild, joins)

    def _record_unknown(self, guild: nextcord.Guild, joins: list[PendingJoin]) -> None:
        unknown = [Decision(j.member_id, UNKNOWN, None, None, ()) for j in joins]
        self._hand_over(guild, Batch(joins, unknown, None, None))

    def _log_defer(self, guild_id: int, tracker: GuildInvites, verdict: Verdict) -> None:
        log.debug(
            "guild=%s batch of %d deferred: %s (expected %s, carry %s/%s)",
            guild_id,
            len(tracker.queue),
            verdict.defer,
            verdict.judgement.expected if verdict.judgement else None,
            tracker.carry.unclaimed,
            len(tracker.carry.uses),
        )

    async def _wait_for(self, guild_id: int, tracker: GuildInvites, verdict: Verdict) -> bool:
        """Wait for what the verdict lacks: `expected` members queued ("joins"), or a change
        of a queued member's roles ("roles"). False when its time ran out."""
        wake = self._wake[guild_id]
        first = tracker.queue[0].arrived
        if verdict.defer == "roles":
            deadline = first + tracker.timers.role_grace
            roles = [q.role_ids for q in tracker.queue]
            done = lambda: [q.role_ids for q in tracker.queue] != roles  # noqa: E731
        else:
            deadline = first + tracker.timers.settle
            done = lambda: len({q.member_id for q in tracker.queue}) >= verdict.expected  # noqa: E731
        while not done():
            wake.clear()
            try:
                await asyncio.wait_for(wake.wait(), max(0.0, deadline - time.monotonic()))
            except TimeoutError:
                return False
        return True
