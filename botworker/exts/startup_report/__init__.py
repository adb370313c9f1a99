"""Start-up report: each guild's campaigns and the permissions the bot has and lacks."""

from nextcord.ext import commands

from ._cog import StartupReport

__all__ = ["StartupReport", "setup"]


def setup(bot: commands.Bot) -> None:
    bot.add_cog(StartupReport(bot))
