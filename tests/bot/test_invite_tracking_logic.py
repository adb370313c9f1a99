"""The per-guild bookkeeping of invite tracking, without Discord: when a batch may be decided."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from botworker.attribution import InviteState
from botworker.exts.invite_tracking._logic import GuildInvites, PendingJoin

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
LATER = NOW + timedelta(hours=1)


def single_use(code: str, uses: int = 0) -> InviteState:
    return InviteState(code, uses, 1, LATER)


def join(member: str, arrived: float | None = None) -> PendingJoin:
    return PendingJoin(member, member, NOW, False, time.monotonic() if arrived is None else arrived)


def tracker(*codes: str) -> GuildInvites:
    return GuildInvites("1", {c: single_use(c) for c in codes}, NOW)


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
    assert (verdict.defer, verdict.expected, verdict.decisions) == ("wait", 2, [])


def test_it_fetches_again_when_a_join_arrived_during_the_fetch():
    # given a fetch sent before the second join arrived, showing one use
    book = tracker("a", "b")
    book.enqueue(join("m1", arrived=time.monotonic() - 1))
    book.start_fetch(NOW)
    book.enqueue(join("m2"))

    # when it is judged
    verdict = book.judge({"b": single_use("b")}, {"a": "L1", "b": "L2"}, frozenset(), NOW)

    # then it asks for a fresh fetch rather than deciding on a stale one
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
