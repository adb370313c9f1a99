"""Daily rollups: kept current on write, equal to aggregates of the raw events."""

from datetime import timedelta

from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics import rollups
from analytics.models import DailyRollup
from tests.analytics_support import click, event, join, noon
from tests.analytics_support import rollup_table as table


def test_it_counts_a_click_under_every_dimension(bob_link):
    click(
        bob_link,
        device="mobile",
        browser="Chrome",
        os="iOS",
        referrer="https://www.youtube.com/x",
        utm_source="yt",
    )
    click(bob_link, unique=False, device="mobile", browser="Chrome", os="iOS")

    rows = {(r.dimension, r.value): (r.count, r.unique_count) for r in DailyRollup.objects.all()}
    assert rows == {
        ("all", ""): (2, 1),
        ("device", "mobile"): (2, 1),
        ("browser", "Chrome"): (2, 1),
        ("os", "iOS"): (2, 1),
        ("referrer", "youtube.com"): (1, 1),
        ("referrer", ""): (1, 0),
        ("utm_source", "yt"): (1, 1),
        ("utm_source", ""): (1, 0),
        ("utm_medium", ""): (2, 1),
    }
    assert {r.link_id for r in DailyRollup.objects.all()} == {bob_link.pk}


def test_it_counts_joins_by_attribution_decision(campaign, bob_link):
    join(bob_link, decision="exact", member="1")
    join(None, decision="ambiguous", campaign=campaign, member="2")
    event("discord_join", None, discord_user_id="3", metadata={})

    decisions = dict(DailyRollup.objects.filter(dimension="decision").values_list("value", "count"))
    assert decisions == {"exact": 1, "ambiguous": 1, "unknown": 1}


def test_it_puts_each_event_on_its_own_day(bob_link):
    click(bob_link, at=noon(2))
    click(bob_link, at=noon(0))
    days = DailyRollup.objects.filter(dimension="all").values_list("day", flat=True)
    assert sorted(days) == [noon(2).date(), noon(0).date()]


def test_it_rolls_back_with_the_event(bob_link):
    try:
        with transaction.atomic():
            click(bob_link)
            raise RuntimeError("the write path failed after the event")
    except RuntimeError:
        pass
    assert not DailyRollup.objects.exists()


def test_it_rebuilds_rollups_and_link_counters_from_events(bob_link, charlie_link):
    click(bob_link)
    click(bob_link, unique=False)
    event("conversion", bob_link, discord_user_id="1")
    before = table()
    DailyRollup.objects.all().delete()
    bob_link.__class__.objects.update(clicks=99, conversions=7)

    rows, links = rollups.rebuild()

    assert table() == before
    assert rows == len(before)
    assert links == 2
    bob_link.refresh_from_db()
    charlie_link.refresh_from_db()
    assert (bob_link.clicks, bob_link.conversions) == (1, 1)
    assert (charlie_link.clicks, charlie_link.conversions) == (0, 0)


EVENT = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from(
            ["click", "preview", "discord_join", "onboarding_start", "conversion", "leave"]
        ),
        "link": st.sampled_from(["bob", "charlie", None]),
        "days_ago": st.integers(0, 3),
        "unique": st.booleans(),
        "device": st.sampled_from(["", "mobile", "desktop"]),
        "browser": st.sampled_from(["", "Chrome", "Firefox"]),
        "referrer": st.sampled_from(
            ["", "https://www.youtube.com/a", "https://youtube.com/b", "https://t.co/", "junk"]
        ),
        "utm": st.sampled_from([None, "", "yt", "newsletter"]),
        "decision": st.sampled_from([None, "exact", "link", "ambiguous", "organic"]),
    }
)


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(st.lists(EVENT, max_size=25))
def test_it_keeps_rollups_equal_to_raw_aggregates(campaign, bob_link, charlie_link, events):
    links = {"bob": bob_link, "charlie": charlie_link, None: None}
    with transaction.atomic():
        for spec in events:
            metadata = {}
            if spec["utm"] is not None:
                metadata["utm"] = {"utm_source": spec["utm"]}
            if spec["decision"] is not None:
                metadata["decision"] = spec["decision"]
            link = links[spec["link"]]
            event(
                spec["event_type"],
                link,
                campaign=campaign if link is None and spec["decision"] == "ambiguous" else None,
                at=noon(spec["days_ago"]) + timedelta(minutes=len(metadata)),
                is_unique=spec["unique"] and spec["event_type"] == "click",
                device_type=spec["device"],
                browser=spec["browser"],
                referrer=spec["referrer"],
                metadata=metadata,
            )
        assert table() == {key: value for key, value in rollups.aggregate_events().items()}
        # Every event is counted exactly once in "all", and unique clicks exactly once.
        all_rows = DailyRollup.objects.filter(dimension="all")
        assert sum(r.count for r in all_rows) == len(events)
        transaction.set_rollback(True)
