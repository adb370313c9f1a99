"""Time for the local Discord: an injectable clock and Discord's snowflake ids.

Everything time-dependent in the emulator (invite expiry, OAuth code lifetimes, snowflakes,
timestamps) reads `Clock`, so a test can make a week pass with `emulator.clock.advance(...)`
instead of sleeping. Snowflakes must encode the current time: nextcord derives an interaction's
age from its id and gives up on "expired" ones.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

DISCORD_EPOCH_MS = 1420070400000  # 2015-01-01T00:00:00Z, the epoch of Discord snowflakes


class Clock:
    """Wall-clock time plus an offset that tests can move forward (never backward)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def time(self) -> float:
        """Seconds since the Unix epoch, as the emulated world sees it."""
        return time.time() + self.offset

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.time(), tz=UTC)

    def advance(self, seconds: float) -> None:
        """Move the world's time forward, e.g. past an invite's `max_age`."""
        if seconds < 0:
            raise ValueError("the emulator's clock only moves forward")
        self.offset += seconds


class SnowflakeGenerator:
    """Discord ids: 42 bits of milliseconds since the Discord epoch, worker, process, increment.

    Ids are strictly increasing even when many are made in one millisecond, as on Discord, so
    ordering by id is ordering by creation.
    """

    def __init__(self, clock: Clock, worker: int = 1, process: int = 0) -> None:
        self._clock = clock
        self._prefix = ((worker & 0x1F) << 17) | ((process & 0x1F) << 12)
        self._last_ms = 0
        self._increment = 0
        self._lock = threading.Lock()

    def next(self) -> str:
        with self._lock:
            ms = int(self._clock.time() * 1000) - DISCORD_EPOCH_MS
            if ms <= self._last_ms:
                ms = self._last_ms
                self._increment = (self._increment + 1) & 0xFFF
                if self._increment == 0:
                    ms += 1
            else:
                self._increment = 0
            self._last_ms = ms
            return str((ms << 22) | self._prefix | self._increment)


def snowflake_time(snowflake: str | int) -> datetime:
    """When a snowflake was made."""
    ms = (int(snowflake) >> 22) + DISCORD_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 with an explicit UTC offset, as Discord writes timestamps."""
    return None if moment is None else moment.astimezone(UTC).isoformat()
