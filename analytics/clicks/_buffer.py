"""The Redis click buffer: a landing page appends its event to a stream in one round trip, and a
Celery task drains the stream into the database in batches.

1. `push` runs one Lua script: it decides whether a click is unique (SET NX EX on a per-link,
   per-visitor key that lives for the dedupe window — atomic, so two concurrent first requests
   with the same cookie count once) and XADDs the event with that answer.
2. `drain` reads the oldest entries (XRANGE), writes them with `_store.store` in one transaction
   (idempotent by event id) and only then deletes them from the stream (XDEL). A drain killed
   before its commit leaves the stream as it was; one killed after its commit but before XDEL
   is re-read by the next drain, whose INSERT … ON CONFLICT DO NOTHING writes and counts none of
   it again. Entries nothing can store (malformed, or their link was deleted meanwhile) are moved
   to a dead-letter stream, never dropped silently.
3. `status` says how far behind the database is: entries waiting and the age of the oldest.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime

import redis
from django.conf import settings
from django.db import DataError, IntegrityError
from django.utils import timezone

from analytics.clicks import _store
from analytics.models import ReferralEvent
from referrals.models import ReferralLink

log = logging.getLogger(__name__)

STREAM = "invitetrail:clicks"
DEAD = "invitetrail:clicks:dead"
DRAINED_AT = "invitetrail:clicks:drained-at"
SEEN = "invitetrail:clicks:seen:{link}:{visitor}"
DEAD_MAX = 10_000

# KEYS: stream, seen-key. ARGV: event JSON, "always" | "never" | "once", dedupe seconds.
_PUSH = """
local unique = 0
if ARGV[2] == 'always' then
  unique = 1
elseif ARGV[2] == 'once' and redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[3]) then
  unique = 1
end
return redis.call('XADD', KEYS[1], '*', 'event', ARGV[1], 'unique', unique)
"""

_clients: dict[str, tuple[redis.Redis, object]] = {}


def client() -> redis.Redis:
    """This process's Redis client for REDIS_URL (thread-safe; its own connection pool)."""
    return _connection()[0]


def _connection() -> tuple[redis.Redis, object]:
    url = settings.REDIS_URL
    if url not in _clients:
        conn = redis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
        _clients[url] = (conn, conn.register_script(_PUSH))
    return _clients[url]


def push(event: ReferralEvent, *, uniqueness: str) -> None:
    """Append one event to the buffer; `uniqueness` is "always", "never" or "once" (the
    visitor's first click on the link within CLICK_DEDUPE_SECONDS). Sets `event.is_unique`.

    Raises redis.RedisError when Redis cannot take it (the caller writes directly instead).
    """
    conn, script = _connection()
    seen = SEEN.format(link=event.link_id, visitor=event.visitor_id)
    entry = script(
        keys=[STREAM, seen],
        args=[json.dumps(_encode(event)), uniqueness, settings.CLICK_DEDUPE_SECONDS or 1],
        client=conn,
    )
    event.is_unique = uniqueness == "always" or (uniqueness == "once" and entry is not None)


def _encode(event: ReferralEvent) -> dict:
    return {
        "id": str(event.pk),
        "link": str(event.link_id),
        "campaign": str(event.campaign_id),
        "type": event.event_type,
        "at": event.created_at.isoformat(),
        "ua": event.user_agent,
        "ip": event.ip_address,
        "ip_hash": event.ip_hash,
        "ref": event.referrer,
        "device": event.device_type,
        "browser": event.browser,
        "os": event.os,
        "visitor": event.visitor_id,
        "meta": event.metadata,
    }


def _decode(fields: dict[bytes, bytes]) -> ReferralEvent:
    """The event an entry holds; ValueError (or KeyError/TypeError) when it is malformed."""
    data = json.loads(fields[b"event"])
    return ReferralEvent(
        id=uuid.UUID(data["id"]),
        link_id=uuid.UUID(data["link"]),
        campaign_id=uuid.UUID(data["campaign"]),
        event_type=data["type"],
        created_at=datetime.fromisoformat(data["at"]),
        user_agent=data["ua"],
        ip_address=data["ip"],
        ip_hash=data["ip_hash"],
        referrer=data["ref"],
        device_type=data["device"],
        browser=data["browser"],
        os=data["os"],
        visitor_id=data["visitor"],
        is_unique=fields.get(b"unique") == b"1",
        metadata=data["meta"],
    )


def drain(batch: int | None = None, max_batches: int = 20) -> int:
    """Move buffered events into the database, oldest first; returns how many were new.

    Stops when the stream is empty or after `max_batches` batches (the next run goes on), so
    one run never holds a worker for long.
    """
    conn = client()
    batch = batch or settings.CLICK_DRAIN_BATCH
    stored = 0
    for _ in range(max_batches):
        entries = conn.xrange(STREAM, "-", "+", count=batch)
        if not entries:
            break
        readable, dead = _readable(entries)
        stored += _store_batch(readable, dead)
        _acknowledge(conn, [entry_id for entry_id, _ in entries], dead)
        if len(entries) < batch:
            break
    conn.set(DRAINED_AT, time.time())
    if stored:
        log.info("click buffer: %d events written", stored)
    return stored


def _store_batch(readable: list[tuple[tuple, ReferralEvent]], dead: list) -> int:
    """Store the batch; should the database refuse it as a whole (an event it can never hold),
    store the events one by one and move the refused ones aside, so one bad entry cannot block
    the buffer. A database that is down raises: the batch stays in the stream for the next run."""
    try:
        return len(_store.store([event for _, event in readable]))
    except (IntegrityError, DataError) as exc:
        log.warning("click buffer: batch of %d refused (%s); one by one", len(readable), exc)
    stored = 0
    for entry, event in readable:
        try:
            stored += len(_store.store([event]))
        except (IntegrityError, DataError) as exc:
            log.error("click buffer: event %s refused (%s), moved aside", event.pk, exc)
            dead.append(entry)
    return stored


def _readable(entries) -> tuple[list[tuple[tuple, ReferralEvent]], list]:
    """([(entry, event) that can be stored], [entries that never can: malformed, link gone])."""
    decoded, dead = [], []
    for entry in entries:
        try:
            decoded.append((entry, _decode(entry[1])))
        except (ValueError, KeyError, TypeError) as exc:
            log.error("click buffer: entry %s is malformed (%s), moved aside", entry[0], exc)
            dead.append(entry)
    link_ids = {event.link_id for _, event in decoded}
    existing = set(ReferralLink.objects.filter(pk__in=link_ids).values_list("pk", flat=True))
    readable = []
    for entry, event in decoded:
        if event.link_id in existing:
            readable.append((entry, event))
        else:
            log.warning("click buffer: link %s was deleted; event moved aside", event.link_id)
            dead.append(entry)
    return readable, dead


def _acknowledge(conn: redis.Redis, entry_ids: list, dead: list) -> None:
    """The batch is committed: take it off the stream (the unreadable to the dead letters)."""
    pipe = conn.pipeline()
    for _, fields in dead:
        pipe.xadd(DEAD, fields, maxlen=DEAD_MAX, approximate=True)
    pipe.xdel(STREAM, *entry_ids)
    pipe.execute()


@dataclass(frozen=True)
class BufferStatus:
    buffered: bool  # False: clicks are written as they happen
    waiting: int = 0  # clicks in the buffer, not yet in the numbers
    oldest_seconds: float | None = None  # how long the oldest of them has waited
    drained_at: datetime | None = None  # when a drain last finished
    reachable: bool = True

    def as_json(self) -> dict:
        return {
            "buffered": self.buffered,
            "reachable": self.reachable,
            "waiting": self.waiting,
            "oldest_waiting_seconds": self.oldest_seconds,
            "drained_at": self.drained_at.isoformat() if self.drained_at else None,
        }


def status() -> BufferStatus:
    conn = client()
    try:
        pipe = conn.pipeline()
        pipe.xlen(STREAM)
        pipe.xrange(STREAM, "-", "+", count=1)
        pipe.get(DRAINED_AT)
        waiting, oldest, drained = pipe.execute()
    except redis.RedisError:
        return BufferStatus(buffered=True, reachable=False)
    age = None
    if oldest:
        millis = int(oldest[0][0].split(b"-")[0])
        age = max(0.0, time.time() - millis / 1000)
    drained_at = (
        datetime.fromtimestamp(float(drained), tz=timezone.get_current_timezone())
        if drained
        else None
    )
    return BufferStatus(True, waiting, age, drained_at)
