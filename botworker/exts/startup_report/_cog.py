"""The start-up report: per guild, what is configured and what the bot may and may not do."""

from __future__ import annotations

import logging

import nextcord
from django.conf import settings
from nextcord.ext import commands

from botworker._queries import live_campaigns
from botworker.sync import run_sync
from referrals.evidence import referral_roles

from ._logic import NEEDED, Report, RoleInfo, build_report

log = logging.getLogger("botworker.startup_report")


class StartupReport(commands.Cog):
    """Logs one block per guild on ready; dispatches `startup_report(guild, report)`."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot

    @commands.Cog.listener()
    async def on_ready(self) -> None:
        """Report every guild the bot is in."""
        for guild in self.bot.guilds:
            await self.report(guild)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: nextcord.Guild) -> None:
        """Report a guild the bot was just added to."""
        await self.report(guild)

    async def report(self, guild: nextcord.Guild) -> Report:
        campaigns = await run_sync(live_campaigns, str(guild.id))
        referral = await run_sync(referral_roles, str(guild.id))
        me = guild.me
        granted = me.guild_permissions
        names = [*NEEDED, "manage_roles"]
        report = build_report(
            guild_name=guild.name,
            guild_id=str(guild.id),
            campaigns=campaigns,
            permissions={name: bool(getattr(granted, name)) for name in names},
            bot_top_role=_role(me.top_role),
            roles={str(r.id): _role(r) for r in guild.roles},
            referral_role_ids=tuple(sorted(referral)),
            referral_roles_wanted=any(c.referral_roles for c in campaigns),
            role_headroom=settings.REFERRAL_ROLE_HEADROOM,
        )
        level = logging.WARNING if report.missing else logging.INFO
        log.log(level, "%s", report.text())
        self.bot.dispatch("startup_report", guild, report)
        return report


def _role(role: nextcord.Role) -> RoleInfo:
    return RoleInfo(str(role.id), role.name, role.position)
