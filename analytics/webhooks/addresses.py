"""Which endpoint URLs a webhook may be sent to (pure: no Django)."""

import ipaddress
from urllib.parse import urlsplit

LOOPBACK_NAMES = {"localhost"}


def is_loopback(host: str) -> bool:
    if host.lower() in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def url_problem(url: str, *, allow_loopback_http: bool) -> str:
    """Why `url` cannot receive webhooks ("" when it can).

    HTTPS only: the body carries member ids (and answers, when the campaign shares them). Plain
    HTTP is accepted for a loopback host only, and only where `allow_loopback_http` says so
    (development and tests: WEBHOOK_ALLOW_HTTP_LOOPBACK, on by default with DJANGO_DEBUG).
    """
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        return "Not a valid URL."
    if not host:
        return "The URL needs a host name."
    if parts.username or parts.password:
        return "Put no credentials in the URL: the signature authenticates each request."
    if parts.scheme == "https":
        return ""
    if parts.scheme == "http" and is_loopback(host):
        if allow_loopback_http:
            return ""
        return (
            "Plain http is allowed only to a loopback address in development "
            "(WEBHOOK_ALLOW_HTTP_LOOPBACK); use https."
        )
    return "Use an https:// URL."
