"""The bot's side of a simulation: `build_bot()` in a process of its own, as `runbot` runs it.

Run by `BotRunner` as a script (`python botworker/simulation/botchild.py`: as a module, its
package would import models before Django is set up). Protocol, one JSON object a line:
1. stdin's first line: `{"settings": {...}, "log_levels": {...}}` — the run's settings
   (database, local Discord, embedded cache and eager tasks) and the driver's logger levels;
2. stdout: `{"kind": "ready"}` once the bot is connected and its first invite snapshot batch is
   done (the reconciliation of joins made while it was down is part of that batch), then
   `{"kind", "key", "value", "at"}` for each event the driver waits on — `at` is this process's
   `time.monotonic()`, one clock for every process on the machine;
3. a `stop` line on stdin, or stdin closing, stops the bot gracefully (as SIGTERM stops `runbot`);
   `{"kind": "stopped"}` is the last line.
Logs go to stderr; stdout carries nothing but the protocol.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any

ROOT = Path(__file__).resolve().parents[2]

KINDS = ("join_recorded", "welcome", "answered")


class Reporter:
    """Writes protocol lines; only the bot's event loop writes, so no lock is needed."""

    def __init__(self, stream: IO[str]) -> None:
        self.stream = stream

    def send(self, kind: str, key: str = "", value: Any = None) -> None:
        line = {"kind": kind, "key": key, "value": value, "at": time.monotonic()}
        self.stream.write(json.dumps(line, default=str) + "\n")
        self.stream.flush()


def apply_settings(values: dict[str, Any]) -> None:
    """The run's settings, applied before the first database or cache connection."""
    from django.conf import settings
    from django.core.cache import caches
    from django.db import connections

    from botworker.simulation.environment import _reset_handler
    from config.celery import app

    for name, value in values.items():
        setattr(settings, name, value)
    _reset_handler(caches)
    _reset_handler(connections)
    app.conf.task_always_eager = bool(values.get("CELERY_TASK_ALWAYS_EAGER", True))
    app.conf.task_eager_propagates = True


def _listen(bot: Any, reporter: Reporter, snapshot: asyncio.Event) -> None:
    async def on_invite_snapshot(guild_id: int) -> None:
        snapshot.set()

    async def on_join_recorded(guild_id: int, member_id: str, outcome: Any) -> None:
        reporter.send("join_recorded", str(member_id), outcome.decision)

    async def on_welcome_sent(member: Any, welcome: Any, where: Any) -> None:
        reporter.send("welcome", str(member.id), [welcome.session_id, where])

    async def on_onboarding_answered(interaction: Any, action: Any, outcome: Any) -> None:
        status = getattr(outcome, "status", None) if outcome is not None else "failed"
        reporter.send("answered", str(interaction.id), status)

    for listener in (on_invite_snapshot, on_join_recorded, on_welcome_sent, on_onboarding_answered):
        bot.add_listener(listener, listener.__name__)


def _watch_stdin(loop: asyncio.AbstractEventLoop, stop: asyncio.Event) -> None:
    """A `stop` line or the end of stdin (the driver is gone) asks the bot to stop."""
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    loop.call_soon_threadsafe(stop.set)


async def run(reporter: Reporter) -> int:
    from django.conf import settings

    from botworker.bot import build_bot
    from config.celery import offload_eager_tasks

    offload_eager_tasks()  # a task's Discord calls never hold up the bot
    stop = asyncio.Event()
    threading.Thread(
        target=_watch_stdin, args=(asyncio.get_running_loop(), stop), daemon=True
    ).start()
    bot = build_bot()
    snapshot = asyncio.Event()
    _listen(bot, reporter, snapshot)
    await bot.login(settings.DISCORD_BOT_TOKEN)
    connection = asyncio.create_task(bot.connect(reconnect=True))
    ready = asyncio.ensure_future(snapshot.wait())
    done, _ = await asyncio.wait({ready, connection}, return_when=asyncio.FIRST_COMPLETED)
    if connection in done:
        ready.cancel()
        logging.getLogger("botworker.simulation").error(
            "the bot's connection ended before it was ready: %r", connection.exception()
        )
        return 1
    reporter.send("ready")
    stopping = asyncio.ensure_future(stop.wait())
    await asyncio.wait({stopping, connection}, return_when=asyncio.FIRST_COMPLETED)
    if not bot.is_closed():
        await bot.close()
    with contextlib.suppress(Exception, asyncio.CancelledError):
        await asyncio.wait_for(connection, 10)
    # nextcord leaves rate-limit reset timers behind after close(): end them quietly.
    current = asyncio.current_task()
    leftovers = [t for t in asyncio.all_tasks() if t is not current]
    for task in leftovers:
        task.cancel()
    await asyncio.gather(*leftovers, return_exceptions=True)
    return 0


def main() -> int:
    protocol = os.fdopen(os.dup(sys.stdout.fileno()), "w", buffering=1)
    sys.stdout = sys.stderr  # a stray print() must not break the protocol
    config = json.loads(sys.stdin.readline())
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    for name, level in config.get("log_levels", {}).items():
        logging.getLogger(name).setLevel(level)
    apply_settings(config["settings"])
    reporter = Reporter(protocol)
    try:
        code = asyncio.run(run(reporter))
    finally:
        from django.db import connections

        connections.close_all()
    reporter.send("stopped")
    return code


if __name__ == "__main__":
    sys.exit(main())
