"""Visitor addresses: how little of them we keep (which one is the client's is a request
helper, referrals.http.client_ip)."""

import hashlib
import hmac
import ipaddress

from django.conf import settings


def anonymise_ip(ip: str | None) -> tuple[str | None, str]:
    """(address to store, keyed hash to store) under IP_ANONYMIZATION; never the raw address."""
    if not ip:
        return None, ""
    mode = settings.IP_ANONYMIZATION
    if mode == "none":
        return None, ""
    if mode == "hash":
        digest = hmac.new(settings.IP_HASH_KEY.encode(), ip.encode(), hashlib.sha256).hexdigest()
        return None, digest
    return truncate_ip(ip), ""


def truncate_ip(ip: str) -> str:
    """The network an address belongs to: IPv4 /24, IPv6 /48."""
    address = ipaddress.ip_address(ip)
    prefix = 24 if address.version == 4 else 48
    return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False).network_address)
