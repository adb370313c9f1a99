"""Fixtures for the emulator's own tests: the shared ones plus a REST helper."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest_asyncio
from emulator_fixtures import *  # noqa: F403

from botworker.emulator import Emulator, defaults


class Api:
    """Raw HTTP against the emulator: REST as the bot (`Bot <token>`) and the control API."""

    def __init__(self, emu: Emulator, session: aiohttp.ClientSession) -> None:
        self.emu = emu
        self.session = session
        self.bot_headers = {"Authorization": f"Bot {defaults.BOT_TOKEN}"}

    async def rest(
        self,
        method: str,
        path: str,
        json: Any = None,
        headers: dict[str, str] | None = None,
        **kwargs: Any,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        merged = dict(self.bot_headers if headers is None else headers)
        async with self.session.request(
            method, self.emu.api_base + path, json=json, headers=merged, **kwargs
        ) as response:
            body = await response.json() if response.content_type == "application/json" else None
            return response.status, body, response

    async def control(self, method: str, path: str, json: Any = None) -> tuple[int, Any]:
        async with self.session.request(
            method, self.emu.base_url + "/_emulator" + path, json=json
        ) as response:
            return response.status, await response.json()


@pytest_asyncio.fixture
async def api(emulator: Emulator) -> AsyncIterator[Api]:
    async with aiohttp.ClientSession() as session:
        yield Api(emulator, session)
