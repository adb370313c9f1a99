"""The production bot in a process of its own, and a board its events are posted to.

Production runs the bot as its own process (`manage.py runbot`) beside the web app. On a thread
of the driver's process it would share one interpreter lock with the web app, the visitors and
the local Discord, and a run at 10 joins/s would measure that contention, not the bot. So the bot
runs in a child process (`botchild`) on the run's database and local Discord; visitors are
driven from ordinary threads and wait for what the bot did (a join recorded, a welcome posted,
an interaction answered) on `EventBoard`, which the child's reports fill as the events happen.
Nothing here sleeps to "let things settle".
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import threading
import time
from collections import Counter
from concurrent.futures import Future
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.db import connections

from . import botchild
from .botchild import KINDS

log = logging.getLogger("botworker.simulation")

# What the child needs to reach this run's database, local Discord and embedded services.
SHARED_SETTINGS = (
    "REDIS_URL",
    "CACHES",
    "CELERY_TASK_ALWAYS_EAGER",
    "DISCORD_API_BASE",
    "DISCORD_BOT_TOKEN",
    "DISCORD_INVITE_BASE",
    "DISCORD_CLIENT_ID",
    "DISCORD_CLIENT_SECRET",
    "PUBLIC_BASE_URL",
)


@dataclass
class _Slot:
    event: threading.Event
    at: float = 0.0
    value: Any = None


class EventBoard:
    """(kind, key) → when it happened and what it said; `wait` returns a past or future post."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._slots: dict[tuple[str, str], _Slot] = {}
        self._posts: Counter[tuple[str, str]] = Counter()  # duplicates included

    def _slot(self, kind: str, key: str) -> _Slot:
        with self._lock:
            return self._slots.setdefault((kind, key), _Slot(threading.Event()))

    def post(self, kind: str, key: str, value: Any = None, at: float | None = None) -> None:
        """Record the first occurrence (a duplicate GUILD_MEMBER_ADD must not move the time);
        `at`: when it happened (`time.monotonic()`, also in another process), default now."""
        slot = self._slot(kind, key)
        with self._lock:
            self._posts[(kind, key)] += 1
        if not slot.event.is_set():
            slot.at, slot.value = (time.monotonic() if at is None else at), value
            slot.event.set()

    def wait(self, kind: str, key: str, timeout: float) -> tuple[float, Any] | None:
        """(monotonic time, value) once posted, or None after `timeout` seconds."""
        slot = self._slot(kind, key)
        if not slot.event.wait(timeout):
            return None
        return slot.at, slot.value

    def repeated(self, kind: str) -> int:
        """Keys posted more than once (a member welcomed twice, say)."""
        with self._lock:
            return sum(1 for (k, _), n in self._posts.items() if k == kind and n > 1)

    def count(self, kind: str) -> int:
        with self._lock:
            return sum(1 for (k, _), s in self._slots.items() if k == kind and s.event.is_set())


class BotRunner:
    """Starts, stops and restarts the bot process — `build_bot()` with all extensions, as
    `runbot` runs it — on this run's settings."""

    def __init__(self, board: EventBoard) -> None:
        self.board = board
        self.starts = 0
        self.down_since: float | None = None
        self.down_periods: list[tuple[float, float]] = []
        self._process: subprocess.Popen[str] | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> None:
        """Start the child and wait until the bot is ready and its first snapshot batch is done
        (the reconciliation of joins missed while it was down is part of that batch)."""
        self._ready.clear()
        process = subprocess.Popen(
            [sys.executable, botchild.__file__],
            cwd=botchild.ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
        )
        assert process.stdin is not None and process.stdout is not None
        process.stdin.write(json.dumps(self._config(), default=str) + "\n")
        process.stdin.flush()
        self._process = process
        self._reader = threading.Thread(
            target=self._read, args=(process.stdout,), name="bot-reports", daemon=True
        )
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.1):
            if process.poll() is not None or time.monotonic() > deadline:
                self._end(process, 5)
                raise RuntimeError(
                    f"the bot did not get ready (exit status {process.returncode}); "
                    "its log is above"
                )
        self.starts += 1
        if self.down_since is not None:
            self.down_periods.append((self.down_since, time.monotonic()))
            self.down_since = None

    @staticmethod
    def _config() -> dict[str, Any]:
        levels = {  # the loggers the driver set a level on, quietened or turned up
            name: logger.level
            for name, logger in logging.root.manager.loggerDict.items()
            if isinstance(logger, logging.Logger) and logger.level != logging.NOTSET
        }
        shared = {name: getattr(settings, name, None) for name in SHARED_SETTINGS}
        shared["DATABASES"] = {"default": dict(connections["default"].settings_dict)}
        return {"settings": shared, "log_levels": levels}

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            try:
                report = json.loads(line)
            except ValueError:
                log.warning("bot process: not a report: %.200r", line)
                continue
            kind = report.get("kind")
            if kind == "ready":
                self._ready.set()
            elif kind in KINDS:
                self.board.post(kind, report["key"], report["value"], report["at"])

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the bot gracefully (a `stop` line, as SIGTERM stops `runbot`) and wait."""
        process, self._process = self._process, None
        if process is not None:
            self._end(process, timeout)

    def stop_in_background(self) -> Future:
        """Begin a graceful stop without blocking the caller."""
        self.down_since = time.monotonic()
        future: Future = Future()

        def stop() -> None:
            try:
                self.stop()
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(None)

        threading.Thread(target=stop, name="bot-stop", daemon=True).start()
        return future

    def _end(self, process: subprocess.Popen[str], timeout: float) -> None:
        if process.poll() is None and process.stdin is not None:
            try:
                process.stdin.write("stop\n")
                process.stdin.close()
            except OSError:
                pass  # it is already gone
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            log.warning("the bot did not stop within %.0f s: killed", timeout)
            process.kill()
            process.wait(10)
        if self._reader is not None:
            self._reader.join(5)

    def shutdown(self) -> None:
        """Stop the bot process (PostgreSQL refuses to drop the run's database while its
        connections are open)."""
        self.stop()
