"""Django's SQLite backend with a fair wait for the write lock.

SQLite lets one connection write at a time. A connection that finds the lock taken calls its
busy handler, and SQLite's default one (`timeout`) sleeps 1, 2, 5, 10, 15, 20, 25, 25, 25, 50,
50 ms and then 100 ms between tries. Under steady writes from several processes (the web app,
the bot, eager tasks) a writer that lost a few times sleeps longest and keeps losing to writers
that came later: in `manage.py simulate` at 10 joins/s the bot's join records waited up to 1.5 s
for a lock that was never held for more than a few milliseconds.

Here every statement that finds the database busy tries again after at most a couple of
milliseconds, until OPTIONS["timeout"] seconds have passed (then it fails as before: "database is
locked"). Waiters in every process try equally often, so the lock goes to whoever asks when it
is free, not to whoever waited least. (Rails' SQLite adapter moved to the same kind of busy
handler for the same reason.)
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable
from typing import Any

from django.db.backends.sqlite3 import base
from django.db.backends.utils import debug_transaction

SQLITE_BUSY = 5
SQLITE_BUSY_RECOVERY = 261  # a WAL being recovered: worth waiting for, like a plain BUSY
FIRST_PAUSE, LONGEST_PAUSE = 0.0005, 0.002


class WaitingConnection(sqlite3.Connection):
    """An sqlite3 connection that knows how long its statements may wait for a lock."""

    busy_wait: float = 5.0


def patiently[T](conn: WaitingConnection, run: Callable[..., T], *args: Any) -> T:
    """`run(*args)`, tried again while SQLite says the database is busy, for up to the
    connection's `busy_wait` seconds, pausing at most LONGEST_PAUSE between tries."""
    deadline = time.monotonic() + conn.busy_wait
    pause = FIRST_PAUSE
    while True:
        try:
            return run(*args)
        except sqlite3.OperationalError as exc:
            busy = getattr(exc, "sqlite_errorcode", None) in (SQLITE_BUSY, SQLITE_BUSY_RECOVERY)
            if not busy or time.monotonic() >= deadline:
                raise
        time.sleep(pause * random.uniform(0.5, 1.5))
        pause = min(LONGEST_PAUSE, pause * 2)


class FairCursor(base.SQLiteCursorWrapper):
    """Django's cursor, retrying a statement that found the database busy (see module doc)."""

    connection: WaitingConnection

    def execute(self, query, params=None):
        return patiently(self.connection, super().execute, query, params)

    def executemany(self, query, param_list):
        # Outside a transaction each row commits on its own: a retry after a busy row would run
        # the earlier rows again. So this one waits in SQLite's own handler instead.
        wait_ms = int(self.connection.busy_wait * 1000)
        self.connection.execute(f"PRAGMA busy_timeout = {wait_ms}")
        try:
            return super().executemany(query, param_list)
        finally:
            self.connection.execute("PRAGMA busy_timeout = 0")


class DatabaseWrapper(base.DatabaseWrapper):
    def get_connection_params(self):
        params = super().get_connection_params()
        params["factory"] = WaitingConnection
        return params

    def get_new_connection(self, conn_params):
        # Set-up (foreign keys, journal mode) waits in SQLite's handler; statements then wait
        # in FairCursor's.
        conn = super().get_new_connection(conn_params)
        conn.busy_wait = float(conn_params.get("timeout", 5.0))
        conn.execute("PRAGMA busy_timeout = 0")
        return conn

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=FairCursor)

    def _commit(self):
        # A commit can find the database busy too (a checkpoint, a rollback journal's readers).
        if self.connection is not None:
            with debug_transaction(self, "COMMIT"), self.wrap_database_errors:
                return patiently(self.connection, self.connection.commit)
