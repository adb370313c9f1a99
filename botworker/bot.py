"""The Invitetrail bot: a thin nextcord client; every feature is an extension in `exts/`.

Same code against real Discord and the local emulator: only `settings.DISCORD_API_BASE` and the
token differ. The gateway URL is not configured: the client asks the REST API for it.
"""

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nextcord
from django.conf import settings
from nextcord.ext import commands

from botworker.discord_rest.pacing import pace_bot

log = logging.getLogger(__name__)

EXTENSIONS = [
    "botworker.exts.invite_tracking",
    "botworker.exts.onboarding",
    "botworker.exts.startup_report",
]

ShutdownHook = Callable[[], Awaitable[None]]


def bot_intents() -> nextcord.Intents:
    """Guilds, members (privileged) and invites; no message content, no prefix commands."""
    intents = nextcord.Intents.none()
    intents.guilds = True
    intents.members = True
    intents.invites = True
    return intents


class InvitetrailBot(commands.Bot):
    """The bot. Extensions register `shutdown_hooks` to finish their work before it closes.

    Its REST calls keep to the bot's share of the token's global rate limit (`pacing`): the web
    app and Celery spend the same token."""

    def __init__(self, **options: Any) -> None:
        super().__init__(intents=bot_intents(), help_command=None, **options)
        self.global_pace = pace_bot(self.http)
        self.shutdown_hooks: list[ShutdownHook] = []
        self._closing = False

    async def close(self) -> None:
        """Run every extension's shutdown hook (finish the unit of work, persist), then close."""
        if not self._closing:
            self._closing = True
            for hook in self.shutdown_hooks:
                try:
                    await hook()
                except Exception:
                    log.exception("shutdown hook %s failed", getattr(hook, "__qualname__", hook))
        await super().close()


def build_bot(extensions: list[str] | None = None, **options: Any) -> InvitetrailBot:
    """A bot pointed at `settings.DISCORD_API_BASE` with its extensions loaded.

    `options` go to nextcord (tests shorten `guild_ready_timeout`; production uses defaults).
    """
    nextcord.http.Route.BASE = settings.DISCORD_API_BASE
    # The bot never joins a voice channel: PyNaCl's absence is no reason for a warning.
    nextcord.VoiceClient.warn_nacl = False
    bot = InvitetrailBot(**options)
    for name in EXTENSIONS if extensions is None else extensions:
        bot.load_extension(name)
    return bot
