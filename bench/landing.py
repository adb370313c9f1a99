"""Benchmark: the landing page (click recording) and "Join Discord" (invite assignment) under
concurrent load on gunicorn + PostgreSQL, each against a baseline in the same run — a bare Django
view doing one indexed SELECT on the same server and settings (bench/urls.py, never deployed).

    .venv/bin/python bench/landing.py [--database-url postgres://postgres@127.0.0.1:5432/NAME]
        [--redis-url redis://127.0.0.1:6379/N] [--requests 2000] [--concurrency 8] [--json PATH]

Creates a fresh database `<NAME>_bench` (dropped afterwards), migrates it, seeds one campaign,
one link and a pool of pre-created invites (so no Discord is involved: assignment is the
database claim the product does), starts gunicorn on 127.0.0.1 with production settings
(DEBUG off), and sends bounded request counts from this machine to this machine only.
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
    )
    return env


def recreate_database(server_url: str) -> str:
    """A fresh `<name>_bench` database on the server; returns its URL."""
    import psycopg

    base, _, name = server_url.rstrip("/").rpartition("/")
    bench_name = f"{name}_bench"
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{bench_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{bench_name}"')
    return f"{base}/{bench_name}"


def drop_database(url: str) -> None:
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
    from campaigns.models import Campaign
    from referrals.models import ManagedInvite, ReferralLink

    campaign = Campaign.objects.create(
        campaign_name="Bench",
        guild_id=defaults.GUILD_ID,
        channel_id=defaults.INVITE_CHANNEL_ID,
        headline="Benchmark",
        invite_pool_size=0,  # no top-up: the seeded pool is all there is, no Discord calls
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


def wait_until_up(url: str, seconds: float = 30.0) -> None:
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


def scenarios(base: str, code: str, n: int, concurrency: int) -> dict[str, _load.Result]:
    """Warm-up, then baseline, landing, join, and the baseline again (drift check)."""

    def baseline(session, i):
        return session.get(f"{base}/bench/baseline/{code}", timeout=30)

    def landing(session, i):
        return session.get(f"{base}/r/{code}", headers={"User-Agent": BROWSER}, timeout=30)

    def with_token(session) -> None:
        page = landing(session, 0)
        session.headers["X-Bench-Token"] = CSRF_RE.search(page.text).group(1)

    def join(session, i):
        return session.post(
            f"{base}/r/{code}/join",
            data={"csrfmiddlewaretoken": session.headers["X-Bench-Token"]},
            headers={"User-Agent": BROWSER, "Referer": f"{base}/r/{code}"},
            allow_redirects=False,
            timeout=30,
        )

    _load.run("warm-up", min(200, n), concurrency, baseline)
    _load.run("warm-up", min(200, n), concurrency, landing)
    return {
        "baseline": _load.run("baseline", n, concurrency, baseline),
        "landing": _load.run("landing", n, concurrency, landing),
        "join": _load.run("join", n, concurrency, join, prepare=with_token),
        "baseline_again": _load.run("baseline", n, concurrency, baseline),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/invitetrail")
    parser.add_argument("--redis-url", default="", help="empty: tasks eager, local cache")
    parser.add_argument("--requests", type=int, default=2000, help="per scenario (max 20000)")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn sync workers")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--json", default="")
    args = parser.parse_args()
    n = min(args.requests, 20_000)

    url = recreate_database(args.database_url)
    env = production_env(url, args.redis_url)
    os.environ.update(env)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    _load.loopback_only(base)
    server = None
    try:
        manage(env, "migrate", "--no-input", "-v", "0")
        manage(env, "collectstatic", "--no-input", "-v", "0")
        code = seed(invites=n + args.concurrency * 2)
        server = subprocess.Popen(
            [sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
            + ["-w", str(args.workers), "--log-level", "warning"],
            cwd=ROOT,
            env=env,
        )
        wait_until_up(f"{base}/healthz")
        results = scenarios(base, code, n, args.concurrency)
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            server.wait(30)
        if not args.keep_db:
            drop_database(url)
    report(results, args, n)


def report(results: dict[str, _load.Result], args: argparse.Namespace, n: int) -> None:
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
        "gunicorn_workers": args.workers,
        "redis": bool(args.redis_url),
        "cpus": os.cpu_count(),
    }
    print(f"\n{meta}")
    if args.json:
        Path(args.json).write_text(json.dumps({"meta": meta, "results": rows}, indent=2) + "\n")


if __name__ == "__main__":
    main()
