"""Invite tracking: snapshots of each guild's invites, and every join attributed from them."""

from nextcord.ext import commands

from ._cog import InviteTracking

__all__ = ["InviteTracking", "setup"]


def setup(bot: commands.Bot) -> None:
    bot.add_cog(InviteTracking(bot))
