"""What a call to Discord through nextcord raises when it fails, and how to say it in a log.

Discord's refusals come as `nextcord.HTTPException`; the network under them (a refused or
dropped connection, a timeout) comes through nextcord unwrapped, as aiohttp's errors,
`asyncio.TimeoutError` or `OSError`. A handler that catches only the first loses its work to
the others.
"""

from __future__ import annotations

import asyncio

import aiohttp
import nextcord

DISCORD_ERRORS = (nextcord.HTTPException, aiohttp.ClientError, asyncio.TimeoutError, OSError)


def describe(error: BaseException) -> str:
    """`HTTP 403 Missing Permissions`, or the network error's type and message."""
    if isinstance(error, nextcord.HTTPException):
        return f"HTTP {error.status} {error.text or ''}".strip()
    return f"{type(error).__name__}: {error}"
