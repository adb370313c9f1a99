"""The fixed-window limiter, on whichever cache is configured (local memory by default, Redis
with REDIS_URL): counts, says how long to wait, and never fails a request when it cannot count."""

import logging

import pytest
from django.core.cache import caches
from django.test import override_settings

from referrals import ratelimit


def test_it_lets_the_limit_through_then_says_how_long_to_wait():
    answers = [ratelimit.hit("test", "203.0.113.7", (3, 60)) for _ in range(5)]
    assert answers[:3] == [None, None, None]
    assert all(1 <= wait <= 60 for wait in answers[3:])
    assert ratelimit.hit("test", "203.0.113.8", (3, 60)) is None  # another subject


def test_exceeded_reads_without_counting():
    for _ in range(3):
        ratelimit.hit("test", "x", (2, 60))
    assert 1 <= ratelimit.exceeded("test", "x", (2, 60)) <= 60
    assert ratelimit.exceeded("test", "y", (2, 60)) is None


def test_the_cache_holds_no_address(settings):
    ratelimit.hit("test", "203.0.113.7", (3, 60))
    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        keys = list(caches["default"]._cache)
    else:
        keys = [k.decode() for k in caches["default"]._cache.get_client().keys("*rate:test:*")]
    assert keys and not any("203.0.113" in key for key in keys)


@pytest.mark.parametrize(
    "backend", ["config.cache.RedisCache", "django.core.cache.backends.redis.RedisCache"]
)
def test_an_unreachable_cache_lets_the_request_through(caplog, backend):
    # Given a cache server nobody listens on (restored before the shared fixtures clear the
    # cache at teardown)
    unreachable = {
        "default": {
            "BACKEND": backend,
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }

    with override_settings(CACHES=unreachable), caplog.at_level(logging.WARNING, "referrals"):
        answers = (ratelimit.hit("test", "x", (1, 60)), ratelimit.exceeded("test", "x", (1, 60)))

    assert answers == (None, None)
    assert "letting the request through" in caplog.text


def test_a_caller_over_its_own_limit_is_not_counted_against_the_shared_one():
    own, shared = ("join-ip", "203.0.113.7", (2, 60)), ("join-link", "link-1", (5, 60))

    answers = [ratelimit.hit_first([own, shared]) for _ in range(4)]

    # The caller is stopped after its two, and the link's limit counted only those two
    assert answers[:2] == [None, None]
    assert all(1 <= wait <= 60 for wait in answers[2:])
    assert ratelimit.exceeded(*shared) is None
    for _ in range(3):
        assert ratelimit.hit(*shared) is None
    assert ratelimit.hit(*shared) is not None  # the sixth on the link: 2 + 4


def test_each_window_is_kept_only_about_as_long_as_it_lasts(settings):
    ratelimit.hit_first([("test", "x", (3, 60)), ("test", "y", (3, 10))])

    if "LocMemCache" in settings.CACHES["default"]["BACKEND"]:
        pytest.skip("local memory keeps no TTL to read")
    client = caches["default"]._cache.get_client()
    ttls = sorted(client.ttl(key) for key in client.keys("*rate:test:*"))
    assert 1 <= ttls[0] <= 11 and 11 < ttls[1] <= 61
