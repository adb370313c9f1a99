"""Per-guild bookkeeping around `botworker.attribution`: snapshot, deletions, the join queue.

No I/O here: the cog fetches invites and records joins; this decides what to ask
`judge()`, whether a batch is ready to be decided, and what the next snapshot is.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from botworker.attribution import (
    AMBIGUOUS,
    EXACT,
    LINK,
    UNKNOWN,
    Carry,
    Decision,
    Evidence,
    InviteState,
    Join,
    Judgement,
    judge,
    next_before,
    unspent,
    with_created,
)

# A batch whose use count does not match its members waits this long for late joins.
SETTLE_SECONDS = 3.0
# Joins arriving during every fetch for this long (far beyond any real burst): the window is
# given up (its joins `unknown`, a fresh baseline) rather than judged from a list they outran.
LATE_REFETCH_SECONDS = 30.0
# How long an undecided member may wait for its referral role (GUILD_MEMBER_UPDATE).
ROLE_GRACE_SECONDS = 1.0
# The gateway's lag is measured (GUILD_MEMBER_ADD handled minus Discord's joined_at); a use
# seen in a fetch stops waiting for its member once older than twice the slowest recent event
# plus a margin, within these bounds. Generous on purpose: a member whose event comes later than
# this could be credited with another member's use, and a stalled event loop (a restart, a busy
# machine) delays events far beyond their usual lag.
LAG_MARGIN = timedelta(seconds=1)
LAG_BOUNDS = (timedelta(seconds=1.5), timedelta(seconds=15))
LAG_SAMPLES = 50
# Recently decided (member, join time) pairs: a repeated GUILD_MEMBER_ADD is dropped.
REMEMBERED_JOINS = 10_000


@dataclass(frozen=True)
class Timers:
    """How long the tracker waits, in seconds: the defaults above unless a test injects its own
    (with the injectable clock, no tracker decision depends on the wall clock)."""

    settle: float = SETTLE_SECONDS
    role_grace: float = ROLE_GRACE_SECONDS
    late_refetch: float = LATE_REFETCH_SECONDS


@dataclass(frozen=True)
class PendingJoin:
    member_id: str
    username: str
    joined_at: datetime
    rejoin_flag: bool
    arrived: float  # the tracker's clock (monotonic) when the event arrived or was queued
    seen_at: datetime | None = None  # wall time it arrived (None: now, when queued)
    role_ids: frozenset[str] = frozenset()  # the member's roles as last seen

    @property
    def key(self) -> tuple[str, datetime]:
        return (self.member_id, self.joined_at)


@dataclass(frozen=True)
class Verdict:
    """What one fetch tells: decisions, or that the batch should wait (`defer`)."""

    decisions: list[Decision]
    judgement: Judgement | None
    # "refetch" (a join came during the fetch) | "joins" (late joins) | "roles" (late roles)
    defer: str | None = None
    expected: int = 0  # for "joins": how many members the uses seen call for
    # Queued members left for the next list (their use is not in this one); `decisions` are
    # for the others, in queue order.
    held: frozenset[str] = frozenset()


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
    """One guild's invite snapshot, carried uses and queued joins.

    `before` is None when there is no baseline (never taken, or the last fetch failed): the next
    batch is then `unknown` and its fetch becomes the baseline. `clock` (monotonic seconds) is
    injectable so that tests never depend on the wall clock.
    """

    def __init__(
        self,
        guild_id: str,
        before: dict[str, InviteState] | None = None,
        taken_at: datetime | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        timers: Timers = Timers(),
    ) -> None:
        self.guild_id = guild_id
        self.timers = timers
        self.before = before
        self.taken_at = taken_at
        self.clock = clock
        self.deleted: dict[str, datetime] = {}
        self.carry = Carry()
        self.queue: list[PendingJoin] = []
        self.fetching = False
        self.fetch_sent_at: datetime | None = None
        self._fetch_sent_mono = 0.0
        self._created_in_flight: list[InviteState] = []
        self._decided: OrderedDict[tuple[str, datetime], None] = OrderedDict()
        self._lags: deque[timedelta] = deque(maxlen=LAG_SAMPLES)
        self._carry_from: datetime | None = None  # the baseline before the oldest carried use
        self.vanity_code: str | None = None  # the vanity URL as last read (not persisted)

    # -- events ----------------------------------------------------------------------------

    def enqueue(self, join: PendingJoin) -> bool:
        """Queue a join; False for a duplicate (same member queued, or this join decided)."""
        if join.key in self._decided or any(q.member_id == join.member_id for q in self.queue):
            return False
        self.queue.append(join)
        return True

    def observe_lag(self, arrived_at: datetime, joined_at: datetime) -> None:
        """A live GUILD_MEMBER_ADD: how far behind Discord's own timestamp it arrived."""
        self._lags.append(max(timedelta(0), arrived_at - joined_at))

    @property
    def lag(self) -> timedelta:
        """The gateway's lag as measured: twice the slowest recent event plus a margin."""
        low, high = LAG_BOUNDS
        if not self._lags:
            return high
        return min(high, max(low, 2 * max(self._lags) + LAG_MARGIN))

    def roles_updated(self, member_id: str, role_ids: frozenset[str]) -> bool:
        """GUILD_MEMBER_UPDATE for a queued member: True when the roles changed."""
        for n, queued in enumerate(self.queue):
            if queued.member_id == member_id and queued.role_ids != role_ids:
                self.queue[n] = replace(queued, role_ids=role_ids)
                return True
        return False

    def knows(self, member_id: str, joined_at: datetime | None) -> bool:
        """The member's join is queued here, or was decided by this tracker."""
        return any(q.member_id == member_id for q in self.queue) or (
            joined_at is not None and (member_id, joined_at) in self._decided
        )

    def persistable(self) -> tuple[dict[str, InviteState], datetime] | None:
        """The snapshot to persist now, and from when the next start must reconcile joins.

        Carried uses are given back (see `unspent`), and the time goes back to the baseline
        before the oldest carried use and before the earliest queued join, so a restart finds
        every join not yet recorded.
        """
        if self.before is None or self.taken_at is None:
            return None
        since = self.taken_at
        if self.carry.uses and self._carry_from is not None:
            since = min(since, self._carry_from)
        for queued in self.queue:
            since = min(since, queued.joined_at - timedelta(milliseconds=1))
        return unspent(self.before, self.carry), since

    def codes_in_play(self, after: Mapping[str, InviteState]) -> frozenset[str]:
        """The codes judging `after` can ask about: the baseline's, the list's and the carried
        uses' (a carried use's invite may have left both)."""
        return frozenset([*(self.before or {}), *after, *(use.code for use in self.carry.uses)])

    def with_vanity(
        self, after: dict[str, InviteState], vanity: InviteState | None, *, read: bool = True
    ) -> dict[str, InviteState]:
        """`after` with the guild's vanity URL (Get Guild Vanity URL: code and uses; Discord
        lists it with no invite), so a join through it is a use like any unmanaged invite's.

        Its uses count from the moment the tracker first sees it: a code not in the baseline
        enters it at the uses read now (its lifetime uses are no window's). A vanity URL gone
        or changed leaves the baseline (it takes no more joins: no vanishing to count). A read
        that failed (`read` False) carries the last one forward: joins through it in this
        window stay unexplained, as without a vanity URL at all.
        """
        known = self.vanity_code
        if self.before is None:  # no baseline: this list becomes it
            self.vanity_code = vanity.code if vanity is not None else None
            return {**after, vanity.code: vanity} if vanity is not None else after
        if not read:
            if known is not None and known in self.before:
                return {**after, known: self.before[known]}
            return after
        if known is not None and (vanity is None or vanity.code != known):
            self.before = {c: s for c, s in self.before.items() if c != known}
        self.vanity_code = vanity.code if vanity is not None else None
        if vanity is None:
            return after
        if vanity.code not in self.before:
            self.before = {**self.before, vanity.code: vanity}
        return {**after, vanity.code: vanity}

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
        self.fetching = True
        self.fetch_sent_at = now
        self._fetch_sent_mono = self.clock()
        self._created_in_flight = []

    def judge(
        self,
        after: dict[str, InviteState],
        managed: Mapping[str, str | None],
        revoked: frozenset[str],
        now: datetime,
        *,
        role_links: Mapping[str, str] | None = None,
        force: bool = False,
    ) -> Verdict:
        """Decide every queued join against the fetched list, or say why to wait.

        1. No baseline: every join is `unknown`.
        2. `judge()` with the carry, less the uses older than the gateway's lag before the
           oldest queued join arrived, and each member's referral roles (`role_links`: role id
           -> link id).
        3. Members whose GUILD_MEMBER_ADD came while the list was on its way may have joined
           after Discord built it. One whose one referral role's link has no use at all in the
           list is left for the next list (`held`), as if their event had not come yet, and
           the others are judged without them. For the other late members not credited by
           their role: when anyone is decided from the count (any kind but `unknown`), or a
           late member's role finds too few uses -> fetch again now, forced or not (in a guild
           with referral roles, unforced, first wait for a late member's role while they are
           younger than ROLE_GRACE_SECONDS: cheaper than a fetch); unforced, also when fewer
           uses than members show. Unless the list holds no more uses than there are early
           members (whose uses it surely shows): then the late ones are held too.
        4. Unless `force`d, while the oldest join is younger than SETTLE_SECONDS and a member is
           still undecided: a member without a referral role in a guild that has them -> wait
           up to ROLE_GRACE_SECONDS for it; more uses than members -> wait for the
           GUILD_MEMBER_ADD events on their way. After a wait the caller judges the same list
           again (or fetches anew, by 3, when members came meanwhile).
        """
        role_links = role_links or {}
        joins = [
            Join(
                q.member_id,
                q.joined_at,
                frozenset(role_links[r] for r in q.role_ids if r in role_links),
            )
            for q in self.queue
        ]
        if self.before is None:
            decisions = [Decision(j.member_id, UNKNOWN, None, None, ()) for j in joins]
            return Verdict(decisions, None)
        oldest = min((q.seen_at or now for q in self.queue), default=now)
        evidence = Evidence(
            before=self.before,
            after=after,
            deleted=dict(self.deleted),
            revoked=revoked,
            managed=managed,
            carry=self.carry.expire(min(now, oldest) - self.lag),
        )
        judgement = judge(evidence, joins, now)
        verdict = Verdict(judgement.decisions, judgement)
        if not self.queue:
            return verdict
        outran = {q.member_id for q in self.queue if q.arrived > self._fetch_sent_mono}
        late = bool(outran)
        pairs = list(zip(judgement.decisions, joins, strict=True))
        held = frozenset(
            j.member_id
            for d, j in pairs
            if j.member_id in outran
            and len(j.role_links) == 1
            and d.kind not in (EXACT, LINK)
            and not judgement.link_uses.get(next(iter(j.role_links)))
        )
        if held and len(held) < len({j.member_id for j in joins}):
            # Their use is not in this list yet: judge the others as if their events had not
            # come (an order Discord may deliver anyway), and fetch again for them only.
            joins = [j for j in joins if j.member_id not in held]
            judgement = judge(evidence, joins, now)
            verdict = Verdict(judgement.decisions, judgement, held=held)
            pairs = list(zip(judgement.decisions, joins, strict=True))
        # Late members the list may not show yet: all but those their referral role answered
        # for (a use of their link claimed, or none of it in the list: held).
        unsure = (
            outran
            - held
            - {j.member_id for d, j in pairs if j.role_links and d.kind in (EXACT, LINK)}
        )
        # Any decision from the count (organic and link-level credit too) pairs the list's uses
        # with the members, the late ones included.
        by_count = any(not j.role_links and d.kind != UNKNOWN for d, j in pairs)
        role_unmet = any(j.member_id in unsure and j.role_links for j in joins)
        early = [j for j in joins if j.member_id not in unsure]
        if unsure and (by_count or role_unmet) and early:
            # Every early member's use is in the list. When the list holds no more uses than
            # there are early members, none of them is a late member's: those wait for the
            # next list, and the early members are judged on their own.
            alone = judge(evidence, early, now)
            if alone.expected == len({j.member_id for j in early}):
                held, unsure, joins, judgement = held | unsure, set(), early, alone
                verdict = Verdict(judgement.decisions, judgement, held=held)
                pairs = list(zip(judgement.decisions, joins, strict=True))
        if unsure and by_count and not force and self._role_on_its_way(unsure, role_links):
            return replace(verdict, defer="roles", held=frozenset())
        if unsure and (by_count or role_unmet):
            # A member whose GUILD_MEMBER_ADD came while the list was on its way may have joined
            # after Discord built it: their use can be missing while the use of a member whose
            # event has not come yet is there, and pairing by count would swap the two (seen
            # in a 50-join burst on a loaded machine). A decision from the count alone is only
            # made on a list fetched after every such member's event arrived, forced or not;
            # credits by referral role are cross-checked use by use and stand, and a late
            # member whose role finds too few uses gets the fresh list that may show them.
            return replace(verdict, defer="refetch", held=frozenset())
        if force:
            return verdict
        undecided = {d.member_id for d in judgement.decisions if d.kind in (AMBIGUOUS, UNKNOWN)}
        age = self.clock() - self.queue[0].arrived
        if not undecided or age >= self.timers.settle:
            return verdict
        members = len({j.member_id for j in joins})
        expected = judgement.expected
        if expected is not None and expected < members and late:
            return replace(verdict, defer="refetch")
        if role_links and age < self.timers.role_grace:
            roleless = {j.member_id for j in joins if not j.role_links}
            if undecided & roleless:
                return replace(verdict, defer="roles")
        if expected is not None and expected > members:
            return replace(verdict, defer="joins", expected=expected)
        return verdict

    def _role_on_its_way(self, members: set[str], role_links: Mapping[str, str]) -> bool:
        """In a guild with referral roles, one of `members` has none of them yet and arrived
        less than ROLE_GRACE_SECONDS ago: their role (GUILD_MEMBER_UPDATE) is likely on its way,
        and with it an answer that needs no fresh list. (Other roles, an auto-role say, do not
        count.)"""
        if not role_links:
            return False
        now = self.clock()
        return any(
            q.member_id in members
            and not q.role_ids & role_links.keys()
            and now - q.arrived < self.timers.role_grace
            for q in self.queue
        )

    def settle(
        self, after: dict[str, InviteState], verdict: Verdict, now: datetime
    ) -> list[PendingJoin]:
        """Close the window: the fetch becomes the baseline; returns the joins decided (the
        verdict's `held` members stay queued for the next list)."""
        decided = [q for q in self.queue if q.member_id not in verdict.held]
        self.queue = [q for q in self.queue if q.member_id in verdict.held]
        self.carry = verdict.judgement.carry if verdict.judgement is not None else Carry()
        # A carried use happened after the baseline of the window that first showed it.
        if not self.carry.uses:
            self._carry_from = None
        elif self._carry_from is None or (self.taken_at and self.taken_at < self._carry_from):
            self._carry_from = self.taken_at
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
        self.carry = Carry()
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
        for join in decided:
            self._decided[join.key] = None
        while len(self._decided) > REMEMBERED_JOINS:
            self._decided.popitem(last=False)
