"""The per-guild bookkeeping of invite tracking, without Discord: when a batch may be decided."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from botworker.attribution import Carry, InviteState, Use
from botworker.exts.invite_tracking._logic import (
    LAG_BOUNDS,
    ROLE_GRACE_SECONDS,
    SETTLE_SECONDS,
    GuildInvites,
    PendingJoin,
)

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def single_use(code: str, uses: int = 0) -> InviteState:
    return InviteState(code, uses, 1, LATER)


class Clock:
    """The tracker's monotonic clock, moved by the test: nothing here waits on the wall."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


CLOCK = Clock()


def join(member: str, arrived: float | None = None, roles: tuple[str, ...] = ()) -> PendingJoin:
    arrived = CLOCK.now if arrived is None else arrived
    return PendingJoin(member, member, NOW, False, arrived, NOW, frozenset(roles))


def tracker(*codes: str) -> GuildInvites:
    return GuildInvites("1", {c: single_use(c) for c in codes}, NOW, clock=CLOCK)


def test_it_decides_a_join_whose_use_the_fetch_shows():
    # given a snapshot with two invites and one queued join
    book = tracker("a", "b")
    book.enqueue(join("m1"))
    book.start_fetch(NOW)

    # when the fetch shows invite "a" consumed
    verdict = book.judge({"b": single_use("b")}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    # then the join is exact, through "a", for link L1
    (decision,) = verdict.decisions
    assert verdict.defer is None
    assert (decision.kind, decision.invite_code, decision.link_id) == ("exact", "a", "L1")


def test_it_waits_for_late_joins_when_the_fetch_shows_more_uses_than_members():
    # given one queued join and a fetch where two invites were consumed
    book = tracker("a", "b")
    book.enqueue(join("m1"))
    book.start_fetch(NOW)

    # when it is judged
    verdict = book.judge({}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    # then it waits for a second member before deciding anything
    assert (verdict.defer, verdict.expected) == ("joins", 2)


def test_it_decides_a_late_batch_anyway_once_it_waited_long_enough():
    book = tracker("a", "b")
    book.enqueue(join("m1", arrived=CLOCK.now - SETTLE_SECONDS))
    book.start_fetch(NOW)

    verdict = book.judge({}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    assert verdict.defer is None
    assert [d.kind for d in verdict.decisions] == ["ambiguous"]


def test_it_does_not_wait_when_every_member_carries_a_referral_role():
    # given two invites consumed, one member so far, who carries L1's role
    book = tracker("a", "b")
    book.enqueue(join("m1", roles=("role1",)))
    book.start_fetch(NOW)

    # when judged
    verdict = book.judge(
        {}, {"a": "L1", "b": "L2"}, frozenset(), NOW, role_links={"role1": "L1", "role2": "L2"}
    )
    book.settle({}, verdict, NOW)

    # then the role decides at once, and the other use waits for its member
    assert verdict.defer is None
    assert [(d.kind, d.link_id) for d in verdict.decisions] == [("exact", "L1")]
    assert book.carry.unclaimed == 1


def test_it_waits_briefly_for_the_role_of_an_undecided_member():
    # given a member whose roles have not arrived, in a window the diff cannot decide
    book = tracker("a", "b")
    book.enqueue(join("m1"))
    book.enqueue(join("m2"))
    book.start_fetch(NOW)
    links = {"role1": "L1", "role2": "L2"}
    uses = ({}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    # when judged / then it waits for GUILD_MEMBER_UPDATE
    assert book.judge(*uses, role_links=links).defer == "roles"
    book.cancel_fetch()

    # when the roles arrive, the next fetch decides both exactly
    assert book.roles_updated("m1", frozenset({"role2"}))
    assert book.roles_updated("m2", frozenset({"role1"}))
    book.start_fetch(NOW)
    verdict = book.judge(*uses, role_links=links)
    assert [(d.kind, d.link_id) for d in verdict.decisions] == [("exact", "L2"), ("exact", "L1")]


def test_it_stops_waiting_for_roles_after_the_grace():
    book = tracker("a", "b")
    book.enqueue(join("m1", arrived=CLOCK.now - ROLE_GRACE_SECONDS))
    book.enqueue(join("m2", arrived=CLOCK.now - ROLE_GRACE_SECONDS))
    book.start_fetch(NOW)

    verdict = book.judge({}, {"a": "L1", "b": "L2"}, frozenset(), NOW, role_links={"r": "L1"})

    assert verdict.defer is None
    assert sorted(d.credit_link for d in verdict.decisions) == ["L1", "L2"]


def test_it_measures_the_gateway_lag_from_the_events_own_timestamps():
    book = tracker()
    assert book.lag == LAG_BOUNDS[1]  # nothing measured yet: the longest
    book.observe_lag(NOW + timedelta(seconds=0.3), NOW)
    book.observe_lag(NOW + timedelta(seconds=0.1), NOW)
    assert book.lag == timedelta(seconds=1.6)  # twice the slowest, plus the margin
    book.observe_lag(NOW + timedelta(seconds=2), NOW)
    assert book.lag == timedelta(seconds=5)  # a stall widens it at once


def test_a_use_nobody_claimed_stops_blocking_once_older_than_the_lag():
    # given: a fetch showed a use of "b" that no member came for (an admin deleted it, say)
    book = tracker("a")
    book.observe_lag(NOW, NOW)
    book.carry = Carry((Use("b", NOW),), 1)

    # when m1 arrives within the lag, then long after it
    def verdict(at):
        book.queue = [PendingJoin("m1", "m1", at, False, CLOCK.now, at)]
        book.start_fetch(at)
        return book.judge({}, {"a": "L1", "b": "L2"}, frozenset(), at, force=True)

    soon, later = verdict(NOW + timedelta(seconds=0.2)), verdict(NOW + timedelta(seconds=5))
    assert book.lag < timedelta(seconds=5)

    # then the use blocks a decision only while its member may still be on the way
    assert [d.kind for d in soon.decisions] == ["ambiguous"]
    assert [(d.kind, d.invite_code) for d in later.decisions] == [("exact", "a")]


def test_it_fetches_again_when_a_join_arrived_during_the_fetch():
    # given a fetch sent before the second join arrived, showing one use
    book = tracker("a", "b")
    book.enqueue(join("m1", arrived=CLOCK.now - 1))
    book.start_fetch(NOW)
    book.enqueue(join("m2", arrived=CLOCK.now + 0.01))

    # when it is judged
    verdict = book.judge({"b": single_use("b")}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    # then it asks for a fresh fetch rather than deciding on a stale one
    assert verdict.defer == "refetch"


@pytest.mark.parametrize("force", [False, True])
def test_it_never_pairs_a_join_that_outran_the_fetch_with_someone_elses_use(force):
    # given a fetch sent before m2's GUILD_MEMBER_ADD came, that shows invite "a" consumed: the
    # use of a member whose event is still on its way, while m2 (who used "b") joined after
    # Discord built the list — one member, one use, not theirs
    book = tracker("a", "b")
    book.start_fetch(NOW)
    book.enqueue(join("m2", arrived=CLOCK.now + 0.01))

    # when it is judged, even after waiting as long as it would
    verdict = book.judge(
        {"b": single_use("b")}, {"a": "L1", "b": "L2"}, frozenset(), NOW, force=force
    )

    # then it fetches again instead of crediting m2 with "a"
    assert verdict.defer == "refetch"


def test_it_keeps_a_deleted_code_in_the_snapshot_until_the_next_diff():
    # given INVITE_DELETE for "a" seen before the join
    book = tracker("a")
    book.invite_deleted("a", NOW)
    book.enqueue(join("m1"))
    book.start_fetch(NOW)

    # when the fetch no longer lists "a"
    verdict = book.judge({}, {"a": "L1"}, frozenset(), NOW)
    book.settle({}, verdict, NOW)

    # then the join is credited to "a", and the next baseline forgets it
    assert verdict.decisions[0].invite_code == "a"
    assert book.before == {} and book.deleted == {}


def test_it_drops_a_repeated_member_add():
    # given a join that was decided
    book = tracker("a")
    book.enqueue(join("m1"))
    book.start_fetch(NOW)
    book.settle({}, book.judge({}, {"a": "L1"}, frozenset(), NOW), NOW)

    # when the same GUILD_MEMBER_ADD comes again / then it is not queued
    assert book.enqueue(join("m1")) is False
    assert book.queue == []


def test_it_puts_an_invite_created_during_a_fetch_in_the_next_baseline_only():
    # given a fetch in flight when INVITE_CREATE for "c" arrives
    book = tracker("a")
    book.start_fetch(NOW)
    book.invite_created(single_use("c"))

    # then "c" is not in this window's baseline, and is in the next one
    assert "c" not in book.before
    book.settle(
        {"a": single_use("a")}, book.judge({"a": single_use("a")}, {}, frozenset(), NOW), NOW
    )
    assert set(book.before) == {"a", "c"}


def test_it_has_every_join_unknown_without_a_baseline():
    # given no snapshot (never taken, or the last fetch failed)
    book = GuildInvites("1")
    book.enqueue(join("m1"))
    book.start_fetch(NOW)

    # when a fetch comes back
    verdict = book.judge({"a": single_use("a")}, {"a": "L1"}, frozenset(), NOW)
    book.settle({"a": single_use("a")}, verdict, NOW)

    # then the join is unknown and the fetch is the new baseline
    assert [d.kind for d in verdict.decisions] == ["unknown"]
    assert set(book.before) == {"a"} and book.taken_at == NOW


def test_it_persists_a_snapshot_that_gives_back_uses_still_waiting_for_their_member():
    # given a fetch that showed "b" consumed by a member whose GUILD_MEMBER_ADD has not come
    book = tracker("a", "b")
    book.observe_lag(NOW, NOW)
    book.enqueue(join("m1", roles=("role1",)))
    book.start_fetch(NOW)
    verdict = book.judge({}, {"a": "L1", "b": "L2"}, frozenset(), NOW, role_links={"role1": "L1"})
    book.settle({}, verdict, NOW)
    assert book.carry.unclaimed == 1

    # when the bot would persist its snapshot (and then stop)
    snapshot, since = book.persistable()

    # then "b" is in it as it was, so the next start still sees its use, and reconciliation
    # starts early enough to find the member who used it
    assert snapshot == {"b": single_use("b")}
    assert since <= NOW
