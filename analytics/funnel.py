"""Funnel maths: pure functions over plain counts, no models (property-tested).

The dashboards feed these with sums read from the daily rollups; the same numbers go to the
HTML, the charts and the JSON, so they cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from urllib.parse import urlsplit

# The journey's steps, in order, as (event type, label). Clicks are counted unique.
STEPS = (
    ("click", "Unique clicks"),
    ("discord_join", "Joins"),
    ("onboarding_start", "Onboarding starts"),
    ("conversion", "Conversions"),
)
SERIES = ("click", "discord_join", "onboarding_start", "conversion")


@dataclass(frozen=True)
class Funnel:
    clicks: int = 0
    unique_clicks: int = 0
    previews: int = 0
    joins: int = 0
    starts: int = 0
    conversions: int = 0
    # Joins through the vanity URL or an unmanaged invite: counted in `joins`, but no click of
    # ours led to them, so they stay out of the click → join rate.
    organic_joins: int = 0

    @classmethod
    def from_totals(cls, totals: Mapping[str, tuple[int, int]], organic_joins: int = 0) -> Funnel:
        """`totals` maps event type → (count, unique count)."""

        def count(event_type: str) -> int:
            return totals.get(event_type, (0, 0))[0]

        return cls(
            clicks=count("click"),
            unique_clicks=totals.get("click", (0, 0))[1],
            previews=count("preview"),
            joins=count("discord_join"),
            starts=count("onboarding_start"),
            conversions=count("conversion"),
            organic_joins=organic_joins,
        )

    @property
    def is_empty(self) -> bool:
        return not (self.clicks or self.previews or self.joins or self.starts or self.conversions)

    @property
    def conversion_rate(self) -> float | None:
        """Unique click → conversion, the number managers compare links by."""
        return rate(self.conversions, self.unique_clicks)


@dataclass(frozen=True)
class Step:
    label: str
    count: int
    # From the previous step (None for the first, or when the previous step is zero).
    rate: float | None
    # Width relative to the largest step, 0..1, for drawing.
    scale: float
    # What the rate leaves out, in words ("" when nothing).
    note: str = ""


def rate(part: int, whole: int) -> float | None:
    """part / whole, or None when there is nothing to divide by (shown as "–", never 0 %).

    Not clamped: joins can outnumber clicks (a member may join from a link opened on another
    device, or joins are credited by link before any click in the range).
    """
    if whole <= 0:
        return None
    return part / whole


def steps(funnel: Funnel) -> list[Step]:
    """The four steps with the rate from each previous one. The click → join rate counts only
    joins that came through a link: organic joins had no click to come from."""
    counts = [funnel.unique_clicks, funnel.joins, funnel.starts, funnel.conversions]
    largest = max(counts) or 1
    result = []
    for i, ((event_type, label), count) in enumerate(zip(STEPS, counts, strict=True)):
        previous = rate(count, counts[i - 1]) if i else None
        note = ""
        if event_type == "discord_join" and funnel.organic_joins:
            previous = rate(count - funnel.organic_joins, counts[i - 1])
            note = f"{funnel.organic_joins:,} organic, not in the rate"
        result.append(Step(label, count, previous, count / largest, note))
    return result


@dataclass(frozen=True)
class Share:
    label: str
    count: int
    share: float  # of the total, 0..1
    scale: float  # relative to the largest, 0..1


def shares(counts: Mapping[str, int], *, limit: int = 8, rest: str = "Other") -> list[Share]:
    """Largest first; beyond `limit` rows the tail is folded into one `rest` row, so a long tail
    of referrers stays readable and the shares still add up to the whole."""
    items = sorted(((k, v) for k, v in counts.items() if v > 0), key=lambda kv: (-kv[1], kv[0]))
    if len(items) > limit:
        folded = sum(v for _, v in items[limit - 1 :])
        items = [*items[: limit - 1], (rest, folded)]
    total = sum(v for _, v in items)
    largest = max((v for _, v in items), default=0)
    return [Share(k, v, v / total, v / largest) for k, v in items]


def days_between(start: date, end: date) -> list[date]:
    return [start + timedelta(days=i) for i in range((end - start).days + 1)]


def daily_series(
    rows: Iterable[tuple[date, str, int]], start: date, end: date, names: Iterable[str] = SERIES
) -> dict[str, list[int]]:
    """Rows of (day, series name, count) → one list per series with a value for every day in
    [start, end], zeros where nothing happened (a gap must read as zero, not be skipped)."""
    days = days_between(start, end)
    index = {day: i for i, day in enumerate(days)}
    series = {name: [0] * len(days) for name in names}
    for day, name, count in rows:
        if name in series and day in index:
            series[name][index[day]] += count
    return series


@dataclass(frozen=True)
class Ranked:
    key: str
    label: str
    unique_clicks: int
    joins: int
    conversions: int
    rate: float | None


def leaderboard(rows: Iterable[Ranked], limit: int = 10) -> list[Ranked]:
    """Most conversions first; ties go to the better conversion rate, then to the label so the
    order is stable."""
    return sorted(rows, key=lambda r: (-r.conversions, -(r.rate or 0.0), r.label))[:limit]


def referrer_domain(referrer: str) -> str:
    """The referring site's host, without "www." ("" for a direct visit or junk)."""
    try:
        host = urlsplit(referrer.strip()).hostname or ""
    except ValueError:
        return ""
    host = host.lower().rstrip(".")
    return host.removeprefix("www.")[:255]
