"""Daily rollups: kept current on every new event, and rebuilt from the events on demand.

Events are append-only, so a rollup only ever grows. `record_event` runs from a `post_save`
receiver, inside the transaction that writes the event: the event and its rollup rows commit
or roll back together, and no write path needs to know rollups exist. (Events written with
`bulk_create` or raw SQL send no signal: `add_events` counts a batch of those in one upsert,
as click recording does, and `manage.py rebuild_analytics` covers any other.)
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable

from django.db import IntegrityError, connection, transaction
from django.db.models import CharField, Count, F, Q, Value
from django.db.models.fields.json import KeyTextTransform, KeyTransform
from django.db.models.functions import TruncDate
from django.utils import timezone

from analytics.funnel import referrer_domain
from analytics.models import DailyRollup, ReferralEvent
from referrals.models import ReferralLink

ALL = "all"
# Breakdown dimensions, by the event types that carry them.
CLICK_DIMENSIONS = ("device", "browser", "os", "referrer", "utm_source", "utm_medium")
JOIN_DIMENSIONS = ("decision",)
MAX_VALUE = 255
UPSERT_ROWS = 1000

Key = tuple  # (day, campaign_id, link_id, event_type, dimension, value)


def dimensions(event: ReferralEvent) -> list[tuple[str, str]]:
    """(dimension, value) pairs an event is counted under, "all" included.

    Empty values are kept (as ""): "direct" traffic and "unknown device" are part of a
    breakdown, and the shares must add up to the total.
    """
    pairs = [(ALL, "")]
    metadata = event.metadata if isinstance(event.metadata, dict) else {}
    if event.event_type == ReferralEvent.EventType.CLICK:
        utm = metadata.get("utm")
        utm = utm if isinstance(utm, dict) else {}
        pairs += [
            ("device", event.device_type),
            ("browser", event.browser),
            ("os", event.os),
            ("referrer", referrer_domain(event.referrer)),
        ]
        # "utm_medium" tells scans of a link's QR code (utm_medium=qr) from other visits.
        for key in ("utm_source", "utm_medium"):
            value = utm.get(key, "")
            pairs.append((key, value if isinstance(value, str) else ""))
    elif event.event_type == ReferralEvent.EventType.DISCORD_JOIN:
        decision = metadata.get("decision") or "unknown"
        pairs.append(("decision", decision if isinstance(decision, str) else "unknown"))
    return [(dimension, (value or "")[:MAX_VALUE]) for dimension, value in pairs]


def rollup_key(key: Key) -> str:
    return hashlib.sha1("|".join(str(part or "") for part in key).encode()).hexdigest()


def record_event(event: ReferralEvent) -> None:
    """Add one new event to its rollup rows (one per dimension).

    Rows are touched one at a time in key order: every writer then takes the row locks (and
    the unique-index entries of rows it inserts) in the same global order, so concurrent
    writers queue behind each other instead of deadlocking, as one multi-row UPDATE could.
    A row missing for a new day is inserted; if a concurrent writer inserted it first, the
    insert fails inside its savepoint and the UPDATE counts ours on top.
    """
    day = timezone.localdate(event.created_at)
    rows = sorted(
        (
            rollup_key((day, event.campaign_id, event.link_id, event.event_type, dim, value)),
            dim,
            value,
        )
        for dim, value in dimensions(event)
    )
    unique = 1 if (event.event_type == ReferralEvent.EventType.CLICK and event.is_unique) else 0
    increment = {"count": F("count") + 1, "unique_count": F("unique_count") + unique}
    with transaction.atomic():
        for key, dim, value in rows:
            if DailyRollup.objects.filter(key=key).update(**increment):
                continue
            try:
                with transaction.atomic():
                    DailyRollup.objects.create(
                        key=key,
                        day=day,
                        campaign_id=event.campaign_id,
                        link_id=event.link_id,
                        event_type=event.event_type,
                        dimension=dim,
                        value=value,
                        count=1,
                        unique_count=unique,
                    )
            except IntegrityError:
                DailyRollup.objects.filter(key=key).update(**increment)


def add_events(events: Iterable[ReferralEvent]) -> int:
    """Add events written without a signal (bulk, see analytics.clicks) to their rollup rows in
    one statement: a multi-row INSERT … ON CONFLICT (key) DO UPDATE that adds the batch's counts
    to the rows' (PostgreSQL and SQLite ≥ 3.24 both speak it). Rows are sent in key order, the
    order `record_event` locks them in, so concurrent writers queue instead of deadlocking.
    Returns the number of rows touched. Call it in the transaction that wrote the events.
    """
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
    for event in events:
        day = timezone.localdate(event.created_at)
        unique = int(event.event_type == ReferralEvent.EventType.CLICK and event.is_unique)
        for dim, value in dimensions(event):
            row = totals[(day, event.campaign_id, event.link_id, event.event_type, dim, value)]
            row[0] += 1
            row[1] += unique
    if not totals:
        return 0
    meta = DailyRollup._meta
    names = ("key", "day", "campaign", "link", "event_type", "dimension", "value", "count",
             "unique_count")  # fmt: skip
    fields = [meta.get_field(name) for name in names]
    quote = connection.ops.quote_name
    table, count, unique = quote(meta.db_table), quote("count"), quote("unique_count")
    rows = sorted((rollup_key(key), *key, n, u) for key, (n, u) in totals.items())
    one = "(" + ", ".join(["%s"] * len(fields)) + ")"
    with connection.cursor() as cursor:
        # One statement per UPSERT_ROWS rows keeps within every driver's parameter limit.
        for start in range(0, len(rows), UPSERT_ROWS):
            chunk = rows[start : start + UPSERT_ROWS]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(quote(f.column) for f in fields)}) "
                f"VALUES {', '.join([one] * len(chunk))} "
                f"ON CONFLICT ({quote('key')}) DO UPDATE SET "
                f"{count} = {table}.{count} + excluded.{count}, "
                f"{unique} = {table}.{unique} + excluded.{unique}",
                [
                    f.get_db_prep_save(v, connection)
                    for row in chunk
                    for f, v in zip(fields, row, strict=True)
                ],
            )
    return len(rows)


def on_event_saved(sender, instance: ReferralEvent, created: bool, raw: bool = False, **kwargs):
    if created and not raw:
        record_event(instance)


# --- Rebuilding ---------------------------------------------------------------------------------


def aggregate_events(events=None) -> dict[Key, list[int]]:
    """Rollup contents computed from raw events with GROUP BY queries: key → [count, unique].

    This is what the rollups must equal; the rebuild writes it, and the tests compare the
    live-maintained rows against it. Referrer domains are folded in Python because hosts
    cannot be parsed portably in SQL (grouping by the full referrer first keeps it cheap).
    """
    events = ReferralEvent.objects.all() if events is None else events
    base = events.annotate(day=TruncDate("created_at")).order_by()
    group = ("day", "campaign_id", "link_id", "event_type")
    unique = Count("id", filter=Q(event_type="click", is_unique=True))
    totals: dict[Key, list[int]] = defaultdict(lambda: [0, 0])

    def add(rows: Iterable[dict], dimension: str, fold=lambda v: v) -> None:
        for row in rows:
            value = fold(row["value"] or "")
            value = value if isinstance(value, str) else ""
            key = (*(row[g] for g in group), dimension, value[:MAX_VALUE])
            totals[key][0] += row["n"]
            totals[key][1] += row["u"]

    def grouped(qs, value):
        return qs.annotate(value=value).values(*group, "value").annotate(n=Count("id"), u=unique)

    add(grouped(base, Value("", output_field=CharField())), ALL)
    clicks = base.filter(event_type=ReferralEvent.EventType.CLICK)
    add(grouped(clicks, F("device_type")), "device")
    add(grouped(clicks, F("browser")), "browser")
    add(grouped(clicks, F("os")), "os")
    add(grouped(clicks, F("referrer")), "referrer", referrer_domain)
    for key in ("utm_source", "utm_medium"):
        add(grouped(clicks, KeyTextTransform(key, KeyTransform("utm", "metadata"))), key)
    joins = base.filter(event_type=ReferralEvent.EventType.DISCORD_JOIN)
    add(grouped(joins, KeyTextTransform("decision", "metadata")), "decision", _decision)
    return dict(totals)


def _decision(value: str) -> str:
    return value or "unknown"


def rebuild() -> tuple[int, int]:
    """Replace every rollup row and recount the links' counters from the events.

    Returns (rollup rows written, links updated). On PostgreSQL the events table is locked
    against writers (readers go on) for the duration, so no event lands between the count and
    the replacement; SQLite's write lock gives the same.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(f"LOCK TABLE {ReferralEvent._meta.db_table} IN SHARE MODE")
        totals = aggregate_events()
        DailyRollup.objects.all().delete()
        DailyRollup.objects.bulk_create(
            (
                DailyRollup(
                    key=rollup_key(key),
                    day=key[0],
                    campaign_id=key[1],
                    link_id=key[2],
                    event_type=key[3],
                    dimension=key[4],
                    value=key[5],
                    count=n,
                    unique_count=u,
                )
                for key, (n, u) in totals.items()
            ),
            batch_size=1000,
        )
        links = rebuild_link_counters()
    return len(totals), links


def rebuild_link_counters(links=None) -> int:
    """Set each link's `clicks` (unique click events) and `conversions` (conversion events)
    to what the event log says."""
    links = ReferralLink.objects.all() if links is None else links
    counted = (
        ReferralEvent.objects.filter(link__in=links)
        .order_by()
        .values("link_id")
        .annotate(
            clicks=Count("id", filter=Q(event_type="click", is_unique=True)),
            conversions=Count("id", filter=Q(event_type="conversion")),
        )
    )
    numbers = {row["link_id"]: (row["clicks"], row["conversions"]) for row in counted}
    changed = 0
    for link_id, clicks, conversions in links.values_list("id", "clicks", "conversions"):
        want = numbers.get(link_id, (0, 0))
        if (clicks, conversions) != want:
            ReferralLink.objects.filter(pk=link_id).update(clicks=want[0], conversions=want[1])
            changed += 1
    return changed
