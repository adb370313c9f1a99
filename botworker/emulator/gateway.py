"""The Gateway: Discord's websocket protocol, as documented in "Gateway" and "Opcodes".

Connection lifecycle: HELLO (op 10) on connect; the client IDENTIFYs (op 2) and gets READY then
one GUILD_CREATE per guild, or RESUMEs (op 6) and gets every event it missed (replayed from the
session's buffer, same sequence numbers) then RESUMED. Heartbeats (op 1) are ACKed (op 11), after
a real network's round trip (ACK_DELAY) rather than the loopback's microseconds: nextcord stamps
a heartbeat's send time on its keep-alive thread only after the send completes, so an ACK that
beats that stamp is measured against the previous heartbeat ("Can't keep up, websocket is 41 s
behind"). Dispatches are not held behind the ACK.
The server can ask for a RECONNECT (op 7), invalidate a session (op 9) or drop the socket.
Close codes: 4001 unknown opcode, 4002 decode error, 4003 not authenticated, 4004 bad token,
4005 already authenticated, 4010 invalid shard, 4013 invalid intents, 4014 disallowed
(privileged, not enabled) intents. Events are filtered by intents and shard; with
`compress=zlib-stream` every payload goes through one zlib stream, flushed with Z_SYNC_FLUSH.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
import zlib
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from aiohttp import WSMsgType, web

from . import payloads
from .state import GUILD_MEMBERS, GUILDS

if TYPE_CHECKING:
    from .state import World

log = logging.getLogger(__name__)

DISPATCH, HEARTBEAT, IDENTIFY, PRESENCE, VOICE, RESUME, RECONNECT = 0, 1, 2, 3, 4, 6, 7
REQUEST_MEMBERS, INVALID_SESSION, HELLO, HEARTBEAT_ACK = 8, 9, 10, 11
MESSAGE_CONTENT = 1 << 15
PRIVILEGED = {1 << 1: "members", 1 << 8: "presences", 1 << 15: "message_content"}
ALL_INTENTS = (1 << 26) - 1
BUFFER_SIZE = 10_000
ACK_DELAY = 0.03  # seconds: a fast real link's round trip to the gateway
CHUNK_SIZE = 1000


@dataclass
class Session:
    id: str
    intents: int
    shard: tuple[int, int]
    seq: int = 0
    buffer: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=BUFFER_SIZE))
    connection: Connection | None = None

    def wants(self, intent: int, guild_id: str | None) -> bool:
        if intent and not self.intents & intent:
            return False
        shard_id, count = self.shard
        return guild_id is None or count <= 1 or (int(guild_id) >> 22) % count == shard_id


class Connection:
    """One websocket; a writer task keeps payloads in the order they were queued.

    With a latency (the emulator's `latency_ms`) each payload leaves that long after it was
    queued; the queue is first in, first out, so the order on the connection is kept.
    """

    def __init__(
        self,
        ws: web.WebSocketResponse,
        request: web.Request,
        compress: bool,
        latency: Callable[[], float] = lambda: 0.0,
    ) -> None:
        self.ws = ws
        self.transport = request.transport
        self.deflate = zlib.compressobj() if compress else None
        self.latency = latency
        self.queue: asyncio.Queue[tuple[float, dict[str, Any] | int]] = asyncio.Queue()
        self.session: Session | None = None
        self.writer = asyncio.create_task(self._write())

    def _put(self, item: dict[str, Any] | int) -> None:
        delay = self.latency()
        due = asyncio.get_running_loop().time() + delay if delay > 0 else 0.0
        self.queue.put_nowait((due, item))

    def send(self, payload: dict[str, Any]) -> None:
        self._put(payload)

    def close(self, code: int) -> None:
        """Close after everything already queued has been sent."""
        self._put(code)

    def drop(self) -> None:
        """Vanish like a lost network link: no close frame."""
        if self.transport is not None:
            self.transport.abort()

    async def _write(self) -> None:
        with contextlib.suppress(ConnectionError, RuntimeError, asyncio.CancelledError):
            loop = asyncio.get_running_loop()
            while True:
                due, item = await self.queue.get()
                if due and (wait := due - loop.time()) > 0:
                    await asyncio.sleep(wait)  # the emulated network's latency
                if isinstance(item, int):
                    await self.ws.close(code=item)
                    return
                text = json.dumps(item, separators=(",", ":"))
                if self.deflate is not None:
                    data = self.deflate.compress(text.encode()) + self.deflate.flush(
                        zlib.Z_SYNC_FLUSH
                    )
                    await self.ws.send_bytes(data)
                else:
                    await self.ws.send_str(text)


class Gateway:
    def __init__(self, world: World, resume_url: Callable[[], str]) -> None:
        self.world = world
        self.resume_url = resume_url
        self.heartbeat_interval = 41250
        self.sessions: dict[str, Session] = {}
        self.connections: set[Connection] = set()
        self.events: deque[tuple[str, dict[str, Any]]] = deque(maxlen=BUFFER_SIZE)
        self.identify_count = 0
        self.resume_count = 0
        self.latency = 0.0  # seconds every payload takes to reach the client
        self.ready = asyncio.Event()  # set at the first READY; tests may wait on it
        world.emit = self.dispatch

    # -- events --------------------------------------------------------------------------------

    def dispatch(self, event: str, data: dict[str, Any], intent: int, guild_id: str | None) -> None:
        """Send an event to every session whose intents and shard want it (buffered for RESUME)."""
        self.events.append((event, data))
        for session in self.sessions.values():
            if session.wants(intent, guild_id):
                self._send_dispatch(session, event, self._for_session(session, event, data))

    def _for_session(self, session: Session, event: str, data: dict[str, Any]) -> dict[str, Any]:
        if (
            event in ("MESSAGE_CREATE", "MESSAGE_UPDATE")
            and not session.intents & MESSAGE_CONTENT
            and data.get("author", {}).get("id") != self.world.bot_id
        ):
            data = {**data, "content": "", "embeds": [], "attachments": [], "components": []}
        return data

    def _send_dispatch(self, session: Session, event: str, data: dict[str, Any]) -> None:
        session.seq += 1
        payload = {"op": DISPATCH, "t": event, "s": session.seq, "d": data}
        session.buffer.append(payload)
        if session.connection is not None:
            session.connection.send(payload)

    # -- control -------------------------------------------------------------------------------

    def drop_connections(self) -> int:
        """Drop every socket without a close frame; sessions stay resumable."""
        dropped = 0
        for connection in list(self.connections):
            connection.drop()
            dropped += 1
        return dropped

    def request_reconnect(self) -> None:
        for connection in list(self.connections):
            connection.send({"op": RECONNECT, "d": None, "s": None, "t": None})

    def invalidate_sessions(self, resumable: bool = False) -> None:
        for connection in list(self.connections):
            connection.send({"op": INVALID_SESSION, "d": resumable, "s": None, "t": None})
            if not resumable and connection.session is not None:
                self.sessions.pop(connection.session.id, None)

    async def close(self) -> None:
        for connection in list(self.connections):
            connection.close(1001)
        for connection in list(self.connections):
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(connection.writer), 1.0)
            connection.drop()

    # -- the websocket -------------------------------------------------------------------------

    async def handle(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=4096 * 1024, autoping=True)
        await ws.prepare(request)
        compress = request.query.get("compress") == "zlib-stream"
        connection = Connection(ws, request, compress, lambda: self.latency)
        self.connections.add(connection)
        connection.send(
            {
                "op": HELLO,
                "d": {"heartbeat_interval": self.heartbeat_interval},
                "s": None,
                "t": None,
            }
        )
        try:
            async for message in ws:
                if message.type not in (WSMsgType.TEXT, WSMsgType.BINARY):
                    break
                try:
                    payload = json.loads(message.data)
                    op = payload["op"]
                except (ValueError, KeyError, TypeError):
                    connection.close(4002)
                    break
                if not self._receive(connection, op, payload.get("d")):
                    break
        finally:
            self.connections.discard(connection)
            if connection.session is not None and connection.session.connection is connection:
                connection.session.connection = None
            connection.close(1000)  # lets the writer flush what is queued, then stop
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(asyncio.shield(connection.writer), 1.0)
            connection.writer.cancel()
        return ws

    def _receive(self, connection: Connection, op: int, data: Any) -> bool:
        """Handle one client payload; False once the connection is being closed."""
        if op == HEARTBEAT:
            ack = {"op": HEARTBEAT_ACK, "d": None, "s": None, "t": None}
            asyncio.get_running_loop().call_later(ACK_DELAY, connection.send, ack)
            return True
        if op == IDENTIFY:
            return self._identify(connection, data or {})
        if op == RESUME:
            return self._resume(connection, data or {})
        if connection.session is None:
            connection.close(4003)
            return False
        if op == REQUEST_MEMBERS:
            return self._request_members(connection, data or {})
        if op in (PRESENCE, VOICE):
            return True
        connection.close(4001)
        return False

    def _token_ok(self, token: Any) -> bool:
        if not isinstance(token, str):
            return False
        token = token.removeprefix("Bot ")
        return secrets.compare_digest(token.encode(), self.world.token.encode())

    def _identify(self, connection: Connection, data: dict[str, Any]) -> bool:
        if connection.session is not None:
            connection.close(4005)
            return False
        if not self._token_ok(data.get("token")):
            connection.close(4004)
            return False
        intents = data.get("intents")
        if not isinstance(intents, int) or intents < 0 or intents & ~ALL_INTENTS:
            connection.close(4013)
            return False
        enabled = self.world.application.privileged_intents
        if any(intents & bit and name not in enabled for bit, name in PRIVILEGED.items()):
            connection.close(4014)
            return False
        shard = data.get("shard") or [0, 1]
        if not (isinstance(shard, list) and len(shard) == 2 and 0 <= shard[0] < shard[1]):
            connection.close(4010)
            return False
        session = Session(secrets.token_hex(16), intents, (shard[0], shard[1]))
        session.connection = connection
        connection.session = session
        self.sessions[session.id] = session
        self.identify_count += 1
        self._send_dispatch(session, "READY", self._ready_payload(session))
        for guild in self.world.guilds.values():
            if self.world.bot_id in guild.members and session.wants(GUILDS, guild.id):
                self._send_dispatch(session, "GUILD_CREATE", self._guild_create(session, guild))
        self.ready.set()
        log.info("gateway session %s identified (intents %s)", session.id, intents)
        return True

    def _ready_payload(self, session: Session) -> dict[str, Any]:
        world = self.world
        bot = payloads.user_pii(world.users[world.bot_id], with_email=False)
        bot["email"] = None
        data: dict[str, Any] = {
            "v": 10,
            "user": bot,
            "guilds": [
                {"id": g.id, "unavailable": True}
                for g in world.guilds.values()
                if world.bot_id in g.members and session.wants(0, g.id)
            ],
            "session_id": session.id,
            "session_type": "normal",
            "resume_gateway_url": self.resume_url(),
            "application": {"id": world.application.id, "flags": world.application_flags()},
            "private_channels": [],
            "presences": [],
            "relationships": [],
            "guild_join_requests": [],
            "geo_ordered_rtc_regions": [],
            "user_settings": {},
            "_trace": ['["invitetrail-emulator",{"micros":0}]'],
        }
        if session.shard[1] > 1:
            data["shard"] = list(session.shard)
        return data

    def _guild_create(self, session: Session, guild: Any) -> dict[str, Any]:
        data = payloads.guild_create(guild, self.world)
        if not session.intents & GUILD_MEMBERS:
            # Without GUILD_MEMBERS, GUILD_CREATE lists only the bot itself.
            data["members"] = [m for m in data["members"] if m["user"]["id"] == self.world.bot_id]
        return data

    def _resume(self, connection: Connection, data: dict[str, Any]) -> bool:
        if not self._token_ok(data.get("token")):
            connection.close(4004)
            return False
        session = self.sessions.get(str(data.get("session_id")))
        seq = data.get("seq")
        seq = seq if isinstance(seq, int) else 0
        if session is None or (session.buffer and seq < session.buffer[0]["s"] - 1):
            connection.send({"op": INVALID_SESSION, "d": False, "s": None, "t": None})
            return True
        if session.connection is not None and session.connection is not connection:
            session.connection.drop()
        session.connection = connection
        connection.session = session
        self.resume_count += 1
        for payload in session.buffer:
            if payload["s"] > seq:
                connection.send(payload)
        self._send_dispatch(session, "RESUMED", {"_trace": ['["invitetrail-emulator"]']})
        log.info("gateway session %s resumed from seq %s", session.id, seq)
        return True

    def _request_members(self, connection: Connection, data: dict[str, Any]) -> bool:
        session = connection.session
        assert session is not None
        guild_ids = data.get("guild_id")
        guild_ids = guild_ids if isinstance(guild_ids, list) else [guild_ids]
        user_ids = data.get("user_ids")
        query = data.get("query")
        if not session.intents & GUILD_MEMBERS and (user_ids is None and query == ""):
            connection.close(4014)
            return False
        limit = data.get("limit") or 0
        for guild_id in guild_ids:
            guild = self.world.guilds.get(str(guild_id))
            if guild is None:
                continue
            if user_ids is not None:
                wanted = {str(u) for u in (user_ids if isinstance(user_ids, list) else [user_ids])}
                members = [m for uid, m in guild.members.items() if uid in wanted]
                not_found = sorted(wanted - set(guild.members))
            else:
                prefix = (query or "").lower()
                members = [
                    m
                    for m in guild.members.values()
                    if self.world.users[m.user_id].username.lower().startswith(prefix)
                ]
                members = members[:limit] if limit else members
                not_found = []
            chunks = [members[i : i + CHUNK_SIZE] for i in range(0, len(members), CHUNK_SIZE)]
            chunks = chunks or [[]]
            for index, chunk in enumerate(chunks):
                event: dict[str, Any] = {
                    "guild_id": guild.id,
                    "members": [payloads.member(m, self.world) for m in chunk],
                    "chunk_index": index,
                    "chunk_count": len(chunks),
                }
                if not_found and index == 0:
                    event["not_found"] = not_found
                if data.get("nonce") is not None:
                    event["nonce"] = data["nonce"]
                if data.get("presences"):
                    event["presences"] = []
                self._send_dispatch(session, "GUILD_MEMBERS_CHUNK", event)
        return True
