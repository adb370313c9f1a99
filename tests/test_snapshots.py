"""The bot's invite snapshot survives a restart: in Redis when configured, else the database."""

from datetime import UTC, datetime

from botworker.attribution import InviteState
from botworker.snapshots import load_snapshot, save_snapshot

T0 = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)
GUILD = "1300000000000000100"


def test_a_snapshot_reads_back_as_it_was_saved(db):
    invites = {
        "abc": InviteState("abc", 0, 1, datetime(2026, 11, 24, 12, 10, tzinfo=UTC)),
        "perm": InviteState("perm", 7, 0, None),
    }
    save_snapshot(GUILD, invites, T0)
    assert load_snapshot(GUILD) == (invites, T0)


def test_a_newer_snapshot_replaces_the_old_one(db):
    save_snapshot(GUILD, {"a": InviteState("a", 0, 1, None)}, T0)
    save_snapshot(GUILD, {}, T0.replace(minute=5))
    assert load_snapshot(GUILD) == ({}, T0.replace(minute=5))


def test_an_unknown_guild_has_no_snapshot(db):
    assert load_snapshot("1300000000000000999") is None
