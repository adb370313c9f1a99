"""Visitor IP addresses are never stored raw: what a landing visit leaves in the event row."""

import hashlib
import hmac

from django.db import connection

from analytics.models import ReferralEvent
from tests.test_classify import WINDOWS_CHROME

ADDRESS = "203.0.113.77"


def visit(client, link, **extra):
    extra.setdefault("REMOTE_ADDR", ADDRESS)
    return client.get(f"/r/{link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME, **extra)


def stored_row() -> tuple:
    """The event row as the database holds it, every column."""
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM {ReferralEvent._meta.db_table}")
        rows = cursor.fetchall()
    assert len(rows) == 1
    return rows[0]


def test_it_stores_an_ipv4_visitor_as_its_24_bit_network(client, bob_link, settings):
    settings.IP_ANONYMIZATION = "truncate"
    visit(client, bob_link)
    event = ReferralEvent.objects.get()
    assert (event.ip_address, event.ip_hash) == ("203.0.113.0", "")
    assert not any(ADDRESS in str(value) for value in stored_row())


def test_it_stores_an_ipv6_visitor_as_its_48_bit_network(client, bob_link, settings):
    settings.IP_ANONYMIZATION = "truncate"
    visit(client, bob_link, REMOTE_ADDR="2001:db8:abcd:12:1:2:3:4")
    assert ReferralEvent.objects.get().ip_address == "2001:db8:abcd::"


def test_it_stores_only_the_keyed_hash_in_hash_mode(client, bob_link, settings):
    settings.IP_ANONYMIZATION, settings.IP_HASH_KEY = "hash", "k1" * 16
    visit(client, bob_link)
    event = ReferralEvent.objects.get()
    keyed = hmac.new(b"k1" * 16, ADDRESS.encode(), hashlib.sha256).hexdigest()
    assert (event.ip_address, event.ip_hash) == (None, keyed)
    # Keyed: without the key, the plain digest of the address is not what was stored.
    assert event.ip_hash != hashlib.sha256(ADDRESS.encode()).hexdigest()
    assert not any(ADDRESS in str(value) for value in stored_row())


def test_it_stores_the_same_visitor_under_another_key_as_another_hash(client, bob_link, settings):
    settings.IP_ANONYMIZATION, settings.IP_HASH_KEY = "hash", "k1" * 16
    visit(client, bob_link)
    settings.IP_HASH_KEY = "k2" * 16
    visit(client, bob_link)
    hashes = set(ReferralEvent.objects.values_list("ip_hash", flat=True))
    assert len(hashes) == 2 and "" not in hashes


def test_it_stores_no_address_in_none_mode(client, bob_link, settings):
    settings.IP_ANONYMIZATION = "none"
    visit(client, bob_link)
    assert ReferralEvent.objects.values_list("ip_address", "ip_hash").get() == (None, "")


def test_it_ignores_forwarded_for_unless_proxies_are_trusted(client, bob_link, settings):
    settings.IP_ANONYMIZATION = "truncate"
    settings.TRUSTED_PROXY_COUNT = 0
    visit(client, bob_link, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    settings.TRUSTED_PROXY_COUNT = 1
    visit(client, bob_link, REMOTE_ADDR="10.0.0.5", HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.9")
    stored = set(ReferralEvent.objects.values_list("ip_address", flat=True))
    assert stored == {"10.0.0.0", "198.51.100.0"}


def test_it_records_the_visit_without_an_address_when_the_proxy_sends_garbage(
    client, bob_link, settings
):
    settings.TRUSTED_PROXY_COUNT = 1
    response = visit(client, bob_link, HTTP_X_FORWARDED_FOR="not-an-ip")
    assert response.status_code == 200
    assert ReferralEvent.objects.values_list("ip_address", "ip_hash").get() == (None, "")
