"""The fixed-window limiter, on whichever cache is configured (local memory by default, Redis
with REDIS_URL): counts, says how long to wait, and never fails a request when it cannot count."""

import logging

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


def test_an_unreachable_cache_lets_the_request_through(caplog):
    # Given a cache server nobody listens on (restored before the shared fixtures clear the
    # cache at teardown)
    unreachable = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }

    with override_settings(CACHES=unreachable), caplog.at_level(logging.WARNING, "referrals"):
        answers = (ratelimit.hit("test", "x", (1, 60)), ratelimit.exceeded("test", "x", (1, 60)))

    assert answers == (None, None)
    assert "letting the request through" in caplog.text
