"""Visitor addresses: which one is the client's, and how little of it we keep."""

import hashlib
import hmac
import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """The client's address: the socket peer, or — behind TRUSTED_PROXY_COUNT proxies — the
    address the outermost trusted proxy saw (X-Forwarded-For is client-controlled to its left)."""
    candidate = request.META.get("REMOTE_ADDR", "")
    proxies = settings.TRUSTED_PROXY_COUNT
    if proxies:
        hops = [h.strip() for h in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [h for h in hops if h]
        if len(hops) >= proxies:
            candidate = hops[-proxies]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return None


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


def staff_login_ip(request: HttpRequest) -> str | None:
    """Staff login lockouts (django-axes) key on the client's truncated network, so the
    lockout table and its log lines never hold a full address."""
    ip = client_ip(request)
    return truncate_ip(ip) if ip else None


def staff_login_client(username, ip_address, user_agent, path_info, request) -> str:
    """How a failed or locked staff login is named in the log: who and which network."""
    return f"username={username!r} network={ip_address} path={path_info}"
