"""Which invite did a new member use? Pure attribution over invite snapshots and referral roles.

Discord does not say. Two kinds of evidence do:

- **Referral roles.** Each role-tagged link's invites are created with ``role_ids=[its role]``;
  whoever accepts one carries the link's role (Discord's role invites). A member with exactly
  one referral role came through that link, however many joined at once; the diff cross-checks
  it (the window must show a use of one of the link's invites for every member with its role).
- **The invite-use diff.** The bot keeps a snapshot of the guild's invites, fetches the list
  again after joins (the *window* is the time between the two readings) and counts uses.

:func:`judge` credits a link only when the evidence leaves no other possibility. Plain data in,
decisions out: no Django, no database, no nextcord.

Keeping the snapshot (what the caller owes these functions):

- ``before`` is never shrunk by ``INVITE_DELETE``: deletions go to ``Evidence.deleted``. If the
  snapshot dropped a code whose delete arrived before the ``GUILD_MEMBER_ADD``, the invite the
  member used would be invisible to the diff.
- ``INVITE_CREATE`` received before the fetch is sent goes into the current ``before``
  (:func:`with_created`); one received later goes into the next (``next_before(after, created)``).
- ``managed`` and ``revoked`` are read *after* the fetch; ``revoked`` holds the codes we deleted
  ourselves (recorded before the DELETE is sent). An invite deleted by hand is not in it (see the
  residual in :func:`judge`).
- Duplicate ``GUILD_MEMBER_ADD`` across calls (same member, same ``joined_at``) is dropped by the
  caller; within a call a member counts once.
- ``carry`` is the previous judgement's ``carry``, passed through :meth:`Carry.expire` with the
  gateway's lag: a use seen in a fetch whose member has not arrived within the lag never will
  (a hand-deleted invite, a lost event), so it stops blocking later windows.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

EXACT, LINK, AMBIGUOUS, ORGANIC, UNKNOWN = "exact", "link", "ambiguous", "organic", "unknown"

# Our clock and Discord's disagree a little: an expiry this close to a vanishing is "maybe".
CLOCK_SKEW = timedelta(seconds=30)
_UNCOUNTED = "(uncounted)"  # stands for uses that could not be counted, to time them out
_POOLED = "pooled"


@dataclass(frozen=True)
class InviteState:
    code: str
    uses: int
    max_uses: int  # 0 = unlimited
    expires_at: datetime | None  # aware UTC, None = never


@dataclass(frozen=True)
class Join:
    member_id: str
    joined_at: datetime
    # Links whose referral role the member is known to carry (empty: none seen yet).
    role_links: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Decision:
    member_id: str
    kind: str  # EXACT | LINK | AMBIGUOUS | ORGANIC | UNKNOWN
    invite_code: str | None  # set for EXACT (and ORGANIC when one invite is certain)
    link_id: str | None  # set for EXACT and LINK only: the member came through this link
    candidates: tuple[str, ...]  # codes with a certain use in the window (or carried), sorted
    # The link this join counts for in link totals. EXACT/LINK: `link_id`. AMBIGUOUS: set when
    # the consumed invites are certain but their pairing with members is not (link-level join
    # credit: each link gets exactly as many joins as its invites were consumed); the member
    # itself is credited to no link.
    credit_link: str | None = None


@dataclass(frozen=True)
class Use:
    """One use of an invite, first seen in the fetch received at `seen_at`."""

    code: str
    seen_at: datetime
    code_sure: bool = True  # False: this link had a use here, but perhaps of another of its codes
    was: InviteState | None = None  # the invite before this use, for a snapshot to persist


@dataclass(frozen=True)
class Carry:
    """Uses seen in earlier windows that may belong to members not yet arrived.

    `unclaimed` of `uses` await a member (None: unknown how many). When it equals
    ``len(uses)`` the carried uses are known one by one; when smaller, some of them were claimed
    by members of earlier batches and which ones is not known.
    """

    uses: tuple[Use, ...] = ()
    unclaimed: int | None = 0

    def __post_init__(self) -> None:
        if self.unclaimed == 0 and self.uses:
            object.__setattr__(self, "uses", ())

    @property
    def known(self) -> bool:
        """Every carried use awaits a member (so each one's link is known)."""
        return self.unclaimed == len(self.uses)

    def expire(self, seen_before: datetime) -> Carry:
        """Forget uses seen before `seen_before` (now minus the gateway's lag)."""
        keep = tuple(use for use in self.uses if use.seen_at >= seen_before)
        if len(keep) == len(self.uses):
            return self
        if not keep:
            return Carry()
        if self.unclaimed is None:
            return Carry(keep, None)
        dropped = len(self.uses) - len(keep)
        low, high = max(0, self.unclaimed - dropped), min(self.unclaimed, len(keep))
        return Carry(keep, low if low == high else None)


@dataclass(frozen=True)
class Evidence:
    before: Mapping[str, InviteState]  # snapshot before these joins, plus invites created since
    after: Mapping[str, InviteState]  # the invite list fetched after the joins
    deleted: Mapping[str, datetime]  # INVITE_DELETE seen since the snapshot: code -> when seen
    revoked: frozenset[str]  # codes known to be deleted by a person, not consumed
    managed: Mapping[str, str | None]  # managed codes -> link id (None = pooled)
    carry: Carry = field(default_factory=Carry)  # from the previous judgement, expired


@dataclass(frozen=True)
class Judgement:
    decisions: list[Decision]  # one per join, in the order given
    carry: Carry  # for the next window
    # Uses the carry and this window call for, maybe uses included (None: unbounded): more
    # than the members means joins still on their way, fewer a use not yet visible.
    expected: int | None
    # Per link, the uses of its invites in the pool before any member claimed one.
    link_uses: Mapping[str, int] = field(default_factory=dict)


def judge(evidence: Evidence, joins: Sequence[Join], now: datetime) -> Judgement:
    """Decide every join of one window.

    1. Tally the window: *certain* uses per code (growth of ``uses``, a single-use invite that
       vanished surely before its expiry and was not revoked or pooled) and
       *maybe* uses (a vanishing around expiry, a vanished multi-use invite; None = unbounded).
       The pool of uses is the carry plus the window's certain uses.
    2. Members with exactly one referral role, per link L: credited to L when the pool holds a
       use of one of L's invites for each of them (`exact` with the code when one member and one
       sure use, else `link`); otherwise, and for members with two referral roles, `ambiguous`.
       Credited members claim their uses from the pool.
    3. The other members, against what is left of the pool: no use anywhere -> `unknown`; the
       uses must equal the members, with no maybe use and a carry whose size is known ->
       otherwise `ambiguous`. Then all uses on one link -> `exact` (one code) or `link`; all
       on unmanaged/vanity codes -> `organic`; several links -> `ambiguous` with link-level
       credit when every use is known one by one.
    4. The next carry: nothing when every use was matched; else the pool, with how many of it
       still await a member (unknown when that cannot be counted).

    Why a credit is right: the fetch comes after the members' GUILD_MEMBER_ADD, so each member's
    use is in the pool; a use whose member is still on the way is in the pool too. So when the
    uses equal the members, the pool's uses *are* the members' uses. A member carrying L's role
    accepted one of L's invites; the cross-check refuses a role the window cannot explain.

    Residual, which these inputs cannot tell apart: a member who joined through no invite at all
    (Server Discovery) in the same window as a use that is not theirs -- a single-use invite
    deleted by hand that is not in ``revoked`` (looks consumed), or a use whose GUILD_MEMBER_ADD
    arrives later than the gateway's lag. Referral roles do not have this residual.
    """
    certain, maybe = _tally(evidence, now)
    window = [
        Use(code, now, was=evidence.before.get(code))
        for code, n in sorted(certain.items())
        for _ in range(n)
    ]
    carry = evidence.carry
    pool = [*carry.uses, *window]
    available = None if carry.unclaimed is None else carry.unclaimed + len(window)
    expected = None if available is None or maybe is None else available + maybe
    complete = maybe == 0 and available is not None  # the pool holds every possible use
    owners = [_owner(evidence, use.code) for use in pool]
    link_uses = Counter(link for what, link in owners if what == LINK and link is not None)
    candidates = tuple(sorted({use.code for use in pool if use.code_sure}))
    members: dict[str, Join] = {}
    for join in joins:
        members.setdefault(join.member_id, join)
    decided: dict[str, Decision] = {}

    def ambiguous(member_id: str) -> Decision:
        return Decision(member_id, AMBIGUOUS, None, None, candidates)

    # Step 2: referral roles.
    by_link: dict[str, list[str]] = {}
    for member_id, join in members.items():
        if len(join.role_links) == 1:
            by_link.setdefault(next(iter(join.role_links)), []).append(member_id)
        elif join.role_links:
            decided[member_id] = ambiguous(member_id)
            available = None  # which uses two-role members consumed cannot be told
    for link, holders in sorted(by_link.items()):
        mine = [use for use in pool if _owner(evidence, use.code) == (LINK, link)]
        if len(holders) > len(mine):
            decided.update((m, ambiguous(m)) for m in holders)
            available = None
            continue
        # A use the pool lacks (a maybe use now, or an uncounted one carried) could be one of
        # the link's other invites: then the code is not sure.
        exact = len(holders) == 1 and len(mine) == 1 and mine[0].code_sure and complete
        code = mine[0].code if exact else None
        kind = EXACT if exact else LINK
        decided.update((m, Decision(m, kind, code, link, candidates, link)) for m in holders)
        pool = _claim(pool, mine, len(holders), known=available == len(pool))
        if available is not None:
            available -= len(holders)

    # Step 3: the invite-use diff for everyone else.
    rest = [m for m in members if m not in decided]
    if rest:
        decided.update(_diff(evidence, pool, available, maybe, rest, candidates))
        if available is not None and maybe == 0 and available == len(rest):
            pool, available = [], 0
        elif available is not None and maybe == 0 and available > len(rest):
            available -= len(rest)
        else:
            available = None
    if maybe != 0:
        available = None  # uses that may hide in the window cannot be counted
    if available is None and not pool:
        # An unknown number of uses with nothing to time them by: anchor them to this window.
        pool = [Use(_UNCOUNTED, now, code_sure=False)]
    decisions = [decided[join.member_id] for join in joins]
    return Judgement(decisions, Carry(tuple(pool), available), expected, dict(link_uses))


def attribute(evidence: Evidence, joins: Sequence[Join], now: datetime) -> list[Decision]:
    """One decision per join, in the order given (see :func:`judge`)."""
    return judge(evidence, joins, now).decisions


def _diff(
    evidence: Evidence,
    pool: list[Use],
    available: int | None,
    maybe: int | None,
    members: list[str],
    candidates: tuple[str, ...],
) -> dict[str, Decision]:
    """Step 3 of :func:`judge` for `members`, against the uses left in `pool`."""

    def every(kind: str, code: str | None = None, link: str | None = None) -> dict:
        return {m: Decision(m, kind, code, link, candidates, link) for m in members}

    if not pool:
        return every(UNKNOWN)
    if maybe != 0 or available is None or available != len(members):
        return every(AMBIGUOUS)
    known = available == len(pool)  # every use in the pool is one of these members'
    owners = [_owner(evidence, use.code) for use in pool]
    if len(set(owners)) == 1:
        what, link = owners[0]
        codes = {use.code for use in pool}
        sure = known and len(codes) == 1 and all(use.code_sure for use in pool)
        only = codes.pop() if sure else None
        if what == ORGANIC:
            return every(ORGANIC, only)
        if what == LINK and link is not None:
            return every(EXACT, only, link) if only else every(LINK, None, link)
        return every(AMBIGUOUS)
    if not known:
        return every(AMBIGUOUS)
    # Several links: each gets as many joins as its invites were consumed; no member is named.
    credits = sorted((link or "" if what == LINK else "") for what, link in owners)
    return {
        m: Decision(m, AMBIGUOUS, None, None, candidates, credit or None)
        for m, credit in zip(members, credits, strict=True)
    }


def _claim(pool: list[Use], mine: list[Use], count: int, *, known: bool) -> list[Use]:
    """The pool after `count` members claimed uses among `mine` (the uses of one link).

    With a known pool the claimed uses leave it (if the link's uses were on several codes, which
    ones is not known: what is left keeps its link, not its code). Otherwise the pool stays a
    superset of what awaits a member: nothing leaves, and the link's codes are no longer sure.
    """
    if not known:
        return [replace(u, code_sure=False) if any(u is m for m in mine) else u for u in pool]
    rest = [use for use in pool if not any(use is m for m in mine)]
    left = mine[count:]
    if len({use.code for use in mine}) > 1:
        left = [replace(use, code_sure=False) for use in left]
    return rest + left


def unspent(snapshot: Mapping[str, InviteState], carry: Carry) -> dict[str, InviteState]:
    """The snapshot as if the carried uses had not happened yet, to persist.

    A carried use may belong to a member whose join is not recorded; a persisted snapshot that
    already counted it would hide that use from the next start's reconciliation. So each carried
    use is given back: a vanished invite comes back as it was, a grown one loses the use. (A use
    given back that was in fact claimed only makes the next window count more uses than members:
    ambiguous, never a wrong credit.)
    """
    restored = dict(snapshot)
    for use in carry.uses:
        now = restored.get(use.code)
        if now is None and use.was is not None:
            restored[use.code] = use.was
        elif now is not None and now.uses > 0:
            restored[use.code] = InviteState(now.code, now.uses - 1, now.max_uses, now.expires_at)
    return restored


def snapshot_from(invites: Iterable[InviteState]) -> dict[str, InviteState]:
    """A snapshot from a fetched invite list."""
    return {invite.code: invite for invite in invites}


def with_created(
    snapshot: Mapping[str, InviteState], invite: InviteState
) -> dict[str, InviteState]:
    """The snapshot after INVITE_CREATE: the invite with its uses at creation (normally 0).

    A code already known keeps its state: a late INVITE_CREATE for an invite the fetch already
    showed must not reset its uses (that would count them twice). There is deliberately no
    ``with_deleted``: see the module docstring.
    """
    if invite.code in snapshot:
        return dict(snapshot)
    return {**snapshot, invite.code: invite}


def next_before(
    after: Mapping[str, InviteState],
    created: Iterable[InviteState] = (),
    now: datetime | None = None,
) -> dict[str, InviteState]:
    """The next window's ``before``: this fetch plus invites created after it was sent.

    With ``now`` (the fetch time), invites surely expired then are left out: nobody can use
    them, and their vanishing later would otherwise count as a maybe use.
    """
    snapshot = dict(after)
    for invite in created:
        snapshot = with_created(snapshot, invite)
    if now is None:
        return snapshot
    return {
        code: invite
        for code, invite in snapshot.items()
        if invite.expires_at is None or invite.expires_at + CLOCK_SKEW > now
    }


def _tally(evidence: Evidence, now: datetime) -> tuple[Counter[str], int | None]:
    """Certain uses per code, and how many more uses may hide in the window (None = unbounded)."""
    certain: Counter[str] = Counter()
    maybe: int | None = 0
    for code, invite in evidence.after.items():
        was = evidence.before.get(code)
        grown = invite.uses - (was.uses if was else 0)
        if grown > 0:
            certain[code] += grown
        elif grown < 0:
            maybe = None
    for code, invite in evidence.before.items():
        if code in evidence.after or (code in evidence.managed and evidence.managed[code] is None):
            continue
        room = invite.max_uses - invite.uses if invite.max_uses else None
        if (room is not None and room <= 0) or (invite.max_uses == 1 and code in evidence.revoked):
            continue
        gone_at = evidence.deleted.get(code, now)
        expires_at = invite.expires_at
        if invite.max_uses == 1 and (expires_at is None or gone_at + CLOCK_SKEW < expires_at):
            certain[code] += 1
        elif room is None or maybe is None:
            maybe = None
        else:
            maybe += room
    return certain, maybe


def _owner(evidence: Evidence, code: str) -> tuple[str, str | None]:
    """(LINK, link id) for an assigned managed code, (ORGANIC, None) for an unmanaged one (the
    vanity URL included: the tracker lists it among the invites, with its uses)."""
    if code not in evidence.managed:
        return ORGANIC, None
    link = evidence.managed[code]
    return (LINK, link) if link is not None else (_POOLED, code)
