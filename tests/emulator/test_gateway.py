"""The Gateway: RESUME with no event lost, RECONNECT, close codes, intents, zlib-stream and
member chunks — with nextcord where it matters and a raw websocket for protocol details."""

from __future__ import annotations

import asyncio
import json
import zlib
from typing import Any

import aiohttp
import nextcord
import pytest

from botworker.emulator import Emulator, defaults

GUILDS, GUILD_MEMBERS, GUILD_INVITES = 1 << 0, 1 << 1, 1 << 6


class RawGateway:
    """A bare websocket speaking Discord's protocol, to check what nextcord hides."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse, compressed: bool) -> None:
        self.ws = ws
        self.inflate = zlib.decompressobj() if compressed else None

    async def receive(self) -> dict[str, Any]:
        message = await self.ws.receive(timeout=5)
        if message.type == aiohttp.WSMsgType.BINARY:
            assert self.inflate is not None and message.data.endswith(b"\x00\x00\xff\xff")
            return json.loads(self.inflate.decompress(message.data))
        if message.type == aiohttp.WSMsgType.TEXT:
            return json.loads(message.data)
        return {"closed": self.ws.close_code}

    async def send(self, op: int, data: Any) -> None:
        await self.ws.send_str(json.dumps({"op": op, "d": data}))

    async def identify(self, intents: int, token: str = defaults.BOT_TOKEN) -> dict[str, Any]:
        await self.send(2, {"token": token, "intents": intents, "properties": {}})
        return await self.receive()

    async def until(self, event: str) -> dict[str, Any]:
        while True:
            payload = await self.receive()
            if payload.get("t") == event or "closed" in payload:
                return payload


@pytest.fixture
async def raw(emulator: Emulator):
    sessions: list[aiohttp.ClientSession] = []

    async def connect(query: str = "?v=10&encoding=json") -> RawGateway:
        session = aiohttp.ClientSession()
        sessions.append(session)
        ws = await session.ws_connect(emulator.ws_url + query)
        gateway = RawGateway(ws, "zlib-stream" in query)
        hello = await gateway.receive()
        assert hello["op"] == 10 and hello["d"]["heartbeat_interval"] > 0
        return gateway

    yield connect
    for session in sessions:
        await session.close()


async def test_it_resumes_after_a_dropped_connection_without_losing_events(
    emulator, discord_client
):
    # given a ready client
    client, log = await discord_client(emulator, record=("member_join", "resumed"))

    # when the connection drops and three users join while it is down
    assert emulator.drop_gateway() == 1
    users = [emulator.accept_invite(emulator.create_invite().code).user_id for _ in range(3)]

    # then the client RESUMEs (no new IDENTIFY) and receives every missed join, in order
    await log.wait("resumed")
    await log.wait("member_join", count=3)
    assert [str(m.id) for (m,) in log.events["member_join"]] == users
    assert (emulator.gateway.identify_count, emulator.gateway.resume_count) == (1, 1)


async def test_it_asks_for_a_reconnect_and_the_client_resumes(emulator, discord_client):
    client, log = await discord_client(emulator, record=("resumed", "member_join"))

    emulator.request_reconnect()
    await log.wait("resumed")
    emulator.accept_invite(emulator.create_invite().code)

    await log.wait("member_join")
    assert emulator.gateway.identify_count == 1


async def test_it_closes_4014_when_the_members_intent_is_not_enabled(discord_client):
    # given an application without the privileged GUILD_MEMBERS intent enabled
    async with Emulator(members_intent=False) as emulator:
        # when a bot asks for it, then nextcord raises PrivilegedIntentsRequired
        with pytest.raises(nextcord.PrivilegedIntentsRequired):
            await discord_client(emulator)


async def test_it_closes_4004_for_a_bad_token(raw):
    gateway = await raw()

    closed = await gateway.identify(GUILDS, token="not-the-token")

    assert closed == {"closed": 4004}


async def test_it_closes_4003_before_identify(raw):
    gateway = await raw()

    await gateway.send(8, {"guild_id": defaults.GUILD_ID, "query": "", "limit": 0})

    assert await gateway.receive() == {"closed": 4003}


async def test_it_acknowledges_heartbeats(raw):
    gateway = await raw()

    await gateway.send(1, None)

    assert (await gateway.receive())["op"] == 11


async def test_nextcord_measures_each_heartbeat_against_its_own_ack(emulator, discord_client):
    # A loopback ACK faster than nextcord's keep-alive thread stamps the send made it measure
    # the previous heartbeat: "Can't keep up, websocket is 41 s behind" in the demo.
    emulator.gateway.heartbeat_interval = 100  # ms, so 40 heartbeats take 4 s
    client, _ = await discord_client(emulator)
    seen: list[float] = []
    deadline = asyncio.get_running_loop().time() + 15
    while len(set(seen)) < 40 and asyncio.get_running_loop().time() < deadline:
        if client.latency != float("inf"):
            seen.append(client.latency)
        await asyncio.sleep(0.01)  # polls the value; no wait on the outcome

    assert len(set(seen)) >= 40, "nextcord stopped heartbeating"
    assert max(seen) < 0.09, f"an ACK was measured against an older heartbeat: {max(seen):.3f} s"


async def test_it_sends_ready_then_guild_create_with_sequence_numbers(raw):
    gateway = await raw()

    ready = await gateway.identify(GUILDS | GUILD_MEMBERS)
    guild = await gateway.receive()

    assert (ready["t"], ready["s"], guild["t"], guild["s"]) == ("READY", 1, "GUILD_CREATE", 2)
    assert ready["d"]["guilds"] == [{"id": defaults.GUILD_ID, "unavailable": True}]
    assert ready["d"]["resume_gateway_url"].startswith("ws://127.0.0.1:")
    assert guild["d"]["member_count"] == len(guild["d"]["members"]) == 2


async def test_it_compresses_with_zlib_stream(raw):
    gateway = await raw("?v=10&encoding=json&compress=zlib-stream")

    ready = await gateway.identify(GUILDS)

    assert ready["t"] == "READY"


async def test_it_filters_events_by_intent(emulator, raw):
    # given one session with GUILD_INVITES and one without
    with_invites, without = await raw(), await raw()
    await with_invites.identify(GUILDS | GUILD_INVITES)
    await without.identify(GUILDS | GUILD_MEMBERS)

    # when an invite is created and a user joins with it
    invite = emulator.create_invite()
    emulator.accept_invite(invite.code)

    # then only the first sees INVITE_CREATE, only the second GUILD_MEMBER_ADD
    assert (await with_invites.until("INVITE_CREATE"))["d"]["code"] == invite.code
    assert (await without.until("GUILD_MEMBER_ADD"))["t"] == "GUILD_MEMBER_ADD"
    first, second = emulator.gateway.sessions.values()
    assert "GUILD_MEMBER_ADD" not in {p["t"] for p in first.buffer}
    assert "INVITE_CREATE" not in {p["t"] for p in second.buffer}


async def test_it_answers_member_requests_with_chunks_echoing_the_nonce(raw):
    gateway = await raw()
    await gateway.identify(GUILDS | GUILD_MEMBERS)

    await gateway.send(
        8, {"guild_id": defaults.GUILD_ID, "query": "", "limit": 0, "nonce": "abc123"}
    )
    chunk = await gateway.until("GUILD_MEMBERS_CHUNK")

    assert chunk["d"]["nonce"] == "abc123"
    assert (chunk["d"]["chunk_index"], chunk["d"]["chunk_count"]) == (0, 1)
    assert len(chunk["d"]["members"]) == 2


async def test_it_invalidates_an_unknown_session_on_resume(raw):
    gateway = await raw()

    await gateway.send(6, {"token": defaults.BOT_TOKEN, "session_id": "nope", "seq": 3})

    assert await gateway.receive() == {"op": 9, "d": False, "s": None, "t": None}


async def test_it_replays_only_missed_events_on_resume(emulator, raw):
    first = await raw()
    ready = await first.identify(GUILDS | GUILD_INVITES)
    await first.until("GUILD_CREATE")
    emulator.drop_gateway()
    invite = emulator.create_invite()

    second = await raw()
    await second.send(
        6, {"token": defaults.BOT_TOKEN, "session_id": ready["d"]["session_id"], "seq": 2}
    )

    replayed = await second.receive()
    resumed = await second.receive()
    assert (replayed["t"], replayed["s"], replayed["d"]["code"]) == (
        "INVITE_CREATE",
        3,
        invite.code,
    )
    assert (resumed["t"], resumed["s"]) == ("RESUMED", 4)
