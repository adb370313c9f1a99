"""The webhook signature and the addresses webhooks may go to (pure functions)."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from analytics.webhooks.addresses import url_problem
from analytics.webhooks.signing import header_value, verify

SECRET = "whsec_abc"
BODY = b'{"id":"1","type":"conversion"}'


def test_it_verifies_its_own_signature():
    assert verify(SECRET, header_value(SECRET, 1_800_000_000, BODY), BODY, now=1_800_000_010)


@pytest.mark.parametrize(
    "secret, body, now",
    [
        ("whsec_other", BODY, 1_800_000_000),  # another endpoint's secret
        (SECRET, BODY + b" ", 1_800_000_000),  # a changed body
        (SECRET, BODY, 1_800_000_301),  # replayed after the tolerance
    ],
)
def test_it_rejects_a_wrong_secret_body_or_old_timestamp(secret, body, now):
    assert not verify(secret, header_value(SECRET, 1_800_000_000, BODY), body, now=now)


@given(st.text(max_size=80))
def test_it_never_raises_on_a_malformed_header(header):
    assert verify(SECRET, header, BODY, now=0) in (True, False)


@pytest.mark.parametrize(
    "url, loopback_ok, problem",
    [
        ("https://crm.example.com/hook", False, ""),
        ("http://crm.example.com/hook", True, "Use an https:// URL."),
        ("http://127.0.0.1:8080/hook", True, ""),
        ("http://[::1]:8080/hook", True, ""),
        ("http://localhost/hook", True, ""),
        ("http://127.0.0.1:8080/hook", False, "Plain http is allowed only to a loopback"),
        ("ftp://crm.example.com/hook", True, "Use an https:// URL."),
        ("https:///nohost", False, "The URL needs a host name."),
        ("https://crm.example.com:99999/hook", False, "Not a valid URL."),
    ],
)
def test_it_allows_https_and_loopback_http_only_when_told(url, loopback_ok, problem):
    assert url_problem(url, allow_loopback_http=loopback_ok).startswith(problem)
    assert bool(url_problem(url, allow_loopback_http=loopback_ok)) == bool(problem)
