"""Click counting under concurrent load, proven on PostgreSQL with real threads and connections:
same-cookie races, crowds through the Redis buffer, concurrent drains, and a drain process
killed in the middle of its batch."""

import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from django.db import connection, connections, transaction
from django.test import Client

from analytics import clicks
from analytics.models import ReferralEvent
from referrals.models import ReferralLink
from tests.test_classify import WINDOWS_CHROME
from tests.test_click_buffer import assert_numbers_equal_the_events
from tests.waiting import wait_until

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent
COOKIE = "same-visitor-cookie-0123456789"


@pytest.fixture(autouse=True)
def _needs_postgresql():
    if connection.vendor != "postgresql":
        pytest.skip("concurrency is proven on PostgreSQL: set DATABASE_URL=postgres://… to run")


def all_at_once(count, fn):
    """`fn(i)` on `count` threads released together, each with its own connection."""
    start = threading.Barrier(count)

    def run(i):
        try:
            start.wait(timeout=60)
            return fn(i)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(run, range(count)))


def visit_with_cookie(link):
    def visit(_):
        client = Client()
        client.cookies["it_vid"] = COOKIE
        return client.get(f"/r/{link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)

    return visit


def test_concurrent_first_requests_with_one_cookie_count_once(bob_link):
    responses = all_at_once(12, visit_with_cookie(bob_link))

    assert [r.status_code for r in responses] == [200] * 12
    assert ReferralEvent.objects.filter(visitor_id=COOKIE).count() == 12
    assert ReferralEvent.objects.filter(visitor_id=COOKIE, is_unique=True).count() == 1
    assert_numbers_equal_the_events(bob_link)


def test_concurrent_first_requests_with_one_cookie_count_once_through_the_buffer(
    bob_link, click_buffer
):
    all_at_once(12, visit_with_cookie(bob_link))

    assert clicks.drain() == 12

    assert ReferralEvent.objects.filter(visitor_id=COOKIE, is_unique=True).count() == 1
    assert_numbers_equal_the_events(bob_link)


def test_200_concurrent_first_visits_through_the_buffer_give_exact_counters(bob_link, click_buffer):
    def first_visit(_):
        try:
            return Client().get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=40) as pool:
        responses = list(pool.map(first_visit, range(200)))

    assert [r.status_code for r in responses] == [200] * 200
    assert clicks.drain() == 200
    bob_link.refresh_from_db()
    assert bob_link.clicks == 200
    assert_numbers_equal_the_events(bob_link)


def test_drains_running_at_once_count_every_click_once(
    bob_link, charlie_link, click_buffer, settings
):
    settings.CLICK_DRAIN_BATCH = 25
    for n in range(120):
        client = Client()
        client.get(
            f"/r/{(bob_link, charlie_link)[n % 2].referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME
        )

    written = all_at_once(4, lambda _: clicks.drain())

    assert sum(written) == 120
    assert ReferralEvent.objects.count() == 120
    assert clicks.status().waiting == 0
    assert_numbers_equal_the_events(bob_link, charlie_link)


def test_a_drain_process_killed_mid_batch_is_made_good_by_the_next(bob_link, click_buffer):
    # Given 50 buffered clicks
    for _ in range(50):
        Client().get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
    # and a drain in its own process, stopped in its transaction after inserting the events:
    # its UPDATE of the link's counter waits for the row lock this test holds
    with transaction.atomic():
        ReferralLink.objects.select_for_update().get(pk=bob_link.pk)
        drain = drain_process()
        try:
            wait_until(
                lambda: backends_waiting_for_a_lock() == 1,
                "the drain waits on the row lock",
                90,
                process=drain,
            )
            # When the worker is killed there (SIGKILL: no cleanup of any kind)
            drain.send_signal(signal.SIGKILL)
            drain.wait(30)
        finally:
            if drain.poll() is None:
                drain.kill()

    # Then its half-done batch never commits: no event, the clicks still buffered
    wait_until(lambda: not other_transactions(), "the killed transaction is gone", 90)
    assert not ReferralEvent.objects.exists()
    assert clicks.status().waiting == 50
    # and the next drain writes and counts each click exactly once
    assert clicks.drain() == 50
    bob_link.refresh_from_db()
    assert bob_link.clicks == 50
    assert_numbers_equal_the_events(bob_link)


def drain_process() -> subprocess.Popen:
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        CLICK_BUFFER="true",
        LOG_LEVEL="warning",
    )
    command = "from analytics import clicks; clicks.drain()"
    return subprocess.Popen(
        [sys.executable, "manage.py", "shell", "-c", command], cwd=ROOT, env=env
    )


def backends_waiting_for_a_lock() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction the statistics views answer from a snapshot: take a fresh one.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def other_transactions() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND xact_start IS NOT NULL"
        )
        return cursor.fetchone()[0]
