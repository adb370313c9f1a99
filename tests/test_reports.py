"""The dashboards' numbers, proven against the hand-built journey in tests/analytics_support."""

import pytest

from analytics import reports
from tests.analytics_support import journey, noon


@pytest.fixture
def numbers(campaign, bob_link, charlie_link):
    journey(bob_link, charlie_link, campaign)


def last_week(**kwargs) -> reports.Filters:
    return reports.Filters.last(7, **kwargs)


def test_it_counts_the_funnel(alice, numbers):
    r = reports.report(alice, last_week())
    f = r.funnel
    assert (f.clicks, f.unique_clicks, f.previews) == (4, 3, 1)
    assert (f.joins, f.organic_joins, f.starts, f.conversions) == (4, 1, 1, 1)
    assert f.conversion_rate == pytest.approx(1 / 3)
    # the organic join came from no click: 3 joins through links from 3 unique clicks
    assert [s.rate for s in r.steps] == [None, 1.0, 0.25, 1.0]
    assert r.steps[1].note == "1 organic, not in the rate"


def test_it_breaks_clicks_down(alice, numbers):
    r = reports.report(alice, last_week())
    breakdowns = {key: {s.label: s.count for s in shares} for key, _, shares in r.breakdowns}
    assert breakdowns == {
        "platform": {"YouTube": 3, "X / Twitter": 1},
        "device": {"mobile": 3, "desktop": 1},
        "browser": {"Mobile Safari": 2, "Chrome": 1, "Chrome Mobile": 1},
        "os": {"iOS": 2, "Windows": 1, "Android": 1},
        "referrer": {"youtube.com": 2, "(direct)": 1, "t.co": 1},
        "utm_source": {"yt": 2, "(none)": 1, "twitter": 1},
        "utm_medium": {"(none)": 4},
    }


def test_it_shares_joins_by_attribution_quality(alice, numbers):
    shares = {s.label: (s.count, s.share) for s in reports.report(alice, last_week()).attribution}
    assert shares == {
        "Exact": (1, 0.25),
        "Link (several invites, one link)": (1, 0.25),
        "Ambiguous": (1, 0.25),
        "Organic": (1, 0.25),
    }


def test_it_draws_a_daily_series(alice, numbers):
    r = reports.report(alice, last_week())
    assert r.days[-2:] == [noon(1).date(), noon(0).date()]
    assert r.series["click"][-2:] == [1, 2]  # unique clicks
    assert r.series["discord_join"][-2:] == [0, 4]
    assert r.series["onboarding_start"][-2:] == [0, 1]
    assert r.series["conversion"][-2:] == [0, 1]
    assert sum(r.series["click"][:-2]) == 0


def test_it_ranks_influencers_and_links(alice, numbers, bob_link):
    board = reports.report(alice, last_week()).leaderboard
    assert [(r.label, r.unique_clicks, r.joins, r.conversions) for r in board.influencers] == [
        ("bob", 2, 1, 1),
        ("charlie", 1, 1, 0),
    ]
    assert board.influencers[0].rate == 0.5
    assert [r.key for r in board.links][0] == str(bob_link.pk)


def test_it_filters_by_campaign_platform_link_and_influencer(
    alice, numbers, campaign, charlie_link, bob
):
    by_campaign = reports.report(alice, last_week(campaign_id=campaign.pk)).funnel
    assert by_campaign.joins == 3  # the organic join belongs to no campaign
    by_platform = reports.report(alice, last_week(platform="x")).funnel
    assert (by_platform.clicks, by_platform.joins, by_platform.conversions) == (1, 1, 0)
    by_link = reports.report(alice, last_week(link_id=charlie_link.pk)).funnel
    assert by_link == by_platform
    by_influencer = reports.report(alice, last_week(influencer_id=bob.pk)).funnel
    assert (by_influencer.clicks, by_influencer.joins, by_influencer.conversions) == (3, 1, 1)


def test_it_leaves_out_days_outside_the_range(alice, numbers):
    today = noon(0).date()
    f = reports.report(alice, reports.Filters(start=today, end=today)).funnel
    assert (f.clicks, f.unique_clicks) == (2, 2)


def test_it_gives_an_influencer_only_their_own_numbers(influencers, numbers, bob):
    r = reports.report(bob, last_week())
    f = r.funnel
    assert (f.clicks, f.unique_clicks, f.previews, f.joins, f.starts, f.conversions) == (
        3,
        2,
        1,
        1,
        1,
        1,
    )
    assert [s.label for s in r.attribution] == ["Exact"]
    assert [row.label for row in r.leaderboard.influencers] == ["bob"]
    # Even when asking for someone else's link, there is nothing to see.
    other = reports.report(bob, last_week(platform="x")).funnel
    assert other.is_empty
