"""The start-up report names each guild, its campaigns and the permissions the bot lacks."""

from __future__ import annotations

import logging

import pytest

from botworker.emulator import defaults
from botworker.emulator import permissions as perms

pytestmark = pytest.mark.django_db(transaction=True)


def _revoke_from_bot(emu, permission: int) -> None:
    def revoke() -> None:
        role = emu.world.guilds[defaults.GUILD_ID].roles[defaults.BOT_ROLE_ID]
        role.permissions &= ~permission

    emu.call(revoke)


async def test_it_reports_the_guild_its_campaign_and_full_permissions(
    discord_emulator, run_bot, tracked_campaign, caplog
):
    # given a guild where the bot has every permission it needs
    caplog.set_level(logging.INFO, logger="botworker.startup_report")

    # when the bot starts
    bot, log = await run_bot()

    # then one block names the guild, its live campaign and what the bot may do
    (guild, report) = await log.wait("startup_report")
    assert report.missing == []
    text = report.text()
    assert f"id={defaults.GUILD_ID}" in text and defaults.GUILD_NAME in text
    assert "'Launch'" in text
    assert "Manage Guild" in text and "Manage Roles" in text
    assert text in caplog.text


async def test_it_names_manage_guild_and_what_it_breaks_when_missing(
    discord_emulator, run_bot, tracked_campaign, caplog
):
    # given a bot whose role lacks Manage Guild
    _revoke_from_bot(discord_emulator, perms.MANAGE_GUILD)
    caplog.set_level(logging.INFO, logger="botworker")

    # when the bot starts
    bot, log = await run_bot(wait_snapshot=False)

    # then the start-up log names the missing permission and what it breaks
    (guild, report) = await log.wait("startup_report")
    assert any(
        line.startswith("Manage Guild: the invite list cannot be read") for line in report.missing
    )
    assert "MISSING Manage Guild" in caplog.text
    warnings = [r for r in caplog.records if r.name == "botworker.startup_report"]
    assert warnings and warnings[0].levelno == logging.WARNING


async def test_it_names_a_target_role_above_the_bot(discord_emulator, run_bot, tracked_campaign):
    # given a campaign that gives the Admin role, which is above the bot's
    tracked_campaign.target_role_ids = [defaults.ADMIN_ROLE_ID]
    await tracked_campaign.asave(update_fields=["target_role_ids"])

    # when the bot starts
    bot, log = await run_bot()

    # then the report names the role and that it cannot be assigned
    (guild, report) = await log.wait("startup_report")
    (problem,) = report.missing
    assert "'Admin'" in problem and "cannot be assigned" in problem


async def test_it_says_referral_roles_work_when_the_bot_may_manage_them(
    discord_emulator, run_bot, tracked_campaign
):
    # given a campaign with a role per referral link
    assert tracked_campaign.referral_roles == "per_link"

    # when the bot starts
    bot, log = await run_bot()

    # then the report says referral roles work, with the room left under Discord's limit
    (guild, report) = await log.wait("startup_report")
    assert "referral roles: working" in report.text()


async def test_it_names_manage_roles_when_referral_roles_cannot_work(
    discord_emulator, run_bot, tracked_campaign
):
    # given a bot without Manage Roles, and a campaign that gives no roles on conversion
    tracked_campaign.auto_role_assignment = False
    await tracked_campaign.asave(update_fields=["auto_role_assignment"])
    _revoke_from_bot(discord_emulator, perms.MANAGE_ROLES)

    # when the bot starts
    bot, log = await run_bot()

    # then the report names the permission and what it breaks
    (guild, report) = await log.wait("startup_report")
    assert any("referral roles" in line for line in report.missing)
    assert "referral roles: working" not in report.text()
