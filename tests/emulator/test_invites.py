"""Invites as Discord has them: limits and errors, reuse, single-use consumption, expiry, uses,
rejoins and duplicated joins."""

from __future__ import annotations

import pytest

from botworker.emulator import defaults
from botworker.emulator.invites import MAX_INVITES_PER_GUILD

CHANNEL = defaults.INVITE_CHANNEL_ID
INVITES = f"/channels/{CHANNEL}/invites"


@pytest.mark.parametrize(
    ("body", "field", "code"),
    [
        ({"max_age": 604801}, "max_age", "NUMBER_TYPE_MAX"),
        ({"max_age": -1}, "max_age", "NUMBER_TYPE_MIN"),
        ({"max_uses": 101}, "max_uses", "NUMBER_TYPE_MAX"),
        ({"max_uses": "many"}, "max_uses", "NUMBER_TYPE_COERCE"),
    ],
)
async def test_it_refuses_out_of_range_invite_options(api, body, field, code):
    # when the bot asks for an invite outside Discord's limits
    status, error, _ = await api.rest("POST", INVITES, body)

    # then Discord's 50035 names the field
    assert status == 400
    assert error["code"] == 50035 and error["message"] == "Invalid Form Body"
    assert error["errors"][field]["_errors"][0]["code"] == code


async def test_it_applies_discord_defaults(api):
    status, invite, _ = await api.rest("POST", INVITES, {})

    assert status == 200
    assert (invite["max_age"], invite["max_uses"], invite["temporary"]) == (86400, 0, False)
    assert invite["channel"]["id"] == CHANNEL and invite["guild"]["id"] == defaults.GUILD_ID
    assert invite["inviter"]["id"] == defaults.APPLICATION_ID


async def test_it_reuses_a_similar_invite_unless_unique(api):
    _, first, _ = await api.rest("POST", INVITES, {"max_uses": 5})
    _, again, _ = await api.rest("POST", INVITES, {"max_uses": 5})
    _, unique, _ = await api.rest("POST", INVITES, {"max_uses": 5, "unique": True})

    assert again["code"] == first["code"]
    assert unique["code"] != first["code"]


async def test_it_refuses_the_invite_after_the_guild_limit(emulator, api):
    # given a guild already holding Discord's maximum of invites
    for _ in range(MAX_INVITES_PER_GUILD):
        emulator.create_invite(unique=True)

    # when one more is asked for
    status, error, _ = await api.rest("POST", INVITES, {"unique": True})

    # then 30016
    assert status == 400
    assert error["code"] == 30016


async def test_it_answers_unknown_invite(api):
    status, error, _ = await api.rest("GET", "/invites/doesnotexist")

    assert status == 404
    assert error == {"message": "Unknown Invite", "code": 10006}


async def test_it_hides_usage_metadata_on_the_public_invite(emulator, api):
    invite = emulator.create_invite(max_uses=3)

    _, public, _ = await api.rest("GET", f"/invites/{invite.code}?with_counts=true")

    assert "uses" not in public and "max_uses" not in public
    assert public["approximate_member_count"] == 2


@pytest.mark.parametrize("order", ["before", "after"])
async def test_it_consumes_a_single_use_invite(emulator, api, order):
    # given a single-use invite
    _, invite, _ = await api.rest("POST", INVITES, {"max_uses": 1, "unique": True})
    emulator.set_invite_delete_order(order)

    # when a user joins with it
    emulator.accept_invite(invite["code"])

    # then it is gone, INVITE_DELETE was sent in the configured order, and it cannot be reused
    status, _, _ = await api.rest("GET", f"/invites/{invite['code']}")
    assert status == 404
    _, listed, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/invites")
    assert invite["code"] not in {i["code"] for i in listed}
    names = [name for name, _ in emulator.gateway.events if name != "INVITE_CREATE"]
    expected = ["INVITE_DELETE", "GUILD_MEMBER_ADD"]
    assert names == (expected if order == "before" else expected[::-1])
    status, error = await api.control("POST", f"/invites/{invite['code']}/accept", {})
    assert (status, error["code"]) == (404, 10006)


async def test_it_counts_uses_of_a_multi_use_invite(emulator, api):
    invite = emulator.create_invite(max_uses=0, inviter_id=defaults.APPLICATION_ID)

    emulator.accept_invite(invite.code)
    emulator.accept_invite(invite.code)

    _, listed, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/invites")
    (entry,) = [i for i in listed if i["code"] == invite.code]
    assert entry["uses"] == 2
    assert entry["channel"] == {"id": CHANNEL, "name": "start-here", "type": 0}


async def test_it_expires_invites_on_the_emulated_clock(emulator, api):
    # given an invite valid for one hour
    _, invite, _ = await api.rest("POST", INVITES, {"max_age": 3600, "unique": True})

    # when an hour passes
    emulator.clock.advance(3600)

    # then it no longer works and has vanished from the lists, without any event
    status, _, _ = await api.rest("GET", f"/invites/{invite['code']}")
    assert status == 404
    _, listed, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/invites")
    assert listed == []
    status, error = await api.control("POST", f"/invites/{invite['code']}/accept", {})
    assert (status, error["code"]) == (404, 10006)
    assert "INVITE_DELETE" not in [name for name, _ in emulator.gateway.events]


async def test_it_marks_a_rejoining_member(emulator):
    invite = emulator.create_invite()
    user = emulator.create_user("erin")
    first = emulator.accept_invite(invite.code, user.id)

    emulator.remove_member(user.id)
    again = emulator.accept_invite(invite.code, user.id)

    assert first.flags & 1 == 0
    assert again.flags & 1 == 1  # DID_REJOIN
    assert [t["rejoin"] for t in emulator.ground_truth() if t["user_id"] == user.id] == [
        False,
        True,
    ]


async def test_it_does_not_count_a_use_for_an_existing_member(emulator):
    invite = emulator.create_invite(max_uses=2)
    user = emulator.create_user()
    emulator.accept_invite(invite.code, user.id)

    emulator.accept_invite(invite.code, user.id)

    assert emulator.world.invites[invite.code].uses == 1


async def test_it_duplicates_member_add_on_demand(emulator, api):
    invite = emulator.create_invite()

    status, _ = await api.control(
        "POST", f"/invites/{invite.code}/accept", {"duplicate_member_add": True}
    )

    assert status == 200
    assert [n for n, _ in emulator.gateway.events].count("GUILD_MEMBER_ADD") == 2
    assert len(emulator.ground_truth()) == 3  # the two seeded members and this one


async def test_it_requires_manage_guild_to_list_guild_invites(emulator, api):
    # given a bot whose role lost Manage Guild
    role = emulator.world.guilds[defaults.GUILD_ID].roles[defaults.BOT_ROLE_ID]
    role.permissions &= ~(1 << 5)

    status, error, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/invites")

    assert (status, error["code"]) == (403, 50013)


async def test_it_deletes_an_invite_with_an_event(emulator, api):
    invite = emulator.create_invite()

    status, deleted, _ = await api.rest("DELETE", f"/invites/{invite.code}")

    assert status == 200 and deleted["code"] == invite.code
    assert emulator.gateway.events[-1][0] == "INVITE_DELETE"


async def test_the_vanity_url_counts_its_joins_outside_the_invite_list(emulator, api):
    # given a guild with a vanity URL
    emulator.world.guilds[defaults.GUILD_ID].vanity_url_code = "invitetrail"
    vanity = f"/guilds/{defaults.GUILD_ID}/vanity-url"
    _, before, _ = await api.rest("GET", vanity)

    # when a user joins through it
    user = emulator.create_user("fan")
    emulator.accept_invite("invitetrail", user.id)

    # then Get Guild Vanity URL counts the use; the invite list does not hold it
    _, after, _ = await api.rest("GET", vanity)
    _, listed, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/invites")
    assert (before, after) == (
        {"code": "invitetrail", "uses": 0},
        {"code": "invitetrail", "uses": 1},
    )
    assert "invitetrail" not in [i["code"] for i in listed]
    assert [t["via"] for t in emulator.ground_truth() if t["user_id"] == user.id] == ["vanity"]


async def test_a_guild_without_a_vanity_url_answers_a_null_code(api):
    status, body, _ = await api.rest("GET", f"/guilds/{defaults.GUILD_ID}/vanity-url")

    assert (status, body) == (200, {"code": None, "uses": 0})
