"""`manage.py runbot`: the Discord bot (real Discord or the local emulator, per settings).

Thin: logging, signals, build the bot, run. SIGTERM/SIGINT close it gracefully: the batch of
joins in progress is finished and the invite snapshots are persisted before the connection
closes. A missing or rejected token, or a missing privileged intent, is one line and exit 1.
"""

import asyncio
import logging
import signal

import nextcord
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from botworker.bot import build_bot
from config.celery import offload_eager_tasks

log = logging.getLogger("botworker.runbot")


class Command(BaseCommand):
    help = "Run the Discord bot: attribution of joins, welcome messages, onboarding forms."

    def handle(self, *args, **options) -> None:
        if not settings.DISCORD_BOT_TOKEN:
            raise CommandError("DISCORD_BOT_TOKEN is empty: set it to the bot's token.")
        try:
            asyncio.run(self.run())
        except nextcord.PrivilegedIntentsRequired as exc:
            raise CommandError(
                "Discord refused the Server Members intent: enable it for the application "
                "(Developer Portal > Bot > Privileged Gateway Intents)."
            ) from exc
        except nextcord.LoginFailure as exc:
            raise CommandError(
                f"Discord rejected DISCORD_BOT_TOKEN (login failed at {settings.DISCORD_API_BASE})."
            ) from exc

    async def run(self) -> None:
        offload_eager_tasks()  # a task's Discord calls never hold up the bot
        bot = build_bot()
        self.closing: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop, bot, sig)
        log.info("bot starting against %s", settings.DISCORD_API_BASE)
        try:
            await bot.start(settings.DISCORD_BOT_TOKEN)
        finally:
            # start() returns once the gateway is closed; close() still has the HTTP session
            # to close: wait for it rather than let asyncio.run() cancel it.
            if self.closing is not None:
                await self.closing
            elif not bot.is_closed():
                await bot.close()
        log.info("bot stopped")

    def stop(self, bot: nextcord.Client, sig: signal.Signals) -> None:
        if self.closing is not None:
            return
        log.info("%s received: finishing work in progress, then stopping", sig.name)
        self.closing = asyncio.get_running_loop().create_task(bot.close())
