"""Reusable fixtures for the local Discord (`botworker.emulator`).

Import them into a conftest: `from emulator_fixtures import *  # noqa: F403` (pytest puts
`tests/` on sys.path, as its root conftest is not in a package).

- `emulator` (async): a fresh in-process `Emulator` on the test's loop, seeded with `defaults`.
- `emulator_thread` (sync): the same, served from a background thread, for Django views, Celery
  tasks and `requests` callers; every `Emulator` method works on the handle.
- `discord_client` (async): a factory starting a real nextcord client against an emulator,
  configured only as production is (`Route.BASE` + token; the gateway URL from `GET /gateway`).
- `EventLog`: records client events so a test can wait for one without racing it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import nextcord
import pytest
import pytest_asyncio

from botworker.emulator import Emulator, EmulatorThread
from botworker.emulator import defaults as discord_defaults

__all__ = ["EventLog", "discord_client", "emulator", "emulator_thread", "start_client"]


@pytest_asyncio.fixture
async def emulator() -> AsyncIterator[Emulator]:
    emu = Emulator()
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture
def emulator_thread() -> Iterator[EmulatorThread]:
    handle = Emulator.run_in_thread()
    try:
        yield handle
    finally:
        handle.stop()


class EventLog:
    """Collects nextcord events by name; `wait` returns a past or future match."""

    def __init__(self, client: nextcord.Client, names: tuple[str, ...]) -> None:
        self.events: dict[str, list[tuple[Any, ...]]] = {name: [] for name in names}
        self.order: list[str] = []
        self._changed = asyncio.Condition()
        for name in names:
            client.add_listener(self._recorder(name), f"on_{name}")

    def _recorder(self, name: str) -> Callable[..., Any]:
        async def record(*args: Any) -> None:
            self.events[name].append(args)
            self.order.append(name)
            async with self._changed:
                self._changed.notify_all()

        return record

    async def wait(
        self,
        name: str,
        check: Callable[..., bool] = lambda *args: True,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> tuple[Any, ...]:
        """The `count`-th event `name` matching `check` (arguments as a tuple)."""

        def matches() -> list[tuple[Any, ...]]:
            return [args for args in self.events[name] if check(*args)]

        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(lambda: len(matches()) >= count), timeout)
        return matches()[count - 1]


async def start_client(
    emu: Emulator,
    *,
    intents: nextcord.Intents | None = None,
    token: str = discord_defaults.BOT_TOKEN,
    record: tuple[str, ...] = (),
    setup: Callable[[nextcord.Client], None] | None = None,
    **options: Any,
) -> tuple[nextcord.Client, asyncio.Task[None], EventLog]:
    """Log a real nextcord client in against `emu` and wait until it is ready."""
    if intents is None:
        intents = nextcord.Intents.default()
        intents.members = True
    nextcord.http.Route.BASE = emu.api_base  # production: settings.DISCORD_API_BASE
    options.setdefault("guild_ready_timeout", 0.05)  # see the emulator notes: 2 s by default
    client = nextcord.Client(intents=intents, **options)

    async def quick_identify(shard_id: int | None, *, initial: bool = False) -> None:
        return None  # nextcord sleeps 5 s before every re-IDENTIFY; not in tests

    client.before_identify_hook = quick_identify  # type: ignore[method-assign]
    log = EventLog(client, record)
    if setup is not None:
        setup(client)
    await client.login(token)
    task = asyncio.create_task(client.connect())
    ready = asyncio.ensure_future(client.wait_until_ready())
    done, _ = await asyncio.wait({ready, task}, timeout=10, return_when=asyncio.FIRST_COMPLETED)
    if task in done:
        ready.cancel()
        await client.close()
        task.result()  # raises the connection error (e.g. PrivilegedIntentsRequired)
    if ready not in done:
        raise TimeoutError("the nextcord client did not become ready")
    return client, task, log


@pytest_asyncio.fixture
async def discord_client() -> AsyncIterator[Callable[..., Any]]:
    """`client, log = await discord_client(emulator, record=("member_join",))`; closed after."""
    started: list[tuple[nextcord.Client, asyncio.Task[None]]] = []
    original_base = nextcord.http.Route.BASE

    async def make(emu: Emulator, **kwargs: Any) -> tuple[nextcord.Client, EventLog]:
        client, task, log = await start_client(emu, **kwargs)
        started.append((client, task))
        return client, log

    try:
        yield make
    finally:
        for client, task in started:
            await client.close()
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(task, 5)
        nextcord.http.Route.BASE = original_base
