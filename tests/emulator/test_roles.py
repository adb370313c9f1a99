"""Guild roles and role invites as Discord documents them: Create/Delete Guild Role, `role_ids`
on Create Channel Invite, `roles` on invite objects, and the roles given on accepting — in
GUILD_MEMBER_ADD or in a GUILD_MEMBER_UPDATE after it (`roles_in`)."""

from __future__ import annotations

import nextcord
import pytest

from botworker.emulator import defaults
from botworker.emulator import permissions as perms
from botworker.emulator.roles import MAX_ROLES_PER_GUILD

GUILD = defaults.GUILD_ID
CHANNEL = defaults.INVITE_CHANNEL_ID
ROLES = f"/guilds/{GUILD}/roles"
INVITES = f"/channels/{CHANNEL}/invites"


def positions(emulator) -> dict[str, int]:
    return {r.name: r.position for r in emulator.world.guilds[GUILD].roles.values()}


async def role_invite(api, *role_ids: str, **options) -> dict:
    status, invite, _ = await api.rest(
        "POST", INVITES, {"unique": True, "max_uses": 1, "role_ids": list(role_ids), **options}
    )
    assert status == 200, invite
    return invite


# -- Create Guild Role ---------------------------------------------------------------------------


async def test_it_creates_a_role_at_position_one_through_nextcord(emulator, discord_client):
    # given a ready bot
    client, log = await discord_client(emulator, record=("guild_role_create",))
    guild = client.get_guild(int(GUILD))

    # when it creates a referral role
    role = await guild.create_role(name="via Link 1", colour=nextcord.Colour(0x3498DB))

    # then the role sits just above @everyone, every other role moved up, the bot still above it
    # and the client's cache (fed by GUILD_ROLE_CREATE) agrees with Discord's
    (created,) = await log.wait("guild_role_create")
    assert created.id == role.id and role.position == 1 and role.colour.value == 0x3498DB
    assert positions(emulator) == {
        "@everyone": 0,
        "via Link 1": 1,
        "Member": 2,
        "Campaign Participant": 3,
        "Invitetrail": 4,
        "Admin": 5,
    }
    assert {r.name: r.position for r in guild.roles} == positions(emulator)
    assert guild.me.top_role.position > role.position


async def test_it_gives_a_new_role_everyones_permissions_by_default(api):
    status, role, _ = await api.rest("POST", ROLES, {})

    assert status == 200
    assert (role["name"], role["permissions"]) == ("new role", str(perms.DEFAULT_EVERYONE))
    assert (role["hoist"], role["mentionable"], role["managed"]) == (False, False, False)


async def test_it_refuses_to_create_a_role_without_manage_roles(emulator, api):
    emulator.world.guilds[GUILD].roles[defaults.BOT_ROLE_ID].permissions &= ~perms.MANAGE_ROLES

    status, error, _ = await api.rest("POST", ROLES, {"name": "via Link 1"})

    assert (status, error) == (403, {"message": "Missing Permissions", "code": 50013})


async def test_it_refuses_a_role_with_permissions_the_bot_lacks(api):
    status, error, _ = await api.rest("POST", ROLES, {"permissions": str(perms.ADMINISTRATOR)})

    assert (status, error["code"]) == (403, 50013)


async def test_it_refuses_the_251st_role(emulator, api):
    # given a guild holding Discord's maximum of roles
    while len(emulator.world.guilds[GUILD].roles) < MAX_ROLES_PER_GUILD:
        emulator.create_role(f"filler {len(emulator.world.guilds[GUILD].roles)}")

    # when the bot asks for one more
    status, error, _ = await api.rest("POST", ROLES, {"name": "one too many"})

    # then Discord's 30005
    assert status == 400
    assert error == {"message": "Maximum number of guild roles reached (250)", "code": 30005}


async def test_it_refuses_a_role_name_outside_discords_limits(api):
    status, error, _ = await api.rest("POST", ROLES, {"name": "x" * 101})

    assert (status, error["code"]) == (400, 50035)
    assert error["errors"]["name"]["_errors"][0]["code"] == "BASE_TYPE_BAD_LENGTH"


# -- Delete Guild Role ---------------------------------------------------------------------------


async def test_it_deletes_a_role_and_takes_it_from_members(emulator, api, discord_client):
    # given a member holding a referral role, and a ready bot
    client, log = await discord_client(emulator, record=("guild_role_delete",))
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 1"})
    user = emulator.create_user("gail")
    emulator.accept_invite(emulator.create_invite().code, user.id)
    await api.rest("PUT", f"/guilds/{GUILD}/members/{user.id}/roles/{role['id']}")

    # when the bot deletes the role
    status, body, _ = await api.rest("DELETE", f"{ROLES}/{role['id']}")

    # then 204, the client hears of it, the member lost it and the roles above moved down
    assert (status, body) == (204, None)
    (deleted,) = await log.wait("guild_role_delete")
    assert deleted.id == int(role["id"])
    assert emulator.world.guilds[GUILD].members[user.id].roles == []
    assert positions(emulator)["Member"] == 1
    assert client.get_guild(int(GUILD)).get_role(int(role["id"])) is None


@pytest.mark.parametrize(
    ("role_id", "status", "code"),
    [
        (defaults.ADMIN_ROLE_ID, 403, 50013),  # above the bot's highest role
        (defaults.BOT_ROLE_ID, 403, 50013),  # its own, managed role
        (GUILD, 403, 50013),  # @everyone
        ("1", 404, 10011),
    ],
)
async def test_it_refuses_to_delete_roles_out_of_reach(emulator, api, role_id, status, code):
    answer, error, _ = await api.rest("DELETE", f"{ROLES}/{role_id}")

    assert (answer, error["code"]) == (status, code)
    assert len(emulator.world.guilds[GUILD].roles) == 5


# -- role invites: creating them -----------------------------------------------------------------


async def test_it_stores_the_roles_of_a_role_invite(emulator, api):
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 1"})

    invite = await role_invite(api, role["id"])

    assert [r["id"] for r in invite["roles"]] == [role["id"]]
    assert emulator.world.invites[invite["code"]].role_ids == [role["id"]]


async def test_it_leaves_roles_out_of_a_plain_invite(api):
    _, invite, _ = await api.rest("POST", INVITES, {"unique": True})

    assert "roles" not in invite


async def test_it_refuses_an_unknown_role_as_an_invalid_form_field(api):
    status, error, _ = await api.rest(
        "POST", INVITES, {"role_ids": [defaults.MEMBER_ROLE_ID, "123456789012345678"]}
    )

    assert status == 400
    assert (error["code"], error["message"]) == (50035, "Invalid Form Body")
    assert list(error["errors"]["role_ids"]) == ["1"]


async def test_it_refuses_role_ids_that_are_not_a_list_of_snowflakes(api):
    status, error, _ = await api.rest("POST", INVITES, {"role_ids": ["abc"]})

    assert (status, error["code"]) == (400, 50035)
    assert error["errors"]["role_ids"]["0"]["_errors"][0]["code"] == "NUMBER_TYPE_COERCE"


async def test_it_refuses_a_role_invite_without_manage_roles(emulator, api):
    emulator.world.guilds[GUILD].roles[defaults.BOT_ROLE_ID].permissions &= ~perms.MANAGE_ROLES

    status, error, _ = await api.rest("POST", INVITES, {"role_ids": [defaults.MEMBER_ROLE_ID]})

    assert (status, error) == (403, {"message": "Missing Permissions", "code": 50013})
    assert emulator.world.invites == {}


@pytest.mark.parametrize(
    "role_id",
    [defaults.ADMIN_ROLE_ID, defaults.BOT_ROLE_ID, GUILD],
    ids=["above-the-bot", "managed-and-its-own-level", "everyone"],
)
async def test_it_refuses_a_role_invite_the_bot_may_not_give(emulator, api, role_id):
    status, error, _ = await api.rest("POST", INVITES, {"role_ids": [role_id]})

    assert (status, error["code"]) == (403, 50013)
    assert emulator.world.invites == {}


async def test_it_does_not_reuse_an_invite_with_other_roles(api):
    _, plain, _ = await api.rest("POST", INVITES, {"max_uses": 5})
    _, with_role, _ = await api.rest(
        "POST", INVITES, {"max_uses": 5, "role_ids": [defaults.MEMBER_ROLE_ID]}
    )
    _, again, _ = await api.rest(
        "POST", INVITES, {"max_uses": 5, "role_ids": [defaults.MEMBER_ROLE_ID]}
    )

    assert with_role["code"] != plain["code"]
    assert again["code"] == with_role["code"]


# -- role invites: accepting them ----------------------------------------------------------------


async def test_it_gives_the_roles_in_guild_member_add_when_roles_in_is_add(
    emulator, api, discord_client
):
    # given roles arrive with the join, and a role invite
    status, _ = await api.control("POST", "/config", {"roles_in": "add"})
    assert status == 200
    client, log = await discord_client(emulator, record=("member_join", "member_update"))
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 1"})
    invite = await role_invite(api, role["id"])

    # when a new user accepts it
    status, accepted = await api.control("POST", f"/invites/{invite['code']}/accept", {})

    # then the bot's GUILD_MEMBER_ADD already carries the role, and the ground truth has the
    # invite actually used
    assert status == 200
    (member,) = await log.wait("member_join")
    assert [r.id for r in member.roles if not r.is_default()] == [int(role["id"])]
    assert log.events["member_update"] == []
    _, truth = await api.control("GET", "/ground-truth")
    assert truth[-1]["invite_code"] == invite["code"]
    assert truth[-1]["role_ids"] == [role["id"]]
    assert accepted["member"]["roles"] == [role["id"]]


async def test_it_sends_the_roles_in_an_update_after_the_add_by_default(
    emulator, api, discord_client
):
    # given the default (roles in a later GUILD_MEMBER_UPDATE) and a role invite
    client, log = await discord_client(emulator, record=("member_join", "member_update"))
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 1"})
    invite = await role_invite(api, role["id"])

    # when a new user accepts it
    _, accepted = await api.control("POST", f"/invites/{invite['code']}/accept", {})

    # then GUILD_MEMBER_ADD comes without the role, then an update with it
    (joined,) = await log.wait("member_join")
    before, after = await log.wait("member_update")
    assert log.order.index("member_join") < log.order.index("member_update")
    # (nextcord updates the joined member in place: `before` is what it was at the join)
    assert [r.id for r in before.roles if not r.is_default()] == []
    added = [d for name, d in emulator.gateway.events if name == "GUILD_MEMBER_ADD"]
    assert added[-1]["roles"] == [] and accepted["member"]["roles"] == []
    assert [r.id for r in after.roles if not r.is_default()] == [int(role["id"])]
    assert after.id == joined.id
    _, truth = await api.control("GET", "/ground-truth")
    assert (truth[-1]["invite_code"], truth[-1]["role_ids"]) == (invite["code"], [role["id"]])


async def test_it_gives_a_returning_member_the_roles_without_a_join(emulator, api, discord_client):
    # given a member already in the guild, and a role invite
    client, log = await discord_client(emulator, record=("member_join", "member_update"))
    user = emulator.create_user("hana")
    emulator.accept_invite(emulator.create_invite().code, user.id)
    await log.wait("member_join")
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 2"})
    invite = await role_invite(api, role["id"], max_uses=0)
    _, truth_before = await api.control("GET", "/ground-truth")

    # when they accept the role invite
    status, _ = await api.control("POST", f"/invites/{invite['code']}/accept", {"user_id": user.id})

    # then they get the role in a GUILD_MEMBER_UPDATE, with no second join and no use counted
    assert status == 200
    _, after = await log.wait("member_update")
    assert [r.id for r in after.roles if not r.is_default()] == [int(role["id"])]
    assert len(log.events["member_join"]) == 1
    _, listed, _ = await api.rest("GET", f"/guilds/{GUILD}/invites")
    assert next(i for i in listed if i["code"] == invite["code"])["uses"] == 0
    # and the ground truth keeps joins as they were, the visit in its own list
    _, truth = await api.control("GET", "/ground-truth")
    assert truth == truth_before
    _, returning = await api.control("GET", "/ground-truth/returning")
    assert [(v["user_id"], v["invite_code"], v["added_role_ids"]) for v in returning] == [
        (user.id, invite["code"], [role["id"]])
    ]


async def test_it_keeps_the_roles_after_the_invite_is_gone(emulator, api):
    # given a single-use role invite, consumed by the join
    _, role, _ = await api.rest("POST", ROLES, {"name": "via Link 3"})
    invite = await role_invite(api, role["id"])
    await api.control("POST", "/config", {"roles_in": "add"})

    _, accepted = await api.control("POST", f"/invites/{invite['code']}/accept", {})

    # then the invite is gone and the member keeps the role
    status, _, _ = await api.rest("GET", f"/invites/{invite['code']}")
    assert status == 404
    member_id = accepted["member"]["user"]["id"]
    _, member, _ = await api.rest("GET", f"/guilds/{GUILD}/members/{member_id}")
    assert member["roles"] == [role["id"]]


async def test_it_refuses_a_roles_in_value_it_does_not_know(api):
    status, error = await api.control("POST", "/config", {"roles_in": "later"})
    _, state = await api.control("GET", "/state")

    assert status == 400 and "roles_in" in error["message"]
    assert state["roles_in"] == "update"


async def test_it_lets_the_default_bot_make_role_invites_out_of_the_box(emulator, api):
    # given the default world, the bot holds MANAGE_ROLES above anything it creates
    for n in range(3):
        _, role, _ = await api.rest("POST", ROLES, {"name": f"via Link {n}"})
        await role_invite(api, role["id"])

    bot_top = emulator.world.highest_role_position(
        emulator.world.guilds[GUILD], emulator.world.bot_id
    )
    assert bot_top == 6 and positions(emulator)["via Link 0"] == 3
