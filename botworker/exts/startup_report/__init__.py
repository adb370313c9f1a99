"""Start-up report: each guild's campaigns and the permissions the bot has and lacks."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nextcord.ext import commands


__all__ = ["setup"]


def setup(bot: commands.Bot) -> None:
    # Imported here, not at the top: the package's pure modules (`_logic`) must import
    # without Django, and the cog needs the apps' models.
    from ._cog import StartupReport

    bot.add_cog(StartupReport(bot))
