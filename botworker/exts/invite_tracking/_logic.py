"""Per-guild bookkeeping around `botworker.attribution`: snapshot, deletions, the join queue.

No I/O here: the cog fetches invites and records joins; this decides what to ask
`attribute()`, whether a batch is ready to be decided, and what the next snapshot is.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from botworker.attribution import (
    UNKNOWN,
    Decision,
    Evidence,
    InviteState,
    Join,
    attribute,
    next_before,
    unexplained_after,
    with_created,
)

# Joins keep coming in a burst: fetch once the gateway has been quiet this long (or SETTLE).
QUIET_SECONDS = 0.1
# A batch whose use count does not match its members waits this long for late joins.
SETTLE_SECONDS = 3.0
# Uses still unexplained are forgotten once no join arrived for this long after a fetch.
GATEWAY_LAG_SECONDS = 10.0
# Recently decided (member, join time) pairs: a repeated GUILD_MEMBER_ADD is dropped.
REMEMBERED_JOINS = 10_000


@dataclass(frozen=True)
class PendingJoin:
    member_id: str
    username: str
    joined_at: datetime
    rejoin_flag: bool
    arrived: float  # time.monotonic() when the event arrived (or reconciliation queued it)

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.member_id, self.joined_at)


@dataclass(frozen=True)
class Verdict:
    """What one fetch tells: decisions, or that the batch should wait (`defer`)."""

    decisions: list[Decision]
    evidence: Evidence | None
    defer: str | None = None  # "refetch" (a join came during the fetch) | "wait" (late joins)
    expected: int = 0  # for "wait": how many members the uses seen call for


def invite_state(
    code: str,
    uses: int | None,
    max_uses: int | None,
    expires_at: datetime | None,
    created_at: datetime | None = None,
    max_age: int | None = None,
) -> InviteState:
    """An InviteState from what Discord sends (INVITE_CREATE has max_age, not expires_at)."""
    if expires_at is None and created_at is not None and max_age:
        expires_at = created_at + timedelta(seconds=max_age)
    return InviteState(code, int(uses or 0), int(max_uses or 0), expires_at)


class GuildInvites:
    """One guild's invite snapshot and queued joins.

    `before` is None when there is no baseline (never taken, or the last fetch failed): the next
    batch is then `unknown` and its fetch becomes the baseline.
    """

    def __init__(
        self,
        guild_id: str,
        before: dict[str, InviteState] | None = None,
        taken_at: datetime | None = None,
    ) -> None:
        self.guild_id = guild_id
        self.before = before
        self.taken_at = taken_at
        self.deleted: dict[str, datetime] = {}
        self.unexplained: int | None = 0
        self.queue: list[PendingJoin] = []
        self.fetching = False
        self.fetch_sent_at: datetime | None = None
        self._fetch_sent_mono = 0.0
        self._created_in_flight: list[InviteState] = []
        self._last_settled_mono: float | None = None
        self._decided: OrderedDict[tuple[str, datetime], None] = OrderedDict()

    # -- events ----------------------------------------------------------------------------

    def enqueue(self, join: PendingJoin) -> bool:
        """Queue a join; False for a duplicate (same member queued, or this join decided)."""
        if join.key in self._decided or any(q.member_id == join.member_id for q in self.queue):
            return False
        self.queue.append(join)
        return True

    def invite_created(self, invite: InviteState) -> None:
        """INVITE_CREATE: into this window's baseline, or the next one's if a fetch is out."""
        if self.fetching:
            self._created_in_flight.append(invite)
        elif self.before is not None:
            self.before = with_created(self.before, invite)

    def invite_deleted(self, code: str, seen_at: datetime) -> None:
        """INVITE_DELETE: remembered, never removed from `before` (see attribution.py)."""
        self.deleted.setdefault(code, seen_at)

    # -- one fetch -------------------------------------------------------------------------

    def start_fetch(self, now: datetime) -> None:
        if (
            self.unexplained != 0
            and self.queue
            and self._last_settled_mono is not None
            and self.queue[0].arrived - self._last_settled_mono > GATEWAY_LAG_SECONDS
        ):
            # No join arrived for a whole gateway lag after the last fetch: the uses it left
            # unexplained will get no join (a hand-deleted invite, a lost event).
            self.unexplained = 0
        self.fetching = True
        self.fetch_sent_at = now
        self._fetch_sent_mono = time.monotonic()
        self._created_in_flight = []

    def judge(
        self,
        after: dict[str, InviteState],
        managed: dict[str, str | None],
        revoked: frozenset[str],
        now: datetime,
        *,
        force: bool = False,
    ) -> Verdict:
        """Decide every queued join against the fetched list, or say why to wait.

        1. No baseline: every join is `unknown`.
        2. Count the uses the window shows (certain + maybe) against the members queued.
        3. Fewer uses than members while a join arrived during the fetch: fetch again now
           (its use may have come after Discord built the list).
        4. More uses than members: wait (up to SETTLE_SECONDS from the oldest join) for the
           GUILD_MEMBER_ADD events still on their way, then fetch again.
        5. Otherwise (or `force`): `attribute()` decides.
        """
        joins = [Join(q.member_id, q.joined_at) for q in self.queue]
        if self.before is None:
            decisions = [Decision(j.member_id, UNKNOWN, None, None, ()) for j in joins]
            return Verdict(decisions, None)
        evidence = Evidence(
            before=self.before,
            after=after,
            deleted=dict(self.deleted),
            revoked=revoked,
            managed=managed,
            unexplained_uses=self.unexplained,
        )
        if not force and self.queue:
            members = len({j.member_id for j in joins})
            seen = unexplained_after(replace(evidence, unexplained_uses=0), (), now)
            young = time.monotonic() - self.queue[0].arrived < SETTLE_SECONDS
            if seen is not None and self.unexplained is not None and young:
                expected = seen + self.unexplained
                late = any(q.arrived >= self._fetch_sent_mono for q in self.queue)
                if expected < members and late:
                    return Verdict([], evidence, defer="refetch")
                if expected > members:
                    return Verdict([], evidence, defer="wait", expected=expected)
        return Verdict(attribute(evidence, joins, now), evidence)

    def settle(
        self, after: dict[str, InviteState], verdict: Verdict, now: datetime
    ) -> list[PendingJoin]:
        """Close the window: the fetch becomes the baseline; returns the joins decided."""
        decided, self.queue = self.queue, []
        if verdict.evidence is not None:
            joins = [Join(q.member_id, q.joined_at) for q in decided]
            self.unexplained = unexplained_after(verdict.evidence, joins, now)
        else:
            self.unexplained = 0
        self.before = next_before(after, self._created_in_flight, now=self.fetch_sent_at)
        self.taken_at = self.fetch_sent_at
        self.deleted = {c: t for c, t in self.deleted.items() if c in self.before}
        self._end_fetch(decided)
        return decided

    def fail(self) -> list[PendingJoin]:
        """The fetch failed: the queued joins are `unknown` and there is no baseline."""
        decided, self.queue = self.queue, []
        self.before = None
        self.deleted = {}
        self.unexplained = 0
        self._end_fetch(decided)
        return decided

    def cancel_fetch(self) -> None:
        """A deferred batch: the fetch is over, the window stays open."""
        created, self._created_in_flight = self._created_in_flight, []
        self.fetching = False
        for invite in created:
            self.invite_created(invite)

    def _end_fetch(self, decided: list[PendingJoin]) -> None:
        self.fetching = False
        self._created_in_flight = []
        self._last_settled_mono = time.monotonic()
        for join in decided:
            self._decided[join.key] = None
        while len(self._decided) > REMEMBERED_JOINS:
            self._decided.popitem(last=False)
