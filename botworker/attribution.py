"""Which invite did a new member use? Pure attribution over invite snapshots.

Discord does not say. The bot keeps a snapshot of the guild's invites, fetches the list again
after one or more joins (the *window* is the time between the two readings) and asks
:func:`attribute`, which credits a link only when the evidence leaves no other possibility.
Plain data in, decisions out: no Django, no database, no nextcord.

Keeping the snapshot (what the caller owes these functions):

- ``before`` is never shrunk by ``INVITE_DELETE``: deletions go to ``Evidence.deleted``. If the
  snapshot dropped a code whose delete arrived before the ``GUILD_MEMBER_ADD``, the invite the
  member used would be invisible to the diff.
- ``INVITE_CREATE`` received before the fetch is sent goes into the current ``before``
  (:func:`with_created`); one received later goes into the next (``next_before(after, created)``).
- ``managed`` and ``revoked`` are read *after* the fetch; ``revoked`` holds codes whose deletion
  by a person is known (our own successful DELETE; an admin's per the audit log).
- Duplicate ``GUILD_MEMBER_ADD`` across calls (same member, same ``joined_at``) is dropped by the
  caller; within a call :func:`attribute` counts a member once.
- The next call gets ``unexplained_uses=unexplained_after(...)`` of this one. When no join has
  arrived for longer than the gateway's lag since the last fetch, it may be reset to 0.
"""

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

EXACT, LINK, AMBIGUOUS, ORGANIC, UNKNOWN = "exact", "link", "ambiguous", "organic", "unknown"

# Our clock and Discord's disagree a little: an expiry this close to a vanishing is "maybe".
CLOCK_SKEW = timedelta(seconds=30)
_VANITY = "(vanity)"


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


@dataclass(frozen=True)
class Decision:
    member_id: str
    kind: str  # EXACT | LINK | AMBIGUOUS | ORGANIC | UNKNOWN
    invite_code: str | None  # set for EXACT (and ORGANIC when one invite is certain)
    link_id: str | None  # set for EXACT and LINK only
    candidates: tuple[str, ...]  # codes with a certain use in the window, sorted


@dataclass(frozen=True)
class Evidence:
    before: Mapping[str, InviteState]  # snapshot before these joins, plus invites created since
    after: Mapping[str, InviteState]  # the invite list fetched after the joins
    deleted: Mapping[str, datetime]  # INVITE_DELETE seen since the snapshot: code -> when seen
    revoked: frozenset[str]  # codes known to be deleted by a person, not consumed
    managed: Mapping[str, str | None]  # managed codes -> link id (None = pooled)
    vanity_code: str | None = None
    vanity_uses_delta: int = 0  # growth of the vanity URL's uses, read after the invite list
    # Uses counted in earlier windows that no join has accounted for yet; None = unknown.
    unexplained_uses: int | None = 0


def attribute(evidence: Evidence, joins: Sequence[Join], now: datetime) -> list[Decision]:
    """One decision per join, in the order given; every join in a call gets the same decision.

    1. Count *certain* uses per code: growth of ``uses`` (codes absent from ``before`` count
       from 0), vanity growth, and each single-use invite in ``before``, unused, that vanished
       surely before its expiry (the time its INVITE_DELETE was seen, else ``now``, plus
       ``CLOCK_SKEW``), unless revoked (a successful DELETE proves it unused) or pooled (nobody
       was given it).
    2. Count *maybe* uses: a single-use invite that vanished around or after its expiry (used,
       or just expired?) and a multi-use invite that vanished (up to its remaining uses;
       unbounded when unlimited, as when uses or the vanity count went down).
    3. Members count once (duplicate GUILD_MEMBER_ADD never inflates the join count).
    4. No certain use -> ``unknown``.
    5. Certain uses must equal the members, with no maybe use and nothing unexplained carried
       from earlier windows; otherwise -> ``ambiguous`` with the candidate codes.
    6. All uses on one code of a link -> ``exact``; on several codes of one link -> ``link``;
       all on unmanaged/vanity codes -> ``organic`` (with the code when there is one);
       anything else (mixed links, a pooled code that gained uses) -> ``ambiguous``.

    Why a credit is right: if every member in the call has a use in this window (step 5's
    "nothing unexplained": no earlier use is waiting for a later GUILD_MEMBER_ADD, see
    :func:`unexplained_after`) and every use in the window is seen (no maybe use), then as many
    uses as members means the candidate uses *are* the members' uses. Stricter than "one join,
    one candidate" because a fetch may already show the use of a member whose GUILD_MEMBER_ADD
    comes in the next batch; without the carry that next member would be credited with a use
    of the batch after it.

    Residual, which these inputs cannot tell apart: a member who joined through no invite at
    all (Server Discovery, an OAuth2 ``guilds.join``) in the same window as a use that is not
    theirs -- a single-use invite deleted by hand that is not in ``revoked`` (looks consumed),
    or a use whose GUILD_MEMBER_ADD arrives only after this fetch. Then the counts match and the
    member is credited. Callers shrink it by putting audit-log deletions in ``revoked`` and by
    letting joins that arrive while the fetch is in flight join this batch.
    """
    certain, maybe = _tally(evidence, now)
    members = len({join.member_id for join in joins})
    kind, code, link = _decide(evidence, certain, maybe, members)
    candidates = tuple(sorted(certain))
    return [Decision(join.member_id, kind, code, link, candidates) for join in joins]


def unexplained_after(evidence: Evidence, joins: Sequence[Join], now: datetime) -> int | None:
    """Uses seen up to this window that may belong to joins not yet processed (None = unknown).

    An upper bound: earlier unexplained uses, plus this window's certain and maybe uses, minus
    one per member processed now (each member used at least one of them). Pass it as the next
    call's ``unexplained_uses``; while it is above 0 no decision can be certain.
    """
    certain, maybe = _tally(evidence, now)
    if maybe is None or evidence.unexplained_uses is None:
        return None
    members = len({join.member_id for join in joins})
    return max(0, evidence.unexplained_uses + sum(certain.values()) + maybe - members)


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
    if evidence.vanity_uses_delta > 0:
        certain[evidence.vanity_code or _VANITY] += evidence.vanity_uses_delta
    elif evidence.vanity_uses_delta < 0:
        maybe = None
    return certain, maybe


def _decide(
    evidence: Evidence, certain: Counter[str], maybe: int | None, members: int
) -> tuple[str, str | None, str | None]:
    """Kind, invite code and link id for every member of the call (steps 4-6)."""
    if not certain:
        return UNKNOWN, None, None
    if sum(certain.values()) != members or maybe != 0 or evidence.unexplained_uses != 0:
        return AMBIGUOUS, None, None
    owners = {_owner(evidence, code) for code in certain}
    if len(owners) != 1:
        return AMBIGUOUS, None, None
    what, link = owners.pop()
    only = next(iter(certain)) if len(certain) == 1 else None
    if what == ORGANIC:
        return ORGANIC, only, None
    if what == LINK and link is not None:
        return (EXACT, only, link) if only else (LINK, None, link)
    return AMBIGUOUS, None, None


def _owner(evidence: Evidence, code: str) -> tuple[str, str | None]:
    """(LINK, link id) for an assigned managed code, (ORGANIC, None) for unmanaged or vanity."""
    if code not in evidence.managed:
        return ORGANIC, None
    link = evidence.managed[code]
    return (LINK, link) if link is not None else ("pooled", code)
