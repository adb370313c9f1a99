"""Benchmark: dashboard queries over a generated 1M-event data set — the daily rollups
(`analytics_daily_rollup`, filled by `analytics.rollups.rebuild()`) against the raw GROUP BY over
`referral_analytics` that they replace. Both answer the same question; the results are compared.

    .venv/bin/python bench/dashboard.py [--database-url postgres://postgres@127.0.0.1:5432/NAME]
        [--events 1000000] [--repeat 10] [--json PATH]

Creates a fresh database `<NAME>_dashbench` (dropped afterwards), migrates it, inserts the events
with one INSERT … SELECT over generate_series (50 links in 5 campaigns, 90 days, a realistic mix
of event types), builds the rollups with the product's own rebuild, then times each query.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.landing import drop_database, production_env  # noqa: E402

DAYS = 90
# (event type, share): clicks dominate, as on a real campaign.
MIX = [("click", 0.70), ("preview", 0.05), ("discord_join", 0.12), ("onboarding_start", 0.08),
       ("conversion", 0.05)]  # fmt: skip

QUERIES = {
    "one campaign, 30 days, daily by type": (
        """SELECT (created_at AT TIME ZONE 'UTC')::date AS day, event_type, COUNT(*)
           FROM referral_analytics WHERE campaign_id = %(campaign)s AND created_at >= %(since)s
           GROUP BY 1, 2 ORDER BY 1, 2""",
        """SELECT day, event_type, SUM(count) FROM analytics_daily_rollup
           WHERE campaign_id = %(campaign)s AND dimension = 'all' AND day >= %(since_day)s
           GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
    "all campaigns, 90 days, daily by type": (
        """SELECT (created_at AT TIME ZONE 'UTC')::date AS day, event_type, COUNT(*)
           FROM referral_analytics GROUP BY 1, 2 ORDER BY 1, 2""",
        """SELECT day, event_type, SUM(count) FROM analytics_daily_rollup
           WHERE dimension = 'all' GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
    "link leaderboard, 30 days": (
        """SELECT link_id, event_type, COUNT(*) FROM referral_analytics
           WHERE created_at >= %(since)s AND link_id IS NOT NULL
           GROUP BY 1, 2 ORDER BY 1, 2""",
        """SELECT link_id, event_type, SUM(count) FROM analytics_daily_rollup
           WHERE dimension = 'all' AND day >= %(since_day)s AND link_id IS NOT NULL
           GROUP BY 1, 2 ORDER BY 1, 2""",
    ),
}


def recreate(server_url: str) -> str:
    import psycopg

    base, _, name = server_url.rstrip("/").rpartition("/")
    target = f"{name}_dashbench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{target}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{target}"')
    return f"{base}/{target}"


def filler(data_type: str) -> str:
    """A value for a NOT NULL column the generator does not set (the model may grow)."""
    if data_type in ("integer", "bigint", "smallint", "numeric"):
        return "0"
    if data_type == "boolean":
        return "false"
    if data_type in ("jsonb", "json"):
        return "'{}'::jsonb"
    return "''"


def generate(events: int) -> None:
    """Campaigns, links and `events` events, inserted by PostgreSQL itself."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from botworker.emulator import defaults
    from campaigns.models import Campaign
    from referrals.models import ReferralLink

    user = get_user_model().objects.create_user("bench", "bench@example.test", "bench-pw-1")
    campaigns = [
        Campaign.objects.create(
            campaign_name=f"Bench {c}",
            guild_id=defaults.GUILD_ID,
            channel_id=defaults.INVITE_CHANNEL_ID,
        )  # fmt: skip
        for c in range(5)
    ]
    for n in range(50):
        ReferralLink.objects.create(campaign=campaigns[n % 5], influencer=user, title=f"L{n}")
    set_by_us = {"id", "link_id", "campaign_id", "event_type", "created_at", "metadata",
                 "device_type", "browser", "is_unique", "discord_user_id"}  # fmt: skip
    with connection.cursor() as cur:
        cur.execute(
            """SELECT column_name, data_type FROM information_schema.columns
               WHERE table_name = 'referral_analytics' AND is_nullable = 'NO'
               AND column_default IS NULL"""
        )
        extra = [(c, filler(t)) for c, t in cur.fetchall() if c not in set_by_us]
        bounds, edge = [], 0.0
        for kind, share in MIX:
            edge += share
            bounds.append(f"WHEN r.t < {edge:.4f} THEN '{kind}'")
        kind_sql = f"CASE {' '.join(bounds[:-1])} ELSE '{MIX[-1][0]}' END"
        columns = ", ".join(["id", "link_id", "campaign_id", "event_type", "created_at",
                             "metadata", "device_type", "browser", "is_unique",
                             "discord_user_id"] + [c for c, _ in extra])  # fmt: skip
        fills = "".join(f", {v}" for _, v in extra)
        cur.execute(
            f"""
            WITH l AS (SELECT id, campaign_id, (row_number() OVER (ORDER BY id)) - 1 AS i
                       FROM referral_links),
                 r AS (SELECT g, floor(random() * 50)::int AS li, random() AS t,
                              random() AS d FROM generate_series(1, %s) AS g)
            INSERT INTO referral_analytics ({columns})
            SELECT gen_random_uuid(), l.id, l.campaign_id, {kind_sql},
                   now() - (r.d * interval '{DAYS} days'),
                   CASE WHEN r.t >= 0.75 AND r.t < 0.87
                        THEN jsonb_build_object('decision',
                             (ARRAY['exact','link','ambiguous'])[1 + (r.g %% 3)])
                        ELSE '{{}}'::jsonb END,
                   (ARRAY['desktop','mobile','tablet'])[1 + (r.g %% 3)],
                   (ARRAY['Chrome','Firefox','Safari','Edge'])[1 + (r.g %% 4)],
                   (r.g %% 5) <> 0, CASE WHEN r.t >= 0.75 THEN (1400000000000000000 + r.g)::text
                   ELSE '' END {fills}
            FROM r JOIN l ON l.i = r.li
            """,
            [events],
        )
        cur.execute("ANALYZE referral_analytics")


def timed(sql: str, params: dict, repeat: int) -> tuple[list[float], list[tuple]]:
    from django.db import connection

    times, rows = [], []
    with connection.cursor() as cur:
        cur.execute(sql, params)  # warm-up (plans, caches): not timed
        for _ in range(repeat):
            started = time.perf_counter()
            cur.execute(sql, params)
            rows = cur.fetchall()
            times.append((time.perf_counter() - started) * 1000)
    return times, [tuple(int(v) if isinstance(v, int | float) else v for v in r) for r in rows]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/invitetrail")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", default="")
    args = parser.parse_args()

    url = recreate(args.database_url)
    os.environ.update(production_env(url, ""))
    try:
        subprocess.run([sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
                       cwd=ROOT, env=dict(os.environ), check=True)  # fmt: skip
        import django

        django.setup()
        from django.db import connections
        from django.utils import timezone

        from analytics import rollups
        from campaigns.models import Campaign

        started = time.perf_counter()
        generate(args.events)
        generated_s = time.perf_counter() - started
        started = time.perf_counter()
        rebuilt = rollups.rebuild()
        rebuild_s = time.perf_counter() - started
        from django.db import connection

        with connection.cursor() as cur:
            cur.execute("ANALYZE analytics_daily_rollup")
            cur.execute("SELECT COUNT(*) FROM analytics_daily_rollup")
            rollup_rows = cur.fetchone()[0]
        since = timezone.now() - timedelta(days=30)
        params = {
            "campaign": Campaign.objects.order_by("campaign_name").first().pk,
            "since": since,
            "since_day": since.date(),
        }
        results = {}
        for name, (raw_sql, rollup_sql) in QUERIES.items():
            if "30 days" in name:
                # Rollups are whole days: start the raw query at the same midnight.
                params["since"] = since.replace(hour=0, minute=0, second=0, microsecond=0)
            raw_t, raw_rows = timed(raw_sql, params, args.repeat)
            roll_t, roll_rows = timed(rollup_sql, params, args.repeat)
            results[name] = {
                "raw_p50_ms": round(statistics.median(raw_t), 2),
                "raw_max_ms": round(max(raw_t), 2),
                "rollup_p50_ms": round(statistics.median(roll_t), 2),
                "rollup_max_ms": round(max(roll_t), 2),
                "speedup": round(statistics.median(raw_t) / statistics.median(roll_t), 1),
                "same_answer": raw_rows == roll_rows,
                "rows": len(raw_rows),
            }
        connections.close_all()
    finally:
        if not args.keep_db:
            drop_database(url)
    meta = {
        "events": args.events,
        "generate_s": round(generated_s, 1),
        "rollup_rebuild_s": round(rebuild_s, 1),
        "rollup_rebuild_result": list(rebuilt) if isinstance(rebuilt, tuple) else rebuilt,
        "rollup_rows": rollup_rows,
        "repeat": args.repeat,
        "cpus": os.cpu_count(),
    }
    print(f"\n{'query':<40}{'raw p50 ms':>12}{'rollup p50 ms':>15}{'speedup':>9}  same answer")
    for name, r in results.items():
        print(f"{name:<40}{r['raw_p50_ms']:>12}{r['rollup_p50_ms']:>15}{r['speedup']:>8}x"
              f"  {r['same_answer']}")  # fmt: skip
    print(f"\n{meta}")
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": results}, indent=2))


if __name__ == "__main__":
    main()
