"""`latency_ms`: every REST answer and every gateway payload arrives that much later, as over a
real network, with the order of events on a connection kept."""

from __future__ import annotations

import asyncio
import time

import aiohttp

from botworker.emulator import Emulator

LATENCY = 0.15


def arrival_recorder(arrivals: list[tuple[int, float]]):
    """A `setup` for `discord_client`: note (member id, loop time) of every member_join."""

    def setup(client) -> None:
        async def on_member_join(member) -> None:
            arrivals.append((member.id, asyncio.get_running_loop().time()))

        client.add_listener(on_member_join, "on_member_join")

    return setup


async def test_it_answers_rest_calls_late_and_keeps_that_across_a_reset(emulator, api):
    # given a latency set through the control API
    status, _ = await api.control("POST", "/config", {"latency_ms": LATENCY * 1000})
    assert status == 200

    # when the bot calls, before and after the world is reset
    started = time.perf_counter()
    answer, _, _ = await api.rest("GET", "/gateway/bot")
    first = time.perf_counter() - started
    await api.control("POST", "/reset", {})
    started = time.perf_counter()
    await api.rest("GET", "/gateway/bot")
    second = time.perf_counter() - started

    # then both answers took at least the latency (it is the network, not a fault to clear)
    assert answer == 200
    assert first >= LATENCY and second >= LATENCY
    _, state = await api.control("GET", "/state")
    assert state["latency_ms"] == LATENCY * 1000


async def test_it_delivers_gateway_events_late_in_order(emulator, api, discord_client):
    # given a connected bot, then a latency
    arrivals: list[tuple[int, float]] = []
    client, log = await discord_client(
        emulator, record=("member_join",), setup=arrival_recorder(arrivals)
    )
    await api.control("POST", "/config", {"latency_ms": LATENCY * 1000})

    # when five users join at once
    loop = asyncio.get_running_loop()
    sent_at = loop.time()
    users = [emulator.create_user(f"late{n}") for n in range(5)]
    for user in users:
        emulator.accept_invite(emulator.create_invite().code, user.id)
    await log.wait("member_join", count=5)

    # then each GUILD_MEMBER_ADD came at least the latency later, in the order they joined
    assert [member for member, _ in arrivals] == [int(u.id) for u in users]
    assert min(at for _, at in arrivals) - sent_at >= LATENCY


async def test_it_keeps_the_roles_update_after_the_add_under_latency(emulator, api, discord_client):
    # given latency longer than the gap between GUILD_MEMBER_ADD and the roles' update
    client, log = await discord_client(emulator, record=("member_join", "member_update"))
    await api.control("POST", "/config", {"latency_ms": 200, "roles_update_delay_ms": 0})
    role = emulator.create_role("via Link 1")
    invite = emulator.create_invite(role_ids=[role.id], max_uses=1, unique=True)

    # when a user accepts the role invite
    emulator.accept_invite(invite.code)

    # then the bot still hears of the join before the roles
    await log.wait("member_update")
    assert log.order == ["member_join", "member_update"]


async def read_state(emu: Emulator) -> dict:
    async with aiohttp.ClientSession() as http, http.get(emu.base_url + "/_emulator/state") as r:
        return await r.json()


async def test_it_takes_latency_and_roles_in_from_the_constructor():
    # given an emulator built with both settings
    async with Emulator(latency_ms=40, roles_in="add") as emu:
        # when its state is read
        state = await read_state(emu)

    # then both are in force
    assert (state["latency_ms"], state["roles_in"]) == (40, "add")
