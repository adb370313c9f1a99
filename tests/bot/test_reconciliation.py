"""Start-up reconciliation: joins that happened while the bot was stopped are attributed."""

from __future__ import annotations

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError

from analytics import joins
from analytics.models import ReferralEvent
from botworker import snapshots

from .helpers import give_invite, stop_bot

pytestmark = pytest.mark.django_db(transaction=True)


def _joins() -> dict[str, ReferralEvent]:
    events = ReferralEvent.objects.filter(event_type=ReferralEvent.EventType.DISCORD_JOIN)
    return {e.discord_user_id: e for e in events}


async def test_it_attributes_the_joins_made_while_it_was_stopped(
    discord_emulator, run_bot, tracked_campaign, bob_link
):
    # given a bot that took its snapshot and was stopped (as on SIGTERM)
    bot, _ = await run_bot()
    await stop_bot(bot)

    # when three visitors of bob's link get invites and join while it is stopped
    codes = [await give_invite(bob_link, f"visitor-{n}") for n in range(3)]
    members = [discord_emulator.accept_invite(code).user_id for code in codes]
    # and the bot starts again
    _, log = await run_bot()

    # then the three joins are recorded, credited to bob's link
    await log.wait("join_recorded", count=3)
    recorded = await sync_to_async(_joins)()
    assert set(recorded) == set(members)
    assert {e.metadata["decision"] for e in recorded.values()} == {"link"}
    assert {e.link_id for e in recorded.values()} == {bob_link.pk}


async def test_it_attributes_one_offline_join_exactly(
    discord_emulator, run_bot, tracked_campaign, bob_link, charlie_link
):
    # given invites handed out while the bot ran, then the bot stopped
    bob_code = await give_invite(bob_link, "visitor-b")
    await give_invite(charlie_link, "visitor-c")
    bot, _ = await run_bot()
    await stop_bot(bot)

    # when bob's visitor joins while it is stopped, and it starts again
    member = discord_emulator.accept_invite(bob_code).user_id
    _, log = await run_bot()

    # then that join is exact, through bob's invite; nothing else is recorded
    await log.wait("join_recorded")
    recorded = await sync_to_async(_joins)()
    assert list(recorded) == [member]
    assert recorded[member].metadata["decision"] == "exact"
    assert recorded[member].metadata["invite_code"] == bob_code
    assert recorded[member].link_id == bob_link.pk


async def test_it_does_not_record_again_joins_recorded_before_the_restart(
    discord_emulator, run_bot, tracked_campaign, bob_link
):
    # given a join the running bot recorded
    bot, log = await run_bot()
    member = discord_emulator.accept_invite(await give_invite(bob_link, "visitor-1")).user_id
    await log.wait("join_recorded")
    await stop_bot(bot)

    # when the bot starts again
    _, log = await run_bot()

    # then nothing is reconciled: still one join record
    assert log.events["join_recorded"] == []
    assert list(await sync_to_async(_joins)()) == [member]


async def _offline_join_then_one_failure(
    discord_emulator, run_bot, link, monkeypatch, module, name: str
) -> str:
    """A join through `link` made while the bot was stopped (its snapshot taken first), and
    `module.name` failing its next call as a database that does not answer: a fault injected
    at that one read, everything else uses the real database. Returns the member."""
    code = await give_invite(link, "visitor-1")
    bot, _ = await run_bot()
    await stop_bot(bot)
    member = discord_emulator.accept_invite(code).user_id
    real, failures = getattr(module, name), [OperationalError("connection refused")]

    def failing_once(*args, **kwargs):
        if failures:
            raise failures.pop()
        return real(*args, **kwargs)

    monkeypatch.setattr(module, name, failing_once)
    return member


async def test_a_database_failure_at_start_up_delays_the_reconciliation_and_loses_no_join(
    discord_emulator, run_bot, tracked_campaign, bob_link, monkeypatch, caplog
):
    # given a bot that took its snapshot and was stopped, and a join made while it was stopped,
    # and a database that fails the first look at who is recorded
    member = await _offline_join_then_one_failure(
        discord_emulator, run_bot, bob_link, monkeypatch, joins, "recorded_members"
    )

    # when the bot starts again
    _, log = await run_bot(wait_snapshot=False)

    # then the reconciliation is tried again, and the offline join is recorded, exactly
    await log.wait("join_recorded", lambda g, m, o: m == member, timeout=10)
    recorded = await sync_to_async(_joins)()
    assert list(recorded) == [member]
    assert recorded[member].metadata["decision"] == "exact"
    assert "not reconciled (try 1); trying again in 1 s" in caplog.text


async def test_a_snapshot_store_that_does_not_answer_at_start_up_keeps_the_offline_joins(
    discord_emulator, run_bot, tracked_campaign, bob_link, monkeypatch, caplog
):
    # given a join made while the bot was stopped, and a store that fails the first read of
    # the persisted snapshot
    member = await _offline_join_then_one_failure(
        discord_emulator, run_bot, bob_link, monkeypatch, snapshots, "load_snapshot"
    )

    # when the bot starts again
    _, log = await run_bot(wait_snapshot=False)

    # then start-up is tried again from that snapshot, and the offline join is found, exactly
    await log.wait("join_recorded", lambda g, m, o: m == member, timeout=10)
    recorded = await sync_to_async(_joins)()
    assert recorded[member].metadata["decision"] == "exact"
    assert "not reconciled (try 1)" in caplog.text
