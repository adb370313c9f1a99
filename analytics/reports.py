"""The dashboards' numbers, read from the daily rollups (never a GROUP BY over raw events).

`Filters` is what the dashboard form yields; `rollups_for()` applies it and the viewer's scope;
the functions below turn that queryset into plain numbers for `analytics.funnel`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.db.models import Q, QuerySet, Sum
from django.utils import timezone

from analytics import funnel as fm
from analytics.models import DailyRollup
from analytics.rollups import ALL
from campaigns.scoping import scope
from referrals.models import ReferralLink

PLATFORMS = dict(ReferralLink.Platform.choices)
DECISIONS = {
    "exact": "Exact",
    "link": "Link (several invites, one link)",
    "ambiguous": "Ambiguous",
    "organic": "Organic",
    "unknown": "Unknown",
}
BREAKDOWNS = [
    ("platform", "Platform"),
    ("device", "Device"),
    ("browser", "Browser"),
    ("os", "Operating system"),
    ("referrer", "Referrer domain"),
    ("utm_source", "UTM source"),
    ("utm_medium", "Medium"),
]
EMPTY_LABELS = {"referrer": "(direct)", "utm_source": "(none)", "utm_medium": "(none)"}
# Values a breakdown names in words: a scan of a link's QR code arrives with utm_medium=qr.
VALUE_LABELS = {"utm_medium": {"qr": "QR code"}}


@dataclass(frozen=True)
class Filters:
    start: date
    end: date
    campaign_id: str | None = None
    influencer_id: int | None = None
    link_id: str | None = None
    platform: str | None = None

    @classmethod
    def last(cls, days: int, **kwargs) -> Filters:
        today = timezone.localdate()
        return cls(start=today - timedelta(days=days - 1), end=today, **kwargs)

    def link_q(self, prefix: str = "link__") -> Q:
        """The same filter, for models that reach the link through `prefix`."""
        q = Q()
        if self.campaign_id:
            q &= Q(**{f"{prefix}campaign_id": self.campaign_id})
        if self.influencer_id:
            q &= Q(**{f"{prefix}influencer_id": self.influencer_id})
        if self.link_id:
            q &= Q(**{f"{prefix}id": self.link_id})
        if self.platform:
            q &= Q(**{f"{prefix}platform": self.platform})
        return q


def rollups_for(user, filters: Filters) -> QuerySet:
    qs = DailyRollup.objects.filter(day__gte=filters.start, day__lte=filters.end)
    if filters.campaign_id:
        # By the row's campaign, so joins credited to no link still count for their campaign.
        qs = qs.filter(campaign_id=filters.campaign_id)
    if filters.influencer_id:
        qs = qs.filter(link__influencer_id=filters.influencer_id)
    if filters.link_id:
        qs = qs.filter(link_id=filters.link_id)
    if filters.platform:
        qs = qs.filter(link__platform=filters.platform)
    return scope(qs, user, "link__influencer")


def totals(rollups: QuerySet) -> fm.Funnel:
    rows = (
        rollups.filter(dimension=ALL)
        .order_by()
        .values("event_type")
        .annotate(n=Sum("count"), u=Sum("unique_count"))
    )
    organic = rollups.filter(
        event_type="discord_join", dimension="decision", value="organic"
    ).aggregate(n=Sum("count", default=0))["n"]
    return fm.Funnel.from_totals({r["event_type"]: (r["n"], r["u"]) for r in rows}, organic)


def series(rollups: QuerySet, start: date, end: date) -> dict[str, list[int]]:
    """Per day: unique clicks, joins, onboarding starts, conversions."""
    rows = (
        rollups.filter(dimension=ALL, event_type__in=fm.SERIES)
        .order_by()
        .values("day", "event_type")
        .annotate(n=Sum("count"), u=Sum("unique_count"))
    )
    counted = (
        (r["day"], r["event_type"], r["u"] if r["event_type"] == "click" else r["n"]) for r in rows
    )
    return fm.daily_series(counted, start, end)


def label_of(dimension: str, value: str) -> str:
    """A breakdown value as people read it ("qr" under utm_medium is "QR code")."""
    return VALUE_LABELS.get(dimension, {}).get(value, value)


def breakdown(rollups: QuerySet, dimension: str) -> dict[str, int]:
    """Clicks (all of them: a breakdown describes traffic, repeats included) per value."""
    clicks = rollups.filter(event_type="click").order_by()
    if dimension == "platform":
        rows = clicks.filter(dimension=ALL).values("link__platform").annotate(n=Sum("count"))
        return {PLATFORMS.get(r["link__platform"], "Other"): r["n"] for r in rows}
    rows = clicks.filter(dimension=dimension).values("value").annotate(n=Sum("count"))
    empty = EMPTY_LABELS.get(dimension, "unknown")
    result: dict[str, int] = {}
    for r in rows:
        label = label_of(dimension, r["value"]) or empty
        result[label] = result.get(label, 0) + r["n"]
    return result


def attribution(rollups: QuerySet) -> dict[str, int]:
    rows = (
        rollups.filter(event_type="discord_join", dimension="decision")
        .order_by()
        .values("value")
        .annotate(n=Sum("count"))
    )
    return {DECISIONS.get(r["value"], r["value"]): r["n"] for r in rows}


def _ranked(rollups: QuerySet, key: str, label: str) -> list[fm.Ranked]:
    rows = (
        rollups.filter(dimension=ALL, link__isnull=False)
        .order_by()
        .values(key, label)
        .annotate(
            unique_clicks=Sum("unique_count", filter=Q(event_type="click"), default=0),
            joins=Sum("count", filter=Q(event_type="discord_join"), default=0),
            conversions=Sum("count", filter=Q(event_type="conversion"), default=0),
        )
    )
    return [
        fm.Ranked(
            key=str(r[key]),
            label=r[label],
            unique_clicks=r["unique_clicks"],
            joins=r["joins"],
            conversions=r["conversions"],
            rate=fm.rate(r["conversions"], r["unique_clicks"]),
        )
        for r in rows
    ]


@dataclass
class Leaderboard:
    influencers: list[fm.Ranked] = field(default_factory=list)
    links: list[fm.Ranked] = field(default_factory=list)


def leaderboard(rollups: QuerySet, limit: int = 10) -> Leaderboard:
    return Leaderboard(
        influencers=fm.leaderboard(
            _ranked(rollups, "link__influencer_id", "link__influencer__username"), limit
        ),
        links=fm.leaderboard(_ranked(rollups, "link_id", "link__title"), limit),
    )


@dataclass
class Report:
    """Everything one dashboard page shows (and its JSON returns)."""

    filters: Filters
    funnel: fm.Funnel
    steps: list[fm.Step]
    series: dict[str, list[int]]
    days: list[date]
    breakdowns: list[tuple[str, str, list[fm.Share]]]
    attribution: list[fm.Share]
    leaderboard: Leaderboard

    def as_json(self) -> dict:
        f = self.funnel
        return {
            "range": {"start": self.filters.start.isoformat(), "end": self.filters.end.isoformat()},
            "funnel": {
                "clicks": f.clicks,
                "unique_clicks": f.unique_clicks,
                "previews": f.previews,
                "joins": f.joins,
                "organic_joins": f.organic_joins,
                "onboarding_starts": f.starts,
                "conversions": f.conversions,
                "conversion_rate": f.conversion_rate,
            },
            "steps": [
                {"label": s.label, "count": s.count, "rate": s.rate, "note": s.note}
                for s in self.steps
            ],
            "series": {"days": [d.isoformat() for d in self.days], **self.series},
            "breakdowns": {
                key: {s.label: s.count for s in shares} for key, _, shares in self.breakdowns
            },
            "attribution": {s.label: s.count for s in self.attribution},
            "leaderboard": {
                "influencers": [_ranked_json(r) for r in self.leaderboard.influencers],
                "links": [_ranked_json(r) for r in self.leaderboard.links],
            },
        }


def _ranked_json(r: fm.Ranked) -> dict:
    return {
        "id": r.key,
        "name": r.label,
        "unique_clicks": r.unique_clicks,
        "joins": r.joins,
        "conversions": r.conversions,
        "conversion_rate": r.rate,
    }


def report(user, filters: Filters) -> Report:
    rollups = rollups_for(user, filters)
    funnel = totals(rollups)
    return Report(
        filters=filters,
        funnel=funnel,
        steps=fm.steps(funnel),
        series=series(rollups, filters.start, filters.end),
        days=fm.days_between(filters.start, filters.end),
        breakdowns=[(key, title, fm.shares(breakdown(rollups, key))) for key, title in BREAKDOWNS],
        attribution=fm.shares(attribution(rollups)),
        leaderboard=leaderboard(rollups),
    )
