"""Benchmark: the landing page (click recording) and "Join Discord" (invite assignment) under
concurrent load on gunicorn + PostgreSQL, each against a baseline in the same run — a bare Django
view doing one indexed SELECT on the same server and settings (bench/urls.py, never deployed).

    .venv/bin/python bench/landing.py [--database-url postgres://postgres@127.0.0.1:5432/NAME]
        [--redis-url redis://127.0.0.1:6379/N] [--requests 2000] [--concurrency 8] [--json PATH]
    .venv/bin/python bench/landing.py --embedded [--requests 2000] ...

Creates a fresh database `<NAME>_bench` (dropped afterwards; with --embedded a fresh SQLite file
under var/ and no Redis: the embedded defaults), migrates it, seeds one campaign, one link and a
pool of pre-created invites (so no Discord is involved: assignment is the database claim the
product does), starts gunicorn on 127.0.0.1 with production settings (DEBUG off) — and, with
Redis, a Celery worker with beat, which drains the click buffer while the load runs — and sends
bounded request counts from this machine to this machine only. The Redis database given is
flushed first: give the benchmark one of its own. At the end it waits for the click buffer to
drain and checks that the link's counter and the rollups equal the events.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import _load  # noqa: E402

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
VISITOR_COOKIE = "it_vid"  # referrals.http.VISITOR_COOKIE
BROWSER = "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def production_env(database_url: str, redis_url: str) -> dict[str, str]:
    """Production settings on plain loopback HTTP, with the rate limits off (every request comes
    from one address)."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bench.settings",
        DATABASE_URL=database_url,
        REDIS_URL=redis_url,
        DJANGO_DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        SECURE_SSL_REDIRECT="false",
        SESSION_COOKIE_SECURE="false",
        CSRF_COOKIE_SECURE="false",
        ALLOWED_HOSTS="127.0.0.1",
        JOIN_RATE_LIMIT_PER_IP="0/60",
        JOIN_RATE_LIMIT_PER_LINK="0/60",
        LANDING_RATE_LIMIT_PER_IP="0/60",
        LOG_LEVEL="warning",
        # No Discord in a benchmark: anything that would call it fails at once on loopback.
        DISCORD_API_BASE="http://127.0.0.1:9/api/v10",
    )
    return env


def recreate_database(server_url: str) -> str:
    """A fresh `<name>_bench` database on the server (or SQLite file); returns its URL."""
    if server_url.startswith("sqlite:"):
        Path(server_url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return server_url
    import psycopg

    base, _, name = server_url.rstrip("/").rpartition("/")
    bench_name = f"{name}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}"


def drop_database(url: str) -> None:
    if url.startswith("sqlite:"):
        Path(url.removeprefix("sqlite:///")).unlink(missing_ok=True)
        return
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True)


def seed(invites: int) -> str:
    """One live campaign and link, and `invites` pooled invites; returns the referral code."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from botworker.emulator import defaults
    from campaigns.models import Campaign, ReferralRoles
    from referrals.models import ManagedInvite, ReferralLink

    campaign = Campaign.objects.create(
        campaign_name="Bench",
        guild_id=defaults.GUILD_ID,
        channel_id=defaults.INVITE_CHANNEL_ID,
        headline="Benchmark",
        invite_pool_size=0,  # no top-up: the seeded pool is all there is, no Discord calls
        referral_roles=ReferralRoles.OFF,  # no role to create on Discord for the link
    )
    user = get_user_model().objects.create_user("bench", "bench@example.test", "bench-pw-1")
    link = ReferralLink.objects.create(campaign=campaign, influencer=user, title="Bench link")
    expires = timezone.now() + timedelta(days=1)
    ManagedInvite.objects.bulk_create(
        ManagedInvite(
            campaign=campaign,
            discord_invite_code=f"bench{n:07d}",
            discord_invite_url=f"http://127.0.0.1/invite/bench{n:07d}",
            guild_id=defaults.GUILD_ID,
            channel_id=defaults.INVITE_CHANNEL_ID,
            expires_at=expires,
        )
        for n in range(invites)
    )
    from django.db import connections

    connections.close_all()
    return link.referral_code


def wait_until_up(url: str, seconds: float = 120.0) -> None:
    import requests

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if requests.get(url, timeout=1).status_code == 200:
                return
        except requests.RequestException:
            pass
        time.sleep(0.2)  # polling a server that is starting: no event to wait on
    raise SystemExit(f"gunicorn did not answer {url} within {seconds:.0f} s")


def scenarios(
    base: str, code: str, n: int, concurrency: int, rounds: int = 1
) -> dict[str, _load.Result]:
    """Warm-up, then baseline, landing, join (new visitors), join_again (the same visitors
    pressing again) and the baseline again (drift check) — in
    `rounds` rounds of n/rounds requests each, so that load from elsewhere on a shared machine
    falls on every scenario alike; each scenario's rounds are added up."""

    def baseline(session, i):
        return session.get(f"{base}/bench/baseline/{code}", timeout=30)

    def landing(session, i):
        return session.get(f"{base}/r/{code}", headers={"User-Agent": BROWSER}, timeout=30)

    def with_token(session) -> None:
        page = landing(session, 0)
        session.headers["X-Bench-Token"] = CSRF_RE.search(page.text).group(1)

    def as_new_visitors(session) -> None:
        with_token(session)
        session.csrf_cookie = session.cookies["csrftoken"]

    def join(session, i):
        # Each press is a different visitor's first, as on a real page: the cookie the landing
        # page gives, new each time; the CSRF cookie and token stay the session's. The Cookie
        # header is written out: a per-request cookie jar would cost this client more per
        # request than the server's work differs between the scenarios.
        cookie = f"csrftoken={session.csrf_cookie}; {VISITOR_COOKIE}={secrets.token_urlsafe(18)}"
        return join_again(session, i, {"Cookie": cookie})

    def join_again(session, i, cookie_header=None):
        # With the session's own cookies: its first press claims an invite, the others get
        # that invite back (one invite per visitor).
        return session.post(
            f"{base}/r/{code}/join",
            data={"csrfmiddlewaretoken": session.headers["X-Bench-Token"]},
            headers={"User-Agent": BROWSER, "Referer": f"{base}/r/{code}", **(cookie_header or {})},
            allow_redirects=False,
            timeout=30,
        )

    _load.run("warm-up", min(200, n), concurrency, baseline)
    _load.run("warm-up", min(200, n), concurrency, landing)
    results: dict[str, list[_load.Result]] = {}
    for r in range(rounds):
        share = n // rounds + (1 if r < n % rounds else 0)
        for name, request, prepare in (
            ("baseline", baseline, None),
            ("landing", landing, None),
            ("join", join, as_new_visitors),
            ("join_again", join_again, with_token),
            ("baseline_again", baseline, None),
        ):
            result = _load.run(name, share, concurrency, request, prepare=prepare)
            results.setdefault(name, []).append(result)
    return {name: _load.combine(parts) for name, parts in results.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/invitetrail")
    parser.add_argument("--redis-url", default="", help="empty: tasks eager, local cache")
    parser.add_argument(
        "--embedded",
        action="store_true",
        help="the embedded defaults: a fresh SQLite file, no Redis (ignores the two URLs)",
    )
    parser.add_argument("--requests", type=int, default=2000, help="per scenario (max 20000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument(
        "--rounds", type=int, default=1, help="interleave the scenarios in this many rounds"
    )
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    n = min(args.requests, 20_000)

    if args.embedded:
        args.database_url = f"sqlite:///{ROOT / 'var' / 'bench-landing.sqlite3'}"
        args.redis_url = ""
    if args.redis_url:
        import redis

        redis.Redis.from_url(args.redis_url).flushdb()
    url = recreate_database(args.database_url)
    env = production_env(url, args.redis_url)
    os.environ.update(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    _load.loopback_only(base)
    processes: list[subprocess.Popen] = []
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        # One invite per join, and one per session of join_again in each round.
        code = seed(invites=n + args.concurrency * (max(1, args.rounds) + 2))
        processes.append(
            subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
                + ["-w", str(args.workers), "--log-level", "warning"],
                cwd=ROOT,
                env=env,
            )
        )
        if args.redis_url:  # what drains the click buffer in production
            processes.append(
                subprocess.Popen(
                    [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"]
                    + ["--pool", "solo", "--loglevel", "warning"]
                    + ["--schedule", str(ROOT / "var" / "bench-celerybeat-schedule")],
                    cwd=ROOT,
                    env=env,
                )
            )
        wait_until_up(f"{base}/healthz")
        results = scenarios(base, code, n, args.concurrency, max(1, args.rounds))
        check = clicks_check(code)
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(30)
        if not args.keep_db:
            from django.db import connections

            connections.close_all()
            drop_database(url)
    report(results, args, n, check)


def clicks_check(code: str, seconds: float = 120.0) -> dict:
    """Once the click buffer is drained: the events, and whether the link's counter and the
    rollups equal them (what `rebuild_analytics` would write)."""
    from analytics import clicks
    from analytics.models import DailyRollup, ReferralEvent
    from analytics.rollups import aggregate_events
    from referrals.models import ManagedInvite, ReferralLink

    started = time.monotonic()
    while clicks.status().waiting:
        if time.monotonic() - started > seconds:
            raise SystemExit(f"the click buffer did not drain within {seconds:.0f} s")
        time.sleep(0.2)  # the worker drains every CLICK_DRAIN_SECONDS: poll until it has
    link = ReferralLink.objects.get(referral_code=code)
    events = ReferralEvent.objects.filter(link=link, event_type="click")
    rollups = {
        (r.day, r.campaign_id, r.link_id, r.event_type, r.dimension, r.value): [
            r.count,
            r.unique_count,
        ]
        for r in DailyRollup.objects.all()
    }
    return {
        "click_events": events.count(),
        "unique_click_events": events.filter(is_unique=True).count(),
        "link_clicks_counter": link.clicks,
        "rollups_equal_events": rollups == aggregate_events(),
        "seconds_to_drain_after_load": round(time.monotonic() - started, 1),
        # One per join request (each a new visitor's) and one per join_again session.
        "invites_assigned": ManagedInvite.objects.filter(status=ManagedInvite.Status.ASSIGNED)
        .values("visitor_id")
        .distinct()
        .count(),
    }


def report(results: dict[str, _load.Result], args: argparse.Namespace, n: int, check: dict) -> None:
    base = results["baseline"]
    rows = {}
    print(f"\n{'scenario':<16}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}"
          f"{'vs baseline (req/s)':>21}   statuses")  # fmt: skip
    for name, result in results.items():
        row = result.row()
        row["throughput_ratio_to_baseline"] = round(result.rps / base.rps, 3) if base.rps else None
        row["p50_ratio_to_baseline"] = round(result.pct(50) / base.pct(50), 2)
        rows[name] = row
        print(
            f"{name:<16}{row['req_per_s']:>9}{row['p50_ms']:>9}{row['p95_ms']:>9}"
            f"{row['p99_ms']:>9}{row['throughput_ratio_to_baseline']:>21}   {row['statuses']}"
        )
    meta = {
        "requests_per_scenario": n,
        "concurrency": args.concurrency,
        "rounds": max(1, args.rounds),
        "gunicorn_workers": args.workers,
        "redis": bool(args.redis_url),
        "database": "sqlite" if args.embedded else "postgresql",
        "cpus": os.cpu_count(),
    }
    print(f"\n{meta}\n{check}")
    if args.json:
        document = {"meta": meta, "results": rows, "clicks": check}
        Path(args.json).write_text(json.dumps(document, indent=2) + "\n")


if __name__ == "__main__":
    main()
