"""Argument types shared by the management commands."""

from __future__ import annotations

import argparse
from collections.abc import Callable


def int_between(low: int, high: int, what: str) -> Callable[[str], int]:
    """An argparse `type`: a whole number from `low` to `high`, else one line naming `what`."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not {what}: use {low} to {high}")
        return value

    return parse
