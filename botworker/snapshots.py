"""Persisting the bot's invite snapshot per guild, so a restart does not lose the baseline.

In Redis when REDIS_URL is set (shared by shards, survives a redeploy of the bot), else in the
database (`botworker.InviteSnapshot`). A snapshot is written whole and never edited in place.
"""

import json
from datetime import datetime

import redis
from django.conf import settings
from django.utils.dateparse import parse_datetime

from botworker.attribution import InviteState
from botworker.models import InviteSnapshot

KEY = "invitetrail:snapshot:{guild_id}"


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


def save_snapshot(guild_id: str, invites: dict[str, InviteState], taken_at: datetime) -> None:
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
        _redis().set(KEY.format(guild_id=guild_id), payload)
        return
    InviteSnapshot.objects.update_or_create(
        guild_id=guild_id, defaults={"taken_at": taken_at, "invites": encoded}
    )


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
