"""Visitor IP addresses are never stored raw."""

from django.test import RequestFactory

from analytics.privacy import anonymise_ip, client_ip


def test_it_truncates_ipv4_to_a_24_bit_network(settings):
    settings.IP_ANONYMIZATION = "truncate"
    assert anonymise_ip("203.0.113.77") == ("203.0.113.0", "")


def test_it_truncates_ipv6_to_a_48_bit_network(settings):
    settings.IP_ANONYMIZATION = "truncate"
    assert anonymise_ip("2001:db8:abcd:12:1:2:3:4") == ("2001:db8:abcd::", "")


def test_it_stores_only_a_keyed_hash_in_hash_mode(settings):
    settings.IP_ANONYMIZATION, settings.IP_HASH_KEY = "hash", "k1"
    address, digest = anonymise_ip("203.0.113.77")
    assert address is None and len(digest) == 64 and "203" not in digest
    settings.IP_HASH_KEY = "k2"
    assert anonymise_ip("203.0.113.77")[1] != digest


def test_it_stores_nothing_in_none_mode(settings):
    settings.IP_ANONYMIZATION = "none"
    assert anonymise_ip("203.0.113.77") == (None, "")


def test_it_ignores_forwarded_for_unless_proxies_are_trusted(settings):
    request = RequestFactory().get(
        "/", REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9"
    )
    settings.TRUSTED_PROXY_COUNT = 0
    assert client_ip(request) == "10.0.0.5"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(request) == "198.51.100.9"


def test_it_survives_a_garbage_address(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", HTTP_X_FORWARDED_FOR="not-an-ip")
    assert client_ip(request) is None
