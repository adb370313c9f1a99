"""Permission and role-hierarchy refusals (50013 / 50001), and the permission algorithm."""

from __future__ import annotations

import nextcord
import pytest
from hypothesis import given
from hypothesis import strategies as st

from botworker.emulator import defaults
from botworker.emulator import permissions as perms
from botworker.emulator.models import Overwrite

GUILD = defaults.GUILD_ID


def _member_path(user_id: str, role_id: str) -> str:
    return f"/guilds/{GUILD}/members/{user_id}/roles/{role_id}"


async def test_it_refuses_a_role_above_the_bot_through_nextcord(emulator, discord_client):
    # given a member and a ready bot
    client, _ = await discord_client(emulator)
    user = emulator.create_user("frank")
    emulator.accept_invite(emulator.create_invite().code, user.id)
    guild = client.get_guild(int(GUILD))
    member = await guild.fetch_member(int(user.id))

    # when the bot tries to give them the Admin role, which sits above its own
    with pytest.raises(nextcord.Forbidden) as refused:
        await member.add_roles(guild.get_role(int(defaults.ADMIN_ROLE_ID)))

    # then Discord's 50013, and nothing changed
    assert refused.value.code == 50013
    assert defaults.ADMIN_ROLE_ID not in emulator.world.guilds[GUILD].members[user.id].roles


async def test_it_adds_and_removes_a_role_below_the_bot(emulator, api):
    user = emulator.create_user()
    emulator.accept_invite(emulator.create_invite().code, user.id)

    added, _, _ = await api.rest("PUT", _member_path(user.id, defaults.MEMBER_ROLE_ID))
    roles_after_add = list(emulator.world.guilds[GUILD].members[user.id].roles)
    removed, _, _ = await api.rest("DELETE", _member_path(user.id, defaults.MEMBER_ROLE_ID))

    assert (added, removed) == (204, 204)
    assert roles_after_add == [defaults.MEMBER_ROLE_ID]
    assert emulator.world.guilds[GUILD].members[user.id].roles == []
    assert [n for n, _ in emulator.gateway.events].count("GUILD_MEMBER_UPDATE") == 2


async def test_it_refuses_roles_without_manage_roles(emulator, api):
    user = emulator.create_user()
    emulator.accept_invite(emulator.create_invite().code, user.id)
    emulator.world.guilds[GUILD].roles[defaults.BOT_ROLE_ID].permissions &= ~perms.MANAGE_ROLES

    status, error, _ = await api.rest("PUT", _member_path(user.id, defaults.MEMBER_ROLE_ID))

    assert (status, error) == (403, {"message": "Missing Permissions", "code": 50013})


async def test_it_refuses_the_bots_own_managed_role(emulator, api):
    user = emulator.create_user()
    emulator.accept_invite(emulator.create_invite().code, user.id)

    status, error, _ = await api.rest("PUT", _member_path(user.id, defaults.BOT_ROLE_ID))

    assert (status, error["code"]) == (403, 50013)


async def test_it_answers_unknown_member_and_role(emulator, api):
    status, error, _ = await api.rest("PUT", _member_path("1", defaults.MEMBER_ROLE_ID))
    assert (status, error["code"]) == (404, 10007)
    status, error, _ = await api.rest("PUT", _member_path(defaults.OWNER_USER_ID, "2"))
    assert (status, error["code"]) == (404, 10011)


async def test_it_refuses_to_send_where_an_overwrite_denies_it(emulator, api):
    # given #general denies Send Messages to the bot's role
    channel = emulator.world.channels[defaults.GENERAL_CHANNEL_ID]
    channel.overwrites.append(Overwrite(defaults.BOT_ROLE_ID, 0, deny=perms.SEND_MESSAGES))

    status, error, _ = await api.rest(
        "POST", f"/channels/{channel.id}/messages", {"content": "hello"}
    )

    assert (status, error["code"]) == (403, 50013)


async def test_it_answers_missing_access_for_a_hidden_channel(emulator, api):
    channel = emulator.world.channels[defaults.GENERAL_CHANNEL_ID]
    channel.overwrites.append(Overwrite(GUILD, 0, deny=perms.VIEW_CHANNEL))

    status, error, _ = await api.rest(
        "POST", f"/channels/{channel.id}/messages", {"content": "hello"}
    )

    assert (status, error) == (403, {"message": "Missing Access", "code": 50001})


def test_it_lets_a_member_overwrite_beat_role_overwrites():
    base = perms.DEFAULT_EVERYONE
    overwrites = [
        Overwrite("g", 0, deny=perms.SEND_MESSAGES),
        Overwrite("r", 0, deny=perms.SEND_MESSAGES),
        Overwrite("u", 1, allow=perms.SEND_MESSAGES),
    ]

    allowed = perms.channel_permissions(
        base, guild_id="g", member_id="u", member_role_ids=["r"], overwrites=overwrites
    )

    assert allowed & perms.SEND_MESSAGES


@given(
    everyone=st.integers(0, perms.ALL),
    roles=st.lists(st.integers(0, perms.ALL), max_size=4),
    deny=st.integers(0, perms.ALL),
)
def test_it_gives_administrators_everything_whatever_the_overwrites(everyone, roles, deny):
    base = perms.base_permissions(
        is_owner=False, everyone=everyone, role_permissions=[*roles, perms.ADMINISTRATOR]
    )

    allowed = perms.channel_permissions(
        base,
        guild_id="g",
        member_id="u",
        member_role_ids=["r"],
        overwrites=[Overwrite("g", 0, deny=deny), Overwrite("u", 1, deny=deny)],
    )

    assert allowed == perms.ALL


@given(base=st.integers(0, perms.ALL), deny=st.integers(0, perms.ALL))
def test_it_denies_everything_without_view_channel(base, deny):
    allowed = perms.channel_permissions(
        base & ~perms.ADMINISTRATOR,
        guild_id="g",
        member_id="u",
        member_role_ids=[],
        overwrites=[Overwrite("g", 0, deny=deny | perms.VIEW_CHANNEL)],
    )

    assert allowed == 0
