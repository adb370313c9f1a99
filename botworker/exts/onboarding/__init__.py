"""Onboarding: the welcome message with its "Start onboarding" button, the campaign's form as
Discord modals (five inputs a step, "Continue" between steps, "Fix my answers" when invalid), and
completion, which queues the conversion task.

Listens to `member_attributed` (dispatched by the invite-tracking extension) and to
`interaction`; the domain rules live in `analytics.onboarding`.
"""

from nextcord.ext import commands

from ._cog import OnboardingCog


def setup(bot: commands.Bot) -> None:
    """nextcord's extension entry point."""
    bot.add_cog(OnboardingCog(bot))
