"""Waiting for something another thread or process does: poll a condition until it holds, with
a deadline, never a fixed sleep."""

import threading
import time
from subprocess import Popen


def wait_until(
    condition,
    what: str = "the condition holds",
    seconds: float = 20.0,
    *,
    process: Popen | None = None,
):
    """The condition's first truthy result; fails after `seconds`, or at once when `process`
    (the one doing the work) has ended."""
    deadline = time.monotonic() + seconds
    pause = threading.Event()
    while not (result := condition()):
        if process is not None and process.poll() is not None:
            raise AssertionError(f"the process ended (exit {process.returncode}) before {what}")
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting until {what}")
        pause.wait(0.02)
    return result
