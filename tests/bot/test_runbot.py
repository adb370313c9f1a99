"""`manage.py runbot` as an operator runs it: a child process, its exit code and its log."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from botworker.emulator import Emulator, defaults

ROOT = Path(__file__).resolve().parents[2]


def _env(**overrides: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(LOG_LEVEL="info", PYTHONUNBUFFERED="1", **overrides)
    return env


def _manage(*args: str, env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def _error_lines(stderr: str) -> list[str]:
    """What the operator is told (nextcord's own 401 warning line aside)."""
    return [line for line in stderr.splitlines() if line.startswith("CommandError")]


def test_it_refuses_to_start_without_a_token(tmp_path):
    # given no DISCORD_BOT_TOKEN
    env = _env(DISCORD_BOT_TOKEN="", DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}")

    # when runbot starts
    result = _manage("runbot", env=env)

    # then it exits non-zero with one clear line
    assert result.returncode != 0
    assert result.stderr.strip().splitlines() == [
        "CommandError: DISCORD_BOT_TOKEN is empty: set it to the bot's token."
    ]


def test_it_refuses_a_token_discord_rejects(tmp_path, discord_emulator):
    # given a token the (emulated) Discord does not know
    env = _env(
        DISCORD_BOT_TOKEN="not-the-token",
        DISCORD_API_BASE=discord_emulator.api_base,
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
    )

    # when runbot starts
    result = _manage("runbot", env=env)

    # then it exits non-zero, naming the rejected token in one line, and never prints it
    assert result.returncode != 0
    assert "not-the-token" not in result.stderr
    assert _error_lines(result.stderr) == [
        f"CommandError: Discord rejected DISCORD_BOT_TOKEN (login failed at "
        f"{discord_emulator.api_base})."
    ]


def test_it_refuses_to_run_without_the_members_intent(tmp_path):
    # given an application whose Server Members intent is not enabled
    with Emulator.run_in_thread(members_intent=False) as emu:
        env = _env(
            DISCORD_BOT_TOKEN=defaults.BOT_TOKEN,
            DISCORD_API_BASE=emu.api_base,
            DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        )

        # when runbot starts
        result = _manage("runbot", env=env)

    # then it exits non-zero with one line saying what to enable
    assert result.returncode != 0
    (line,) = _error_lines(result.stderr)
    assert line.startswith("CommandError: Discord refused the Server Members intent")


@pytest.mark.skipif(not hasattr(signal, "SIGTERM"), reason="needs POSIX signals")
def test_it_stops_gracefully_on_sigterm_and_persists_its_snapshot(tmp_path, discord_emulator):
    # given runbot running against the emulator, with its own migrated database
    database = tmp_path / "db.sqlite3"
    env = _env(
        DISCORD_BOT_TOKEN=defaults.BOT_TOKEN,
        DISCORD_API_BASE=discord_emulator.api_base,
        DATABASE_URL=f"sqlite:///{database}",
        REDIS_URL="",
    )
    assert _manage("migrate", "-v0", env=env).returncode == 0
    bot = subprocess.Popen(
        [sys.executable, "manage.py", "runbot"],
        cwd=ROOT,
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []
    reported = threading.Event()

    def read() -> None:
        for line in bot.stderr:
            lines.append(line)
            if f"id={defaults.GUILD_ID}" in line:
                reported.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert reported.wait(30), "".join(lines)
        # and its first invite snapshot taken (it persists one per batch): removed here, so
        # only the shutdown can write it again
        deadline = time.monotonic() + 30
        while not _snapshots(database):
            assert time.monotonic() < deadline, "no first snapshot\n" + "".join(lines)
            reported.wait(0.1)
        with sqlite3.connect(database) as db:
            db.execute("delete from botworker_invitesnapshot")

        # when it receives SIGTERM
        bot.send_signal(signal.SIGTERM)
        returncode = bot.wait(30)
    finally:
        if bot.poll() is None:
            bot.kill()
    reader.join(5)

    # then it stopped cleanly, said so, and persisted the guild's invite snapshot
    log = "".join(lines)
    assert returncode == 0, log
    assert "SIGTERM received" in log and "bot stopped" in log
    rows = _snapshots(database)
    assert [(guild, type(json.loads(invites))) for guild, invites in rows] == [
        (defaults.GUILD_ID, list)
    ]


def _snapshots(database: Path) -> list[tuple[str, str]]:
    with sqlite3.connect(database) as db:
        return db.execute("select guild_id, invites from botworker_invitesnapshot").fetchall()
