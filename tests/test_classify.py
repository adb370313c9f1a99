"""Who counts as a click: people do; crawlers, link unfurlers and HEAD probes don't."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from referrals.classify import CLICK, PREVIEW, classify_visit

IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/120.0.0.0 Safari/537.36"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/16.0 Mobile/15E148 Safari/604.1"
)
BOTS = [
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "curl/8.4.0",
    "",
]


@pytest.mark.parametrize("agent", BOTS)
def test_it_records_crawlers_and_unfurlers_as_previews(agent):
    assert classify_visit("GET", agent).kind == PREVIEW


def test_it_records_a_head_request_as_a_preview_even_from_a_browser():
    assert classify_visit("HEAD", WINDOWS_CHROME).kind == PREVIEW


@pytest.mark.parametrize(
    ("agent", "device", "browser", "os"),
    [
        (IPHONE, "mobile", "Mobile Safari", "iOS"),
        (WINDOWS_CHROME, "desktop", "Chrome", "Windows"),
        (IPAD, "tablet", "Mobile Safari", "iOS"),
    ],
)
def test_it_describes_a_persons_device(agent, device, browser, os):
    visit = classify_visit("GET", agent)
    assert (visit.kind, visit.device_type, visit.browser, visit.os) == (CLICK, device, browser, os)


@given(st.sampled_from(["GET", "HEAD", "get"]), st.one_of(st.none(), st.text(max_size=2000)))
def test_any_agent_gets_a_bounded_answer(method, agent):
    visit = classify_visit(method, agent)
    assert visit.kind in {CLICK, PREVIEW}
    assert len(visit.browser) <= 50 and len(visit.os) <= 50
    if method.upper() == "HEAD":
        assert visit.kind == PREVIEW
