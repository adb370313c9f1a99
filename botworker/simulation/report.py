"""Scoring a finished run against the emulator's ground truth, and presenting it.

Ground truth is what the local Discord knows: which invite each member really used, or that
they were added through OAuth2 (then the link is the one the driver's visitor pressed "Join
with Discord" on). The database says what we decided. A decision crediting a link other than
the one used is `wrong`; a real join with no `discord_join` record is `missed`.
"""

from __future__ import annotations

import sys
import threading
import time
from collections import Counter
from typing import Any, TextIO

from analytics.models import Conversion, ReferralEvent
from referrals.models import ManagedInvite

from .metrics import FUNNEL_STEPS, Recorder

DECISIONS = ("exact", "link", "ambiguous", "organic", "unknown")
CREDITED = ("exact", "link")
SOURCES = ("invite", "oauth")  # how a member got in (the emulator's `via`); "seed" is not scored
SOURCE_KEYS = (
    "joins",
    *DECISIONS,
    "correct",
    "wrong",
    "missed",
    "recorded_as_oauth",  # its record says source "oauth"
    "recorded_more_than_once",  # members with more than one `discord_join` row
)
E = ReferralEvent.EventType


def score_attribution(
    truth: list[dict[str, Any]], oauth_links: dict[str, str] | None = None
) -> tuple[dict[str, Any], dict[str, str]]:
    """(the `attribution` section, member id → decision) for every join the emulator saw.

    Invite joins: the link is the one the used invite was handed out for. OAuth joins (`via`
    "oauth"): the link is the one the visitor pressed "Join with Discord" on, from the driver
    (`oauth_links`, member id → link id); a record crediting it exactly is `exact`, no record
    is `missed`, a credit to any other link is `wrong`. `by_source` splits it all by join path.
    """
    oauth_links = oauth_links or {}
    recorded: dict[str, ReferralEvent] = {}
    records: Counter[str] = Counter()
    for event in ReferralEvent.objects.filter(event_type=E.DISCORD_JOIN).order_by("created_at"):
        recorded.setdefault(event.discord_user_id, event)
        records[event.discord_user_id] += 1
    bound = {
        code: str(link_id) if link_id else None
        for code, link_id in ManagedInvite.objects.values_list(
            "discord_invite_code", "referral_link_id"
        )
    }
    counts: Counter[str] = Counter({d: 0 for d in DECISIONS})
    by_source = {via: Counter({key: 0 for key in SOURCE_KEYS}) for via in SOURCES}
    wrong, wrong_invite, missed, correct, credited, attributable = 0, 0, 0, 0, 0, 0
    examples: list[dict[str, Any]] = []
    decisions: dict[str, str] = {}
    for join in truth:
        via = join["via"]
        if via not in SOURCES:
            continue
        member = join["user_id"]
        used_link = bound.get(join["invite_code"]) if via == "invite" else oauth_links.get(member)
        source = by_source[via]
        source["joins"] += 1
        source["recorded_more_than_once"] += records[member] > 1
        attributable += used_link is not None
        event = recorded.get(member)
        if event is None:
            missed += 1
            source["missed"] += 1
            decisions[member] = "missed"
            continue
        decision = event.metadata.get("decision", "?")
        decisions[member] = decision
        counts[decision] += 1
        source[decision] += 1
        source["recorded_as_oauth"] += event.metadata.get("source") == "oauth"
        if decision not in CREDITED:
            continue
        credited += 1
        if used_link is not None and str(event.link_id) == used_link:
            correct += 1
            source["correct"] += 1
        else:
            wrong += 1
            source["wrong"] += 1
            if len(examples) < 10:
                examples.append(
                    {
                        "member": member,
                        "via": via,
                        "used_invite": join["invite_code"],
                        "used_link": used_link,
                        "credited_link": str(event.link_id),
                        "decision": decision,
                    }
                )
        if (
            via == "invite"
            and decision == "exact"
            and event.metadata.get("invite_code") != join["invite_code"]
        ):
            wrong_invite += 1
    section = {
        **dict(counts),
        "wrong": wrong,
        "wrong_invite": wrong_invite,
        "missed": missed,
        "precision": round(correct / credited, 4) if credited else None,
        "recall": round(correct / attributable, 4) if attributable else None,
        "real_joins": sum(by_source[via]["joins"] for via in SOURCES),
        "by_source": {via: _source_section(by_source[via]) for via in SOURCES},
        "wrong_examples": examples,
    }
    return section, decisions


def link_credit(
    truth: list[dict[str, Any]],
    links: list[tuple[str, str]],
    oauth_links: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Per link, credits given against real joins: the `link_credit` part of `attribution`.

    `links` are the run's (code, link id). `credited`: `discord_join` events whose link is that
    link, whatever their decision (an ambiguous join may carry link-level credit). `actual`:
    joins the emulator saw through the link's invites, plus OAuth joins made on the link.
    `over_credited` sums the credits beyond the real joins, link by link.
    """
    oauth_links = oauth_links or {}
    credited = Counter(
        str(link_id)
        for link_id in ReferralEvent.objects.filter(
            event_type=E.DISCORD_JOIN, link__isnull=False
        ).values_list("link_id", flat=True)
    )
    bound = {
        code: str(link_id)
        for code, link_id in ManagedInvite.objects.exclude(referral_link=None).values_list(
            "discord_invite_code", "referral_link_id"
        )
    }
    actual: Counter[str] = Counter()
    for join in truth:
        if join["via"] == "invite":
            used = bound.get(join["invite_code"])
        elif join["via"] == "oauth":
            used = oauth_links.get(join["user_id"])
        else:
            continue
        if used is not None:
            actual[used] += 1
    per_link = [
        {"code": code, "credited": credited[link_id], "actual": actual[link_id]}
        for code, link_id in links
    ]
    return {
        "links": len(per_link),
        "links_exact": sum(row["credited"] == row["actual"] for row in per_link),
        "credited_total": sum(row["credited"] for row in per_link),
        "actual_total": sum(row["actual"] for row in per_link),
        "over_credited": sum(max(0, row["credited"] - row["actual"]) for row in per_link),
        "per_link": per_link,
    }


def _source_section(counted: Counter[str]) -> dict[str, Any]:
    data: dict[str, Any] = dict(counted)
    data["recall"] = round(counted["correct"] / counted["joins"], 4) if counted["joins"] else None
    return data


def restart_section(
    decisions: dict[str, str],
    join_times: dict[str, float],
    down_periods: list[tuple[float, float]],
) -> dict[str, Any]:
    """What became of the joins made while the bot was down (stop requested → ready again)."""
    during = [
        member
        for member, at in join_times.items()
        if any(start <= at <= end for start, end in down_periods)
    ]
    outcome = Counter(
        "attributed" if decisions.get(m) in CREDITED else decisions.get(m, "missed") for m in during
    )
    return {
        "downtimes_s": [round(end - start, 2) for start, end in down_periods],
        "joins_during": len(during),
        "attributed": outcome.pop("attributed", 0),
        "ambiguous": outcome.pop("ambiguous", 0),
        "missed": outcome.pop("missed", 0),
        "other": dict(outcome),
    }


def database_counts() -> dict[str, int]:
    """The funnel as the database has it, to check the driver's counts against."""
    counted = Counter(
        ReferralEvent.objects.values_list("event_type", flat=True).order_by("event_type")
    )
    return {
        "click_events": counted.get(E.CLICK, 0),
        "invites_handed_out": ManagedInvite.objects.exclude(referral_link=None).count(),
        "discord_join_events": counted.get(E.DISCORD_JOIN, 0),
        "onboarding_start_events": counted.get(E.ONBOARDING_START, 0),
        "conversion_events": counted.get(E.CONVERSION, 0),
        "conversions": Conversion.objects.count(),
    }


def discord_section(calls: dict[str, int], refusals: dict[str, int], joins: int) -> dict:
    fetches = sum(
        n for route, n in calls.items() if route.startswith("GET /guilds/") and "invites" in route
    )
    return {
        "by_route": dict(sorted(calls.items(), key=lambda kv: -kv[1])),
        "total": sum(calls.values()),
        "rate_limited": dict(refusals),
        "invite_list_fetches": fetches,
        "invite_list_fetches_per_join": round(fetches / joins, 3) if joins else None,
    }


# -- presentation ------------------------------------------------------------------------------


def render_table(report: dict[str, Any]) -> str:
    """The report for people: aligned columns, the verdict on the last line."""
    lines: list[str] = []

    def section(title: str, rows: list[tuple[str, Any]]) -> None:
        lines.append(f"\n{title}")
        width = max((len(name) for name, _ in rows), default=0)
        lines.extend(f"  {name:<{width}}  {value}" for name, value in rows)

    funnel, db = report["funnel"], report["database"]
    section("Funnel", [(step, funnel[step]) for step in FUNNEL_STEPS])
    section("Database", list(db.items()))
    a = report["attribution"]
    section(
        "Attribution (scored against the emulator's ground truth)",
        [(key, a[key]) for key in (*DECISIONS, "wrong", "missed", "precision", "recall")],
    )
    for via, source in a.get("by_source", {}).items():
        if source["joins"]:
            keys = ("joins", "exact", "correct", "wrong", "missed", "recall")
            lines.append(f"  {via + ' joins':<20}" + "  ".join(f"{k} {source[k]}" for k in keys))
    if credit := a.get("link_credit"):
        lines.append(
            f"  {'link credit':<20}{credit['links_exact']}/{credit['links']} links exact  "
            f"credited {credit['credited_total']}  actual {credit['actual_total']}  "
            f"over-credited {credit['over_credited']}"
        )
    if report.get("restart"):
        section("Bot restart", [(k, v) for k, v in report["restart"].items()])
    header = f"  {'latency (ms)':<22} {'n':>5} {'p50':>8} {'p95':>8} {'p99':>8} {'max':>8}"
    lines.extend(["", "Latency", header])
    for name, s in report["latency_ms"].items():
        cells = [s[k] if s[k] is not None else "-" for k in ("p50", "p95", "p99", "max")]
        lines.append(f"  {name:<22} {s['n']:>5} " + " ".join(f"{c:>8}" for c in cells))
    d = report["discord_calls"]
    top = list(d["by_route"].items())[:8]
    section(
        "Discord REST calls",
        [
            ("total", d["total"]),
            ("invite list fetches", d["invite_list_fetches"]),
            ("  per join", d["invite_list_fetches_per_join"]),
            ("429s sent", sum(d["rate_limited"].values())),
            *top,
        ],
    )
    if report["bursts"]:
        sizes = ", ".join(f"{b['size']} in {b['seconds']}s" for b in report["bursts"][:6])
        more = " …" if len(report["bursts"]) > 6 else ""
        section("Bursts", [("joins", sizes + more)])
    section("Errors", list(report["errors"].items()) or [("none", "")])
    verdict = "OK" if a["wrong"] == 0 else f"WRONG ATTRIBUTION: {a['wrong']}"
    lines.append(f"\n{verdict} — {report['wall_seconds']} s on {report['database_label']}")
    return "\n".join(lines).lstrip("\n")


class Progress:
    """A one-line progress bar on a terminal; a line every few seconds otherwise (CI logs)."""

    def __init__(self, recorder: Recorder, total: int, out: TextIO = sys.stderr) -> None:
        self.rec, self.total, self.out = recorder, total, out
        self.tty = out.isatty()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="progress", daemon=True)
        self._started = time.monotonic()

    def __enter__(self) -> Progress:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._draw(final=True)

    def _loop(self) -> None:
        every = 0.2 if self.tty else 5.0
        while not self._stop.wait(every):
            self._draw()

    def _draw(self, final: bool = False) -> None:
        funnel, errors, done = self.rec.snapshot()
        filled = int(30 * done / self.total) if self.total else 30
        text = (
            f"[{'#' * filled}{'.' * (30 - filled)}] {done}/{self.total} visitors done  "
            f"joined {funnel['joined']}  welcomed {funnel['welcomed']}  "
            f"converted {funnel['converted']}  errors {errors}  "
            f"{time.monotonic() - self._started:.0f}s"
        )
        if self.tty:
            self.out.write("\r" + text + ("\n" if final else ""))
        else:
            self.out.write(text + "\n")
        self.out.flush()
