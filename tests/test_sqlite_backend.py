"""The embedded database's engine (config.sqlite): a writer that finds SQLite's write lock taken
waits for it and gets it once it is free, and gives up with Django's usual error after the
configured timeout. Runs on a file of its own, in both configurations."""

from __future__ import annotations

import threading

import pytest
from django.db import OperationalError, connection

from config.sqlite.base import DatabaseWrapper


def database(path, timeout: float) -> DatabaseWrapper:
    settings = {
        **connection.settings_dict,
        "ENGINE": "config.sqlite",
        "NAME": str(path),
        "OPTIONS": {"timeout": timeout, "transaction_mode": "IMMEDIATE",
                    "init_command": "PRAGMA journal_mode=WAL;"},
    }  # fmt: skip
    return DatabaseWrapper(settings, alias="sqlite-backend-test")


@pytest.fixture(autouse=True)
def _own_file(django_db_blocker):
    """These connections go to a file of the test's own, not to the test database."""
    with django_db_blocker.unblock():
        yield


@pytest.fixture
def table(tmp_path):
    setup = database(tmp_path / "db.sqlite3", 5)
    setup.cursor().execute("CREATE TABLE t (n INTEGER)")
    setup.close()
    return tmp_path / "db.sqlite3"


def writer(path, timeout: float, started: threading.Event, outcome: list) -> threading.Thread:
    def write() -> None:
        db = database(path, timeout)
        started.set()
        try:
            db.cursor().execute("INSERT INTO t (n) VALUES (2)")
            outcome.append("written")
        except OperationalError as exc:
            outcome.append(str(exc))
        finally:
            db.close()

    return threading.Thread(target=write)


def test_a_writer_waits_for_the_lock_and_writes_once_the_holder_commits(table):
    holder = database(table, 5)
    holder.cursor().execute("BEGIN IMMEDIATE")
    holder.cursor().execute("INSERT INTO t (n) VALUES (1)")
    started, outcome = threading.Event(), []
    thread = writer(table, 20, started, outcome)
    thread.start()
    assert started.wait(10)
    holder.cursor().execute("COMMIT")
    thread.join(10)

    assert outcome == ["written"]
    rows = holder.cursor().execute("SELECT n FROM t ORDER BY n").fetchall()
    assert rows == [(1,), (2,)]
    holder.close()


def test_a_writer_gives_up_after_its_timeout_with_database_is_locked(table):
    holder = database(table, 5)
    holder.cursor().execute("BEGIN IMMEDIATE")
    started, outcome = threading.Event(), []
    thread = writer(table, 0.2, started, outcome)
    thread.start()
    thread.join(10)
    holder.cursor().execute("ROLLBACK")
    holder.close()

    assert outcome == ["database is locked"]


def test_statements_wait_in_the_engine_not_in_sqlites_handler(table):
    """SQLite's own handler backs off to 100 ms sleeps and starves a long waiter; the
    connection leaves it off (busy_timeout 0) and retries within a few milliseconds."""
    db = database(table, 5)
    db.ensure_connection()
    assert db.connection.execute("PRAGMA busy_timeout").fetchone() == (0,)
    assert db.connection.busy_wait == 5.0
    db.close()
