"""Joins the bot decided while the database could not record them: kept, and recorded once
when it is back (by the running bot, or by the next start), with the decision already made."""

from __future__ import annotations

import asyncio
import threading

import pytest
from asgiref.sync import sync_to_async
from django.db import OperationalError

from analytics import joins
from analytics.models import ReferralEvent

from .helpers import give_invite, stop_bot

pytestmark = pytest.mark.django_db(transaction=True)


class DatabaseOutage:
    """The database fails every join recording while `down` (a fault injected at the bot's
    recording boundary; everything else uses the real database)."""

    def __init__(self, monkeypatch) -> None:
        self.down = threading.Event()
        self.attempted = threading.Event()
        # Both ways `record_joins` writes (the batch, then each join alone) are looked up at
        # each call (the bot's extension modules are imported anew by each bot, so a name bound
        # in them cannot be patched from here).
        for name in ("_record_together", "record_join"):
            monkeypatch.setattr(joins, name, self._failing_while_down(getattr(joins, name)))

    def _failing_while_down(self, real):
        def write(*args, **kwargs):
            if self.down.is_set():
                self.attempted.set()
                raise OperationalError("server closed the connection unexpectedly")
            return real(*args, **kwargs)

        return write

    async def wait_attempt(self) -> None:
        assert await asyncio.to_thread(self.attempted.wait, 10), "no recording was attempted"


@pytest.fixture
def outage(monkeypatch, settings) -> DatabaseOutage:
    settings.BOT_RECORD_RETRY_SECONDS = 0.05
    return DatabaseOutage(monkeypatch)


def _joins(member_id: str) -> list[ReferralEvent]:
    return list(
        ReferralEvent.objects.filter(
            event_type=ReferralEvent.EventType.DISCORD_JOIN, discord_user_id=member_id
        )
    )


async def test_a_join_decided_while_the_database_is_down_is_recorded_once_it_is_back(
    discord_emulator, run_bot, tracked_campaign, bob_link, outage
):
    # given a running bot, and a database that fails while a visitor of bob's link joins
    bot, log = await run_bot()
    code = await give_invite(bob_link, "visitor-1")
    outage.down.set()
    member = discord_emulator.accept_invite(code).user_id
    await outage.wait_attempt()
    assert await sync_to_async(_joins)(member) == []

    # when the database is back
    outage.down.clear()

    # then the join is recorded, exactly once, with the decision made when it happened
    await log.wait("join_recorded", lambda g, m, o: m == member, timeout=10)
    (event,) = await sync_to_async(_joins)(member)
    assert (event.metadata["decision"], event.metadata["invite_code"]) == ("exact", code)
    assert event.link_id == bob_link.pk
    # and the member is welcomed as any recorded join
    attributed, _ = await log.wait("member_attributed")
    assert str(attributed.id) == member
    assert len(log.events["join_recorded"]) == 1


async def test_a_kept_join_survives_a_restart_and_is_recorded_once(
    discord_emulator, run_bot, tracked_campaign, bob_link, outage
):
    # given a join the bot could not record, and the bot stopped while the database is down
    bot, log = await run_bot()
    code = await give_invite(bob_link, "visitor-1")
    outage.down.set()
    member = discord_emulator.accept_invite(code).user_id
    await outage.wait_attempt()
    await log.wait("invite_snapshot", count=2)  # the batch is done: its snapshot persisted
    await stop_bot(bot)

    # when the database is back and the bot starts again
    outage.down.clear()
    _, log = await run_bot()

    # then the join is recorded once, exact, through bob's invite (the decision kept)
    await log.wait("join_recorded", lambda g, m, o: m == member, timeout=10)
    (event,) = await sync_to_async(_joins)(member)
    assert (event.metadata["decision"], event.metadata["invite_code"]) == ("exact", code)
    assert event.link_id == bob_link.pk
    assert len(log.events["join_recorded"]) == 1
