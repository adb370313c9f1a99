"""`manage.py discord_emulator` serves the emulator as a process and stops cleanly on Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]


def test_it_documents_its_flags():
    result = subprocess.run(
        [sys.executable, "manage.py", "discord_emulator", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )

    for flag in (
        "--port",
        "--host",
        "--no-seed",
        "--strict",
        "--rate-limit",
        "--fail-rate",
        "--latency-ms",
    ):
        assert flag in result.stdout


def test_it_serves_and_stops_on_interrupt():
    # given the command started on a free port
    process = subprocess.Popen(
        [sys.executable, "manage.py", "discord_emulator", "--port", "0", "--strict"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        lines = [process.stdout.readline() for _ in range(4)]
        urls = dict(line.split(":", 1) for line in lines)
        base = urls["Discord emulator UI"].strip().rstrip("/")

        # when it is asked for its state and its gateway
        state = requests.get(base + "/_emulator/state", timeout=5).json()
        gateway = requests.get(urls["REST API base"].strip() + "/gateway", timeout=5).json()

        # then it serves the seeded guild and names itself as the gateway
        assert [g["name"] for g in state["guilds"]] == ["Invitetrail Demo"]
        assert gateway["url"] == urls["Gateway"].strip()
        assert state["strict"] is True
    finally:
        process.send_signal(signal.SIGINT)
        code = process.wait(timeout=15)
    assert code == 0
