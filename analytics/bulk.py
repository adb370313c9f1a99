"""Writing events in bulk: one INSERT for a batch, idempotent, doing what `save()` would have.

`ReferralEvent.save()` sends `post_save`, and the rollups and the webhook outbox hang off it. A
batch written with one INSERT sends no signal, so `write_events` adds the batch to its rollups
itself and sends `events_written`, which the webhooks app receives like a `post_save`. Click
recording (analytics.clicks) and the bot's join records (analytics.joins) write this way.
"""

from __future__ import annotations

import uuid

from django.db import connection
from django.dispatch import Signal

from analytics import rollups
from analytics.models import ReferralEvent

# Sent inside the writing transaction with `events`: the ReferralEvents a batch newly wrote.
events_written = Signal()

# Up to this many events per INSERT (× ~20 columns stays within every driver's parameter limit).
INSERT_ROWS = 500


def write_events(events: list[ReferralEvent]) -> list[ReferralEvent]:
    """Insert the events that are not stored yet (by id or by `dedupe_key`), add exactly those
    to the rollups and announce them; returns them. Call it inside a transaction, so the events,
    their counts and their deliveries commit together. Each event needs its `created_at`."""
    new_ids = insert_new(events)
    new = [event for event in events if event.pk in new_ids]
    written(new)
    return new


def written(new: list[ReferralEvent]) -> None:
    """What `post_save` would have done for events `insert_new` just wrote: their rollups, and
    `events_written` for the other apps. In the same transaction."""
    rollups.add_events(new)
    if new:
        events_written.send(sender=ReferralEvent, events=new)


def insert_new(events: list[ReferralEvent]) -> set[uuid.UUID]:
    """INSERT … ON CONFLICT DO NOTHING RETURNING id: the ids of the rows that went in (an event
    whose id or natural key is already stored is skipped)."""
    if not events:
        return set()
    meta = ReferralEvent._meta
    fields = list(meta.concrete_fields)
    quote = connection.ops.quote_name
    columns, pk = ", ".join(quote(f.column) for f in fields), quote(meta.pk.column)
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    inserted: set[uuid.UUID] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(events), INSERT_ROWS):
            chunk = events[start : start + INSERT_ROWS]
            params = [
                f.get_db_prep_save(getattr(event, f.attname), connection)
                for event in chunk
                for f in fields
            ]
            cursor.execute(
                f"INSERT INTO {quote(meta.db_table)} ({columns}) "
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT DO NOTHING RETURNING {pk}",
                params,
            )
            inserted.update(_as_uuid(row[0]) for row in cursor.fetchall())
    return inserted


def _as_uuid(value) -> uuid.UUID:
    return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
