"""The landing page's cost: a cached link lookup and one write per table for the click, with
counters and rollups that equal the events (clicks written directly, the embedded defaults)."""

import re
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from analytics import clicks
from analytics.models import DailyRollup, ReferralEvent
from analytics.rollups import aggregate_events
from referrals.models import ReferralLink
from tests.analytics_support import rollup_table
from tests.test_classify import IPHONE, WINDOWS_CHROME


def visit(client, code, agent=WINDOWS_CHROME, **extra):
    return client.get(f"/r/{code}", HTTP_USER_AGENT=agent, **extra)


def statements(queries) -> list[str]:
    """What the request asked of the database ("VERB table"), without the test's savepoints."""
    found = []
    for query in queries.captured_queries:
        sql = query["sql"]
        if sql.startswith(("SAVEPOINT", "RELEASE SAVEPOINT")):
            continue
        table = re.search(r'(?:INTO|UPDATE|FROM)\s+"(\w+)"', sql)
        name = table.group(1) if table else re.match(r"\w+\s+(\w+)", sql).group(1)
        found.append(f"{sql.split()[0]} {name}")
    return found


def advisory_lock() -> list[str]:
    """On PostgreSQL a repeat visitor's check queues behind the same cookie's other requests."""
    return ["SELECT pg_advisory_xact_lock"] if connection.vendor == "postgresql" else []


def test_a_new_visitors_click_is_one_statement_per_table_and_no_read(client, bob_link):
    visit(client, bob_link.referral_code)  # the link is now cached
    client.cookies.clear()

    with CaptureQueriesContext(connection) as queries:
        response = visit(client, bob_link.referral_code)

    assert response.status_code == 200
    assert statements(queries) == [
        "INSERT referral_analytics",
        "UPDATE referral_links",
        "INSERT analytics_daily_rollup",
    ]


def test_a_repeat_visit_checks_the_window_once_and_counts_nothing(client, bob_link):
    visit(client, bob_link.referral_code)

    with CaptureQueriesContext(connection) as queries:
        visit(client, bob_link.referral_code)

    assert statements(queries) == [
        *advisory_lock(),
        "SELECT referral_analytics",
        "INSERT referral_analytics",
        "INSERT analytics_daily_rollup",
    ]
    bob_link.refresh_from_db()
    assert bob_link.clicks == 1


def test_the_first_click_of_a_day_writes_every_rollup_row_in_one_statement(client, bob_link):
    visit(client, bob_link.referral_code, IPHONE, HTTP_REFERER="https://www.youtube.com/x")

    dimensions = dict(
        DailyRollup.objects.filter(event_type="click").values_list("dimension", "value")
    )
    assert dimensions == {
        "all": "",
        "device": "mobile",
        "browser": "Mobile Safari",
        "os": "iOS",
        "referrer": "youtube.com",
        "utm_source": "",
        "utm_medium": "",
    }
    assert rollup_table() == aggregate_events()


def test_counters_and_rollups_equal_the_events_so_a_rebuild_changes_nothing(
    client, bob_link, charlie_link
):
    for agent in (WINDOWS_CHROME, IPHONE, "Discordbot/2.0", WINDOWS_CHROME):
        visit(client, bob_link.referral_code, agent)
        visit(client, charlie_link.referral_code, agent, QUERY_STRING="utm_source=yt")
    client.cookies.clear()
    visit(client, bob_link.referral_code)
    live = rollup_table()

    out = StringIO()
    call_command("rebuild_analytics", stdout=out)

    assert "corrected 0 link counters" in out.getvalue()
    assert rollup_table() == live
    bob_link.refresh_from_db()
    assert bob_link.clicks == 2
    assert ReferralEvent.objects.filter(link=bob_link).count() == 5


def test_the_link_is_read_once_then_served_from_the_cache(client, bob_link):
    with CaptureQueriesContext(connection) as first:
        visit(client, bob_link.referral_code, "Discordbot/2.0")
    with CaptureQueriesContext(connection) as second:
        visit(client, bob_link.referral_code, "Discordbot/2.0")

    assert sum('FROM "referral_links"' in q["sql"] for q in first.captured_queries) == 1
    assert not any('FROM "referral_links"' in q["sql"] for q in second.captured_queries)


def test_each_process_asks_the_cache_for_a_clicked_link_once_a_second(
    client, bob_link, settings, monkeypatch
):
    from django.core.cache import cache

    from referrals import links

    now = [1000.0]
    monkeypatch.setattr(links, "_clock", lambda: now[0])
    settings.LINK_LOCAL_CACHE_SECONDS = 1.0
    visit(client, bob_link.referral_code)
    # another process switches the link off (its save reaches the shared cache, not us)
    ReferralLink.objects.filter(pk=bob_link.pk).update(is_active=False)
    cache.delete(links.cache_key(bob_link.referral_code))

    # within the second this process still serves its copy, without asking anyone
    now[0] += 0.9
    with CaptureQueriesContext(connection) as queries:
        assert visit(client, bob_link.referral_code).status_code == 200
    assert not any('FROM "referral_links"' in q["sql"] for q in queries.captured_queries)

    # after it, the switch shows
    now[0] += 0.2
    assert visit(client, bob_link.referral_code).status_code == 410


def test_switching_a_link_off_takes_effect_at_once(client, bob_link):
    visit(client, bob_link.referral_code)

    bob_link.is_active = False
    bob_link.save()

    assert visit(client, bob_link.referral_code).status_code == 410


def test_an_edited_campaign_shows_at_once(client, bob_link):
    visit(client, bob_link.referral_code)

    bob_link.campaign.headline = "A brand new headline"
    bob_link.campaign.save()

    assert "A brand new headline" in visit(client, bob_link.referral_code).content.decode()


def test_a_renamed_influencer_shows_at_once(client, bob_link, bob):
    visit(client, bob_link.referral_code)

    bob.first_name, bob.last_name = "Robert", "Builder"
    bob.save()

    assert "Robert Builder" in visit(client, bob_link.referral_code).content.decode()


def test_an_unknown_code_is_remembered_until_a_link_takes_it(client, campaign, bob):
    code = "launch-abcdefghijklmnop"
    assert visit(client, code).status_code == 404
    with CaptureQueriesContext(connection) as again:
        assert visit(client, code).status_code == 404
    assert not again.captured_queries

    ReferralLink.objects.create(
        campaign=campaign, influencer=bob, title="Late link", referral_code=code
    )

    assert visit(client, code).status_code == 200


def test_the_cache_holds_no_password_hash(client, bob_link):
    from django.core.cache import cache

    from referrals.links import cache_key

    visit(client, bob_link.referral_code)

    cached = cache.get(cache_key(bob_link.referral_code))
    assert cached.pk == bob_link.pk
    assert "password" not in cached.influencer.__dict__
    assert "email" not in cached.influencer.__dict__


@pytest.mark.parametrize("code", ["UPPER", "x" * 65, "bad code", "-dash"])
def test_malformed_codes_answer_404_without_a_query(client, db, code):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(f"/r/{code}")
    assert response.status_code == 404
    assert not queries.captured_queries


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("CLICK_BUFFER", "true", "CLICK_BUFFER=true needs REDIS_URL"),
        ("CLICK_BUFFER", "sometimes", "CLICK_BUFFER='sometimes' is not a boolean"),
        ("CLICK_DRAIN_BATCH", "0", "CLICK_DRAIN_BATCH=0 is too small"),
        ("LINK_CACHE_SECONDS", "a while", "LINK_CACHE_SECONDS='a while' is not a whole number"),
    ],
)
def test_a_wrong_click_setting_stops_start_up_with_one_clear_line(variable, value, says):
    from tests.test_settings import manage

    result = manage("check", **{variable: value})

    assert result.returncode != 0
    assert says in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_nul_character_in_a_query_or_header_loses_neither_the_page_nor_the_click(
    client, bob_link
):
    # PostgreSQL's text cannot hold NUL: once, this was a 500 there and the click was lost.
    response = visit(
        client,
        bob_link.referral_code,
        agent=WINDOWS_CHROME + "\x00",
        QUERY_STRING="utm_source=a%00b&utm_medium=%00",
        HTTP_REFERER="https://example.com/\x00",
    )
    clicks.drain()

    assert response.status_code == 200
    event = ReferralEvent.objects.get(link=bob_link, event_type="click")
    assert event.metadata == {"utm": {"utm_source": "ab"}}
    assert "\x00" not in event.user_agent + event.referrer
