"""The native ua-parser matcher (ua-parser-rs) is what classifies visits when it is installed,
and it gives exactly the answers of ua-parser's pure-Python matcher."""

import pytest
import ua_parser

from referrals import classify
from referrals.classify import classify_visit
from tests.test_classify import BOTS, IPAD, IPHONE, WINDOWS_CHROME

AGENTS = [
    IPHONE,
    IPAD,
    WINDOWS_CHROME,
    *BOTS,
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.91",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.6099.144 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
    "SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Mobile/15E148 Instagram 312.0.0.22.114 (iPhone15,2; iOS 17_2; en_US)",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "python-requests/2.31.0",
    "Opera/9.80 (J2ME/MIDP; Opera Mini/9.80 (S60; SymbOS; Opera Mobi/23.348; U; en) "
    "Presto/2.5.25 Version/10.54",
    "something nobody has ever sent",
]


@pytest.fixture
def pure_python_parser(monkeypatch):
    """ua-parser's global parser on its pure-Python matcher, with classify's cache emptied."""
    monkeypatch.setattr(
        ua_parser, "parser", ua_parser.Parser(ua_parser.BasicResolver(ua_parser.load_builtins()))
    )
    classify._classify.cache_clear()
    yield
    classify._classify.cache_clear()


@pytest.fixture
def native():
    if ua_parser.RegexResolver is None:
        pytest.skip("ua-parser-rs has no wheel for this platform: the pure-Python matcher is used")
    classify._classify.cache_clear()
    return ua_parser.Parser(ua_parser.RegexResolver(ua_parser.load_builtins()))


def test_ua_parser_picks_the_native_matcher_when_installed(native):
    assert ua_parser.BestAvailableResolver is ua_parser.RegexResolver


def test_the_native_matcher_parses_like_the_pure_python_one(native):
    pure = ua_parser.Parser(ua_parser.BasicResolver(ua_parser.load_builtins()))
    for agent in AGENTS:
        assert native.parse(agent) == pure.parse(agent), agent


def test_visits_are_classified_the_same_with_either_matcher(native, request):
    with_native = [(m, a, classify_visit(m, a)) for a in AGENTS for m in ("GET", "HEAD")]
    request.getfixturevalue("pure_python_parser")
    with_pure = [(m, a, classify_visit(m, a)) for a in AGENTS for m in ("GET", "HEAD")]
    assert with_native == with_pure
