"""`make demo`: everything starts and answers; a second demo on the same ports is refused in one
line; Ctrl-C stops the bot before the local Discord, exits 0, with no traceback."""

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
from django.core.management import CommandError, call_command

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
def bare_env(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "REDIS_"))}
    return env | {"DATABASE_URL": f"sqlite:///{tmp_path / 'demo.sqlite3'}", "DJANGO_DEBUG": "true"}


@pytest.fixture
def demo_env(bare_env):
    """A migrated database with the demo data (what `--setup` makes, less the activity)."""
    env = bare_env
    load = "from django.core.management import call_command as c; c('migrate'); c('demo_data')"
    subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", load],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def rundemo(env, web, discord, *extra, **popen):
    command = [sys.executable, "manage.py", "rundemo", "--web-port", str(web)]
    command += ["--discord-port", str(discord), *extra]
    return subprocess.Popen(
        command,
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        **popen,
    )


def test_the_demo_starts_refuses_a_second_and_stops_on_ctrl_c(demo_env):
    # given `make demo`'s command, in its own process group as a terminal runs it
    web, discord = free_port(), free_port()
    first = rundemo(demo_env, web, discord, process_group=0)
    try:
        lines = lines_of(first)
        output = "".join(wait_for_line(lines, r"Press Ctrl-C to stop"))
        landing = re.search(rf"http://127\.0\.0\.1:{web}/r/[a-z0-9-]+", output).group(0)
        assert urllib.request.urlopen(f"http://127.0.0.1:{web}/admin/login/").status == 200
        assert urllib.request.urlopen(landing).status == 200
        assert urllib.request.urlopen(f"http://127.0.0.1:{discord}/").status == 200
        output += "".join(wait_for_line(lines, r"gateway session \w+ identified"))

        # when a second demo starts on the same ports
        second = rundemo(demo_env, web, discord)
        said, _ = second.communicate(timeout=30)

        # then it says so in one line and exits non-zero, without a traceback
        assert second.returncode == 1
        assert said.strip().splitlines() == [
            f"CommandError: A demo is already running on ports {web} (web, "
            f"http://127.0.0.1:{web}/) and {discord} (local Discord): use it, or stop it with "
            "Ctrl-C first."
        ]

        # when Ctrl-C is pressed in the first one's terminal
        os.killpg(first.pid, signal.SIGINT)
        assert first.wait(timeout=30) == 0
    finally:
        if first.poll() is None:
            first.kill()
    output += "".join(wait_for_line(lines, r"Demo stopped"))

    # then the bot stopped before the local Discord, with no traceback or misleading warning
    assert output.index("bot stopped") < output.index("Stopping the Discord emulator")
    for noise in ("Traceback", "No hostname was supplied", "PyNaCl", "behind", "Error"):
        assert noise not in output, f"{noise!r} in the demo's output:\n{output}"
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{web}/healthz", timeout=2)


def test_a_port_held_by_another_program_is_one_line(bare_env):
    with socket.socket() as other:
        other.bind(("127.0.0.1", 0))
        other.listen()
        taken = other.getsockname()[1]
        demo = rundemo(bare_env, taken, free_port())
        said, _ = demo.communicate(timeout=30)

    assert demo.returncode == 1
    assert said.strip().splitlines() == [
        f"CommandError: Port {taken} on 127.0.0.1 is in use by another program: stop it, or "
        "choose another port with --web-port."
    ]


@pytest.mark.parametrize(
    ("ports", "says"),
    [
        (["--web-port", "70000"], "70000 is not a port number: use 1 to 65535"),
        (["--web-port", "0"], "0 is not a port number"),
        (["--discord-port", "http"], "'http' is not a port number"),
        (["--web-port", "8123", "--discord-port", "8123"], "both 8123: give each its own port"),
    ],
)
def test_it_refuses_ports_it_cannot_use_before_starting_anything(ports, says):
    with pytest.raises(CommandError, match=re.escape(says)):
        call_command("rundemo", *ports)
