"""Bounded database connections: a real `manage.py runserver` on PostgreSQL, one thread per
request, serves a burst through psycopg's pool without ever holding more than
DATABASE_POOL_SIZE connections (it used to answer "too many clients")."""

import os
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, connections

from analytics.models import ReferralEvent
from tests.test_classify import WINDOWS_CHROME
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

POOL_SIZE = 4
APP_NAME = "invitetrail-pool-test"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("the connection pool is PostgreSQL's: set DATABASE_URL=postgres://… to run")


@pytest.fixture
def dev_server(tmp_path):
    """`manage.py runserver` on a free loopback port, on the test database, with a small pool."""
    db = connection.settings_dict
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {
        **os.environ,
        "DATABASE_URL": (
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/"
            f"{db['NAME']}?application_name={APP_NAME}"
        ),
        "DATABASE_POOL_SIZE": str(POOL_SIZE),
        "DATABASE_CONN_MAX_AGE": "0",
        # The burst comes from one address: this test is about connections, not rate limits;
        # and each click is written as it happens, so the server's writes are what is counted
        # (the buffered path has its own 200-visitor test in test_click_concurrency.py).
        "LANDING_RATE_LIMIT_PER_IP": "0/60",
        "CLICK_BUFFER": "false",
        "DJANGO_DEBUG": "true",
    }
    log = (tmp_path / "runserver.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def listening() -> bool:
        assert server.poll() is None, (tmp_path / "runserver.log").read_text()[-2000:]
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return True
        except OSError:
            return False

    try:
        wait_until(listening, "runserver listens", seconds=60)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=20)
        log.close()


def server_connections() -> int:
    with connections["default"].cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE application_name = %s", [APP_NAME]
        )
        return cursor.fetchone()[0]


def test_200_first_visits_at_concurrency_40_through_the_dev_server(bob_link, dev_server):
    # Given the dev server, and a watcher counting its database connections meanwhile
    done = threading.Event()
    seen = []

    def watch():
        try:
            while not done.is_set():
                seen.append(server_connections())
                done.wait(0.02)
        finally:
            connections.close_all()

    watcher = threading.Thread(target=watch)
    watcher.start()

    # When 200 new visitors open the link, 40 at a time
    def first_visit(_):
        request = urllib.request.Request(
            f"{dev_server}/r/{bob_link.referral_code}", headers={"User-Agent": WINDOWS_CHROME}
        )
        try:
            with urllib.request.urlopen(request, timeout=60) as response:
                return response.status
        except urllib.error.HTTPError as failed:
            return failed.code

    try:
        with ThreadPoolExecutor(max_workers=40) as pool:
            statuses = list(pool.map(first_visit, range(200)))
    finally:
        done.set()
        watcher.join()

    # Then every visit is served and counted, and the server never held more connections
    # than its pool allows
    assert statuses == [200] * 200

    def counted() -> bool:
        bob_link.refresh_from_db()
        return bob_link.clicks == 200

    wait_until(counted, "the link counts 200 clicks")
    assert ReferralEvent.objects.filter(event_type="click", is_unique=True).count() == 200
    assert seen and 1 <= max(seen) <= POOL_SIZE
