"""Funnel maths: pure functions, by example and by property."""

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics import funnel as fm

counts = st.integers(min_value=0, max_value=10**9)


def test_it_builds_the_funnel_from_event_totals():
    f = fm.Funnel.from_totals(
        {"click": (10, 8), "preview": (3, 0), "discord_join": (4, 0), "conversion": (2, 0)}
    )
    assert (f.clicks, f.unique_clicks, f.previews, f.joins, f.starts, f.conversions) == (
        10,
        8,
        3,
        4,
        0,
        2,
    )
    assert f.conversion_rate == 0.25


def test_it_gives_no_rate_when_there_is_nothing_to_divide_by():
    assert fm.rate(3, 0) is None
    assert fm.Funnel().conversion_rate is None
    assert [s.rate for s in fm.steps(fm.Funnel(joins=2))] == [None, None, 0.0, None]


def test_it_rates_each_step_from_the_previous_one():
    steps = fm.steps(fm.Funnel(clicks=12, unique_clicks=10, joins=5, starts=4, conversions=2))
    assert [(s.label, s.count) for s in steps] == [
        ("Unique clicks", 10),
        ("Joins", 5),
        ("Onboarding starts", 4),
        ("Conversions", 2),
    ]
    assert [s.rate for s in steps] == [None, 0.5, 0.8, 0.5]
    assert [s.scale for s in steps] == [1.0, 0.5, 0.4, 0.2]


def test_it_folds_a_long_tail_into_other():
    rows = fm.shares({f"site{i}.com": 10 - i for i in range(10)}, limit=4)
    assert [r.label for r in rows] == ["site0.com", "site1.com", "site2.com", "Other"]
    assert rows[-1].count == 7 + 6 + 5 + 4 + 3 + 2 + 1


def test_it_fills_missing_days_with_zeros():
    start = date(2025, 1, 1)
    series = fm.daily_series(
        [(start, "click", 2), (start + timedelta(days=2), "click", 1), (start, "nope", 9)],
        start,
        start + timedelta(days=2),
    )
    assert series["click"] == [2, 0, 1]
    assert series["conversion"] == [0, 0, 0]


def test_it_ranks_by_conversions_then_rate():
    a = fm.Ranked("a", "ava", 10, 5, 2, 0.2)
    b = fm.Ranked("b", "ben", 4, 3, 2, 0.5)
    c = fm.Ranked("c", "cara", 50, 10, 1, 0.02)
    assert [r.label for r in fm.leaderboard([a, b, c])] == ["ben", "ava", "cara"]


def test_it_takes_the_referrer_domain():
    assert fm.referrer_domain("https://www.YouTube.com/watch?v=1") == "youtube.com"
    assert fm.referrer_domain("https://t.co/x") == "t.co"
    assert fm.referrer_domain("") == ""
    assert fm.referrer_domain("http://[::1") == ""


@given(st.dictionaries(st.text(min_size=1, max_size=5), counts, max_size=20), st.integers(2, 10))
def test_it_keeps_every_count_when_sharing(values, limit):
    rows = fm.shares(values, limit=limit)
    assert sum(r.count for r in rows) == sum(values.values())
    assert len(rows) <= limit
    if rows:
        assert abs(sum(r.share for r in rows) - 1) < 1e-9
        assert max(r.scale for r in rows) == 1
        assert all(0 < r.share <= 1 for r in rows)


def test_the_click_to_join_rate_leaves_organic_joins_out():
    steps = fm.steps(fm.Funnel(unique_clicks=10, joins=42, organic_joins=37, starts=21))
    assert [s.count for s in steps] == [10, 42, 21, 0]
    assert [s.rate for s in steps] == [None, 0.5, 0.5, 0.0]
    assert steps[1].note == "37 organic, not in the rate"


@given(counts, counts, counts, counts, counts)
def test_it_rates_steps_consistently(unique, joins, starts, conversions, extra):
    f = fm.Funnel(
        clicks=unique + extra,
        unique_clicks=unique,
        joins=joins,
        starts=starts,
        conversions=conversions,
    )
    steps = fm.steps(f)
    assert [s.count for s in steps] == [unique, joins, starts, conversions]
    for previous, step in zip(steps, steps[1:], strict=False):
        if previous.count == 0:
            assert step.rate is None
        else:
            assert step.rate * previous.count == pytest.approx(step.count)
    assert all(0 <= s.scale <= 1 for s in steps)
    assert (f.conversion_rate is None) == (unique == 0)


@given(
    st.lists(st.tuples(st.integers(0, 40), st.sampled_from(fm.SERIES), counts), max_size=50),
    st.integers(0, 30),
)
def test_it_keeps_every_count_inside_the_range(rows, span):
    start = date(2025, 3, 1)
    end = start + timedelta(days=span)
    dated = [(start + timedelta(days=d), name, n) for d, name, n in rows]
    series = fm.daily_series(dated, start, end)
    assert all(len(values) == span + 1 for values in series.values())
    for name in fm.SERIES:
        assert sum(series[name]) == sum(n for day, s, n in dated if s == name and day <= end)
