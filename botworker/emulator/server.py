"""The emulator process: one aiohttp server with REST, the gateway, the control API and the UI.

In-process (async tests): `emu = Emulator(); await emu.start(); ...; await emu.stop()`.
From synchronous code (Django tests, `requests`): `handle = Emulator.run_in_thread()`, which
serves on its own thread and loop; every `Emulator` method is available on the handle and runs
on the emulator's loop. The Python API below mirrors the control API under `/_emulator/`.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import threading
from collections.abc import Callable
from typing import Any

from aiohttp import web

from . import control, defaults, models, payloads, rest, ui
from .clock import Clock
from .faults import Faults
from .gateway import Gateway
from .rest.common import EMULATOR, FAULTS, WORLD, WS_URL
from .roles import ROLES_IN
from .state import World

log = logging.getLogger(__name__)


class Emulator:
    """A local Discord. All methods must run on the loop that called `start()`."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str = defaults.BOT_TOKEN,
        seed: bool = True,
        *,
        strict: bool = False,
        members_intent: bool = True,
        route_rate: tuple[int, float] | None = (50, 1.0),
        global_rate: int | None = 50,
        fail_rate: float = 0.0,
        latency_ms: float = 0.0,
        random_seed: int = 0,
        invite_delete_order: str = "after",
        interaction_timeout: float = 3.0,
        roles_in: str = "update",
        roles_update_delay_ms: float = 50.0,
    ) -> None:
        self.host = host
        self.port = port
        self.clock = Clock()
        self.world = World(self.clock, token=token, seed=seed, members_intent=members_intent)
        self.world.invite_delete_order = invite_delete_order
        self.world.interaction_timeout = interaction_timeout
        self.set_roles_in(roles_in, roles_update_delay_ms)
        self.faults = Faults(
            seed=random_seed, route_rate=route_rate, global_rate=global_rate, strict=strict
        )
        if fail_rate:
            self.faults.inject_failure("*", status=500, count=None, probability=fail_rate)
        self.gateway = Gateway(self.world, lambda: self.ws_url)
        self.set_latency(latency_ms)
        self._runner: web.AppRunner | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def make_app(self) -> web.Application:
        app = web.Application()
        app[WORLD] = self.world
        app[FAULTS] = self.faults
        app[EMULATOR] = self
        app[WS_URL] = lambda: self.ws_url
        rest.setup(app)
        control.setup(app)
        ui.setup(app)
        app.router.add_get("/gateway", self.gateway.handle)
        return app

    async def start(self) -> Emulator:
        self._runner = web.AppRunner(self.make_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server  # the bound socket tells which free port was picked
        if self.port == 0 and server is not None and server.sockets:
            self.port = server.sockets[0].getsockname()[1]
        log.info(
            "Discord emulator: UI %s  API %s  gateway %s", self.base_url, self.api_base, self.ws_url
        )
        return self

    async def stop(self) -> None:
        await self.gateway.close()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> Emulator:
        return await self.start()

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def api_base(self) -> str:
        return self.base_url + "/api/v10"

    @property
    def ws_url(self) -> str:
        """Like Discord's, a bare host: the client appends `?v=10&encoding=json&compress=…`."""
        return f"ws://{self.host}:{self.port}"

    def invite_url(self, code: str) -> str:
        return f"{self.base_url}/invite/{code}"

    @classmethod
    def run_in_thread(cls, **kwargs: Any) -> EmulatorThread:
        """Start an emulator on a background thread for synchronous callers."""
        return EmulatorThread(cls(**kwargs))

    # -- the Python API (mirrors /_emulator/) ------------------------------------------------

    def create_user(self, username: str | None = None, **kwargs: Any) -> models.User:
        return self.world.create_user(username, **kwargs)

    def create_invite(
        self,
        channel_id: str = defaults.INVITE_CHANNEL_ID,
        inviter_id: str | None = None,
        **params: Any,
    ) -> models.Invite:
        """An invite made by someone (the owner by default), e.g. an unmanaged/organic one."""
        return self.world.create_invite(channel_id, inviter_id or defaults.OWNER_USER_ID, **params)

    def accept_invite(self, code: str, user_id: str | None = None, **kwargs: Any) -> models.Member:
        """The user (a new one if `user_id` is None) joins through invite `code`."""
        user_id = user_id or self.world.create_user().id
        return self.world.accept_invite(code, user_id, **kwargs)

    def remove_member(self, user_id: str, guild_id: str = defaults.GUILD_ID) -> None:
        self.world.remove_member(guild_id, user_id)

    def duplicate_member_add(self, user_id: str, guild_id: str = defaults.GUILD_ID) -> None:
        self.world.duplicate_member_add(guild_id, user_id)

    def click_button(self, user_id: str, message_id: str, custom_id: str) -> models.Interaction:
        return self.world.click_button(user_id, message_id, custom_id)

    def submit_modal(
        self, user_id: str, opened_by: str, values: dict[str, str]
    ) -> models.Interaction:
        """Submit the modal that interaction `opened_by` was answered with."""
        return self.world.submit_modal(user_id, opened_by, values)

    async def wait_for_response(
        self, interaction_id: str, timeout: float = 5.0
    ) -> models.Interaction:
        """Wait until the bot answered the interaction or it failed (no wall-clock polling)."""
        interaction = self.world.interactions[interaction_id]
        await asyncio.wait_for(interaction.settled.wait(), timeout)
        return interaction

    def authorize_oauth(
        self,
        user_id: str,
        *,
        scopes: list[str],
        redirect_uri: str,
        state: str | None = None,
        client_id: str | None = None,
    ) -> str:
        return self.world.authorize(
            client_id=client_id or self.world.application.id,
            user_id=user_id,
            scopes=scopes,
            redirect_uri=redirect_uri,
            state=state,
        )

    def messages(self, channel_id: str, viewer_id: str | None = None) -> list[dict[str, Any]]:
        return [
            payloads.message(m, self.world)
            for m in self.world.channel_messages(channel_id, viewer_id)
        ]

    def members(self, guild_id: str = defaults.GUILD_ID) -> list[dict[str, Any]]:
        guild = self.world.get_guild(guild_id)
        return [payloads.member(m, self.world) for m in guild.members.values()]

    def invites(self, guild_id: str = defaults.GUILD_ID) -> list[dict[str, Any]]:
        return [payloads.invite(i, self.world) for i in self.world.guild_invites(guild_id)]

    def ground_truth(self) -> list[dict[str, Any]]:
        return self.world.ground_truth()

    def returning_visits(self) -> list[dict[str, Any]]:
        """Ground truth of invites accepted by members already in (not joins)."""
        return self.world.returning_ground_truth()

    def create_role(
        self, name: str = "new role", guild_id: str = defaults.GUILD_ID, **fields: Any
    ) -> models.Role:
        """A role made by the guild owner (e.g. to test a role invite)."""
        return self.world.create_role(guild_id, defaults.OWNER_USER_ID, name=name, **fields)

    def interaction_state(self, interaction_id: str) -> dict[str, Any]:
        return control.interaction_state(self.world, self.world.interactions[interaction_id])

    def drop_gateway(self) -> int:
        return self.gateway.drop_connections()

    def request_reconnect(self) -> None:
        self.gateway.request_reconnect()

    def invalidate_sessions(self, resumable: bool = False) -> None:
        self.gateway.invalidate_sessions(resumable)

    def set_invite_delete_order(self, order: str) -> None:
        if order not in ("before", "after"):
            raise ValueError('invite_delete_order is "before" or "after"')
        self.world.invite_delete_order = order

    def set_roles_in(self, roles_in: str, update_delay_ms: float | None = None) -> None:
        """Where a role invite's roles first appear: "add" (in GUILD_MEMBER_ADD) or "update"
        (a GUILD_MEMBER_UPDATE `update_delay_ms` after it). Discord documents neither."""
        if roles_in not in ROLES_IN:
            raise ValueError('roles_in is "add" or "update"')
        if update_delay_ms is not None and not 0 <= update_delay_ms <= 60_000:
            raise ValueError("roles_update_delay_ms is between 0 and 60000")
        self.world.roles_in = roles_in
        if update_delay_ms is not None:
            self.world.roles_update_delay = update_delay_ms / 1000

    @property
    def latency_ms(self) -> float:
        return self.faults.base_latency * 1000

    def set_latency(self, latency_ms: float) -> None:
        """Every REST answer and every gateway payload arrives `latency_ms` later (the order
        of events on a connection is kept). REST uses the faults' latency, as rules do."""
        if not 0 <= latency_ms <= 60_000:
            raise ValueError("latency_ms is between 0 and 60000")
        self.faults.base_latency = latency_ms / 1000
        self.gateway.latency = latency_ms / 1000

    def reset(self, seed: bool = True) -> None:
        """Back to the seed world; faults and records are cleared, base rates kept."""
        self.world.reset(seed=seed)
        self.faults.clear()
        self.gateway.events.clear()

    @property
    def calls(self) -> dict[str, int]:
        return dict(self.faults.calls)

    @property
    def violations(self) -> list[dict[str, Any]]:
        return list(self.faults.violations)

    @property
    def interaction_failures(self) -> list[dict[str, Any]]:
        return list(self.world.interaction_failures)

    def assert_no_violations(self) -> None:
        self.faults.assert_clean()

    def assert_no_failed_interactions(self) -> None:
        if self.world.interaction_failures:
            raise AssertionError(f"interactions failed: {self.world.interaction_failures}")


class EmulatorThread:
    """An `Emulator` served from its own thread; call its methods from any thread."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.loop = asyncio.new_event_loop()
        started = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            asyncio.set_event_loop(self.loop)
            try:
                self.loop.run_until_complete(emulator.start())
            except BaseException as error:  # noqa: BLE001 - reported to the starting thread
                failure.append(error)
                started.set()
                return
            started.set()
            self.loop.run_forever()

        self.thread = threading.Thread(target=serve, name="discord-emulator", daemon=True)
        self.thread.start()
        started.wait(30)
        if failure:
            raise failure[0]

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """Run `fn` on the emulator's loop and return its result (awaiting coroutines)."""

        async def run() -> Any:
            result = fn(*args, **kwargs)
            if asyncio.iscoroutine(result):
                result = await result
            return result

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(60)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.emulator, name)
        if callable(value):
            return functools.partial(self.call, value)
        return value

    def stop(self) -> None:
        if not self.loop.is_running():
            return
        self.call(self.emulator.stop)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    def __enter__(self) -> EmulatorThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
