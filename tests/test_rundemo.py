"""`make demo`'s last step: everything starts, answers, and stops on SIGTERM."""

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def lines_of(process) -> "queue.Queue[str]":
    found: queue.Queue[str] = queue.Queue()

    def pump():
        for line in process.stdout:
            found.put(line)
        found.put("")

    threading.Thread(target=pump, daemon=True).start()
    return found


def wait_for_line(found, pattern, timeout=60.0):
    deadline = time.monotonic() + timeout
    seen = []
    while time.monotonic() < deadline:
        try:
            line = found.get(timeout=deadline - time.monotonic())
        except queue.Empty:
            break
        seen.append(line)
        if line == "":
            break
        if re.search(pattern, line):
            return seen
    pytest.fail(f"never saw {pattern!r}; output was:\n{''.join(seen)}")


@pytest.fixture
def demo_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    env |= {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DJANGO_DEBUG": "true"}
    for step in (["migrate", "--no-input"], ["demo_data"]):
        subprocess.run(
            [sys.executable, "manage.py", *step], cwd=ROOT, env=env, check=True, capture_output=True
        )
    return env


def test_the_demo_starts_serves_and_stops(demo_env):
    web, discord = free_port(), free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "rundemo",
            "--web-port",
            str(web),
            "--discord-port",
            str(discord),
        ],
        cwd=ROOT,
        env=demo_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output = "".join(wait_for_line(lines_of(process), r"Press Ctrl-C to stop"))
        landing = re.search(rf"http://127\.0\.0\.1:{web}/r/[a-z0-9-]+", output).group(0)
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/admin/login/").status == 200
        assert urllib.request.urlopen(landing).status == 200
        assert urllib.request.urlopen(f"http://127.0.0.1:{discord}/").status == 200
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=2)
