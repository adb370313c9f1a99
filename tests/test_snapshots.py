"""The bot's invite snapshot survives a restart: in Redis when configured, else the database."""

from datetime import UTC, datetime

from botworker.attribution import InviteState
from botworker.snapshots import load_snapshot, load_unrecorded, save_snapshot, save_unrecorded

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


def test_joins_kept_unrecorded_are_saved_with_the_snapshot_and_read_back(db):
    kept = {
        "guild_id": GUILD,
        "member_id": "1300000000000000777",
        "username": "hana",
        "joined_at": T0,
        "decision": "exact",
        "invite_code": "abc",
        "link_id": None,
        "candidates": ("abc",),
        "rejoin_flag": False,
        "credit_link_id": None,
    }
    save_snapshot(GUILD, {}, T0, [kept])
    assert load_unrecorded(GUILD) == [kept]
    assert save_unrecorded(GUILD, []) is True
    assert load_unrecorded(GUILD) == []
    assert load_snapshot(GUILD) == ({}, T0)
