"""Onboarding: the welcome message with its "Start onboarding" button, the campaign's form as
Discord modals (five inputs a step, "Continue" between steps, "Fix my answers" when invalid), and
completion, which queues the conversion task.

Listens to `member_attributed` (dispatched by the invite-tracking extension) and to
`interaction`; the domain rules live in `analytics.onboarding`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nextcord.ext import commands


def setup(bot: commands.Bot) -> None:
    """nextcord's extension entry point."""
    # Imported here, not at the top: the package's pure modules (`_logic`) must import
    # without Django, and the cog needs the apps' models.
    from ._cog import OnboardingCog

    bot.add_cog(OnboardingCog(bot))
