"""The Redis click buffer: a landing page is one round trip to a stream; a drain moves the
stream into the database, idempotent by event id, so the counters and rollups equal the events
whatever crashed when. (Needs REDIS_URL; skipped with the reason otherwise.)"""

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import clicks
from analytics.clicks import _buffer
from analytics.models import DailyRollup, ReferralEvent
from analytics.rollups import aggregate_events
from analytics.tasks import drain_clicks_task
from tests.analytics_support import rollup_table
from tests.test_classify import IPHONE, WINDOWS_CHROME


def visit(client, link, agent=WINDOWS_CHROME, **extra):
    return client.get(f"/r/{link.referral_code}", HTTP_USER_AGENT=agent, **extra)


def assert_numbers_equal_the_events(*links) -> None:
    """What `rebuild_analytics` would write is what is there: rollups and every link counter."""
    assert rollup_table() == aggregate_events()
    for link in links:
        link.refresh_from_db()
        unique = ReferralEvent.objects.filter(link=link, event_type="click", is_unique=True)
        assert link.clicks == unique.count()
    out = StringIO()
    call_command("rebuild_analytics", stdout=out)
    assert "corrected 0 link counters" in out.getvalue()


def test_a_click_costs_no_query_and_appears_after_a_drain(client, bob_link, click_buffer):
    visit(client, bob_link)  # the link is now cached
    client.cookies.clear()

    with CaptureQueriesContext(connection) as queries:
        response = visit(client, bob_link, IPHONE, HTTP_REFERER="https://t.co/x")

    assert response.status_code == 200
    assert not queries.captured_queries
    assert not ReferralEvent.objects.exists()
    assert clicks.status().waiting == 2

    assert drain_clicks_task() == 2

    event = ReferralEvent.objects.get(device_type="mobile")
    assert (event.event_type, event.is_unique, event.referrer) == ("click", True, "https://t.co/x")
    assert event.visitor_id == response.cookies["it_vid"].value
    assert clicks.status().waiting == 0
    assert_numbers_equal_the_events(bob_link)


def test_a_repeat_visit_is_buffered_but_not_counted(client, bob_link, click_buffer):
    visit(client, bob_link)
    visit(client, bob_link)
    visit(client, bob_link, "Discordbot/2.0")

    clicks.drain()

    assert sorted(ReferralEvent.objects.values_list("event_type", "is_unique")) == [
        ("click", False),
        ("click", True),
        ("preview", False),
    ]
    assert_numbers_equal_the_events(bob_link)


def test_a_repeat_visit_after_the_window_counts_again(client, bob_link, click_buffer, settings):
    settings.CLICK_DEDUPE_SECONDS = 0
    visit(client, bob_link)
    visit(client, bob_link)

    clicks.drain()

    bob_link.refresh_from_db()
    assert bob_link.clicks == 2


def test_a_drain_that_dies_after_its_commit_counts_nothing_twice(
    client, bob_link, charlie_link, click_buffer, monkeypatch
):
    # Given buffered clicks on two links, and a drain that dies after writing its batch but
    # before taking it off the stream (the worker killed between the two)
    for agent in (WINDOWS_CHROME, IPHONE, WINDOWS_CHROME):
        visit(client, bob_link, agent)
        visit(client, charlie_link, agent, QUERY_STRING="utm_source=yt")

    def killed(*args, **kwargs):
        raise SystemExit("worker killed")

    monkeypatch.setattr(_buffer, "_acknowledge", killed)
    with pytest.raises(SystemExit):
        clicks.drain()
    assert ReferralEvent.objects.count() == 6
    assert clicks.status().waiting == 6
    written = rollup_table()

    # When the next drain runs over the same entries
    monkeypatch.undo()
    assert clicks.drain() == 0

    # Then nothing was written or counted twice, and the stream is empty
    assert ReferralEvent.objects.count() == 6
    assert rollup_table() == written
    assert clicks.status().waiting == 0
    assert_numbers_equal_the_events(bob_link, charlie_link)


def test_a_drain_that_dies_mid_batch_leaves_nothing_half_written(
    client, bob_link, click_buffer, monkeypatch
):
    # Given a drain that dies after inserting the events, before counting them
    visit(client, bob_link)
    visit(client, bob_link, IPHONE)

    def killed(events):
        raise SystemExit("worker killed")

    monkeypatch.setattr("analytics.rollups.add_events", killed)
    with pytest.raises(SystemExit):
        clicks.drain()

    # Then its transaction took the events with it, and the next drain writes them once
    assert not ReferralEvent.objects.exists()
    monkeypatch.undo()
    assert clicks.drain() == 2
    assert_numbers_equal_the_events(bob_link)


def test_a_large_backlog_drains_in_batches(client, bob_link, click_buffer, settings):
    settings.CLICK_DRAIN_BATCH = 7
    for _ in range(30):
        client.cookies.clear()
        visit(client, bob_link)

    assert clicks.drain() == 30

    assert_numbers_equal_the_events(bob_link)
    assert DailyRollup.objects.get(event_type="click", dimension="all").count == 30


def test_entries_that_can_never_be_stored_are_moved_aside(client, bob_link, click_buffer):
    # Given a good click, a malformed entry and a click on a link deleted since
    visit(client, bob_link)
    click_buffer.xadd(_buffer.STREAM, {"event": "{not json", "unique": "1"})
    doomed = bob_link.campaign.links.create(influencer=bob_link.influencer, title="Doomed")
    visit(client, doomed)
    doomed_id = str(doomed.pk)
    doomed.delete()

    assert clicks.drain() == 1

    assert ReferralEvent.objects.get().link_id == bob_link.pk
    assert clicks.status().waiting == 0
    assert click_buffer.xlen(_buffer.DEAD) == 2
    dead = [fields[b"event"] for _, fields in click_buffer.xrange(_buffer.DEAD)]
    assert dead[0] == b"{not json"
    assert json.loads(dead[1])["link"] == doomed_id


def test_a_click_is_written_directly_when_redis_is_unreachable(
    client, bob_link, click_buffer, settings
):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"  # nothing listens on port 1

    response = visit(client, bob_link)

    assert response.status_code == 200
    bob_link.refresh_from_db()
    assert bob_link.clicks == 1
    assert ReferralEvent.objects.get().is_unique


def test_bad_codes_keep_their_errors_and_buffer_nothing(client, bob_link, click_buffer):
    bob_link.is_active = False
    bob_link.save()

    assert client.get("/r/not-a-code-at-all").status_code == 404
    assert visit(client, bob_link).status_code == 410
    assert client.head("/api/referral/UPPER").status_code == 404
    assert clicks.status().waiting == 0


def test_the_api_click_goes_through_the_buffer_too(client, bob_link, click_buffer):
    assert client.head(f"/api/referral/{bob_link.referral_code}").status_code == 200
    assert not ReferralEvent.objects.exists()

    clicks.drain()

    assert ReferralEvent.objects.get().event_type == "preview"  # no User-Agent: not a person


def test_the_dashboard_says_how_old_its_click_numbers_are(client, alice, bob_link, click_buffer):
    client.force_login(alice)
    visit(client, bob_link)

    waiting = client.get("/admin/analytics/dashboard/").content.decode()
    clicks.drain()
    drained = client.get("/admin/analytics/dashboard/").content.decode()
    data = client.get("/admin/analytics/dashboard/data.json").json()

    assert "1 click waiting to be counted" in waiting
    assert "no drain has run yet" in waiting
    assert "Click numbers are up to date (last counted" in drained
    assert data["click_buffer"]["waiting"] == 0
