"""Persisting the bot's invite snapshot per guild, so a restart does not lose the baseline.

In Redis when REDIS_URL is set (shared by shards, survives a redeploy of the bot), else in the
database (`botworker.InviteSnapshot`). A snapshot is written whole and never edited in place.

With it go the joins the bot decided but could not record (the database was unavailable):
`record_join`'s keyword arguments, decision included. A snapshot covers their uses, so they are
written together with it (one Redis transaction, or one row): a restart records them from here,
never loses them to a baseline that already counts them.
"""

import json
from datetime import datetime

import redis
from django.conf import settings
from django.utils.dateparse import parse_datetime

from botworker.attribution import InviteState
from botworker.models import InviteSnapshot

KEY = "invitetrail:snapshot:{guild_id}"
UNRECORDED_KEY = "invitetrail:unrecorded:{guild_id}"


def load_snapshot(guild_id: str) -> tuple[dict[str, InviteState], datetime] | None:
    """The last persisted snapshot and when it was taken, or None (never taken, or unreadable)."""
    if settings.REDIS_URL:
        raw = _redis().get(KEY.format(guild_id=guild_id))
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            return _decode(data["invites"]), _time(data["taken_at"])
        except (ValueError, KeyError, TypeError):
            return None
    row = InviteSnapshot.objects.filter(guild_id=guild_id).first()
    if row is None:
        return None
    try:
        return _decode(row.invites), row.taken_at
    except (ValueError, KeyError, TypeError):
        return None


def save_snapshot(
    guild_id: str,
    invites: dict[str, InviteState],
    taken_at: datetime,
    unrecorded: list[dict] | None = None,
) -> None:
    """Replace the guild's snapshot; with `unrecorded`, the kept joins too, in the same write."""
    encoded = [
        {
            "code": i.code,
            "uses": i.uses,
            "max_uses": i.max_uses,
            "expires_at": i.expires_at.isoformat() if i.expires_at else None,
        }
        for i in invites.values()
    ]
    if settings.REDIS_URL:
        payload = json.dumps({"taken_at": taken_at.isoformat(), "invites": encoded})
        with _redis().pipeline(transaction=True) as pipe:
            pipe.set(KEY.format(guild_id=guild_id), payload)
            if unrecorded is not None:
                _set_unrecorded(pipe, guild_id, unrecorded)
            pipe.execute()
        return
    defaults = {"taken_at": taken_at, "invites": encoded}
    if unrecorded is not None:
        defaults["unrecorded"] = [_encode_join(j) for j in unrecorded]
    InviteSnapshot.objects.update_or_create(guild_id=guild_id, defaults=defaults)


def save_unrecorded(guild_id: str, unrecorded: list[dict]) -> bool:
    """Replace the guild's kept joins. False when there is nowhere to keep them: no snapshot
    row yet (database store), so no baseline that counts them either."""
    if settings.REDIS_URL:
        with _redis().pipeline(transaction=True) as pipe:
            _set_unrecorded(pipe, guild_id, unrecorded)
            pipe.execute()
        return True
    encoded = [_encode_join(j) for j in unrecorded]
    return bool(InviteSnapshot.objects.filter(guild_id=guild_id).update(unrecorded=encoded))


def load_unrecorded(guild_id: str) -> list[dict]:
    """The joins kept unrecorded, as `record_join` keyword arguments (oldest first)."""
    if settings.REDIS_URL:
        raw = _redis().get(UNRECORDED_KEY.format(guild_id=guild_id))
        items = json.loads(raw) if raw else []
    else:
        row = InviteSnapshot.objects.filter(guild_id=guild_id).only("unrecorded").first()
        items = row.unrecorded if row else []
    return [_decode_join(item) for item in items]


def _set_unrecorded(pipe, guild_id: str, unrecorded: list[dict]) -> None:
    key = UNRECORDED_KEY.format(guild_id=guild_id)
    if unrecorded:
        pipe.set(key, json.dumps([_encode_join(j) for j in unrecorded]))
    else:
        pipe.delete(key)


def _encode_join(join: dict) -> dict:
    return {
        **join,
        "joined_at": join["joined_at"].isoformat(),
        "candidates": list(join["candidates"]),
    }


def _decode_join(item: dict) -> dict:
    return {**item, "joined_at": _time(item["joined_at"]), "candidates": tuple(item["candidates"])}


def _decode(items: list[dict]) -> dict[str, InviteState]:
    states = (
        InviteState(
            code=str(item["code"]),
            uses=int(item["uses"]),
            max_uses=int(item["max_uses"]),
            expires_at=_time(item["expires_at"]) if item.get("expires_at") else None,
        )
        for item in items
    )
    return {state.code: state for state in states}


def _time(value: str) -> datetime:
    parsed = parse_datetime(value)
    if parsed is None:
        raise ValueError(f"not a time: {value!r}")
    return parsed


_client: redis.Redis | None = None


def _redis() -> redis.Redis:
    global _client
    if _client is None:
        _client = redis.Redis.from_url(settings.REDIS_URL)
    return _client
