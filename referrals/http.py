"""Request and response helpers for the visitor-facing pages and both JSON APIs (the public
one in referrals.api, the bot's in analytics.api): which address is the client's, the visitor
cookie, rate limits, recording a landing visit, and the `{"success": false, "error": …}` shape.

An entry-point module: it may call any domain function (see the README's layer table).
"""

import ipaddress
import json
import secrets

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from drf_spectacular.utils import inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from analytics.events import record_landing_visit, utm_parameters
from analytics.privacy import anonymise_ip, truncate_ip
from referrals import ratelimit
from referrals.classify import CLICK, classify_visit

VISITOR_COOKIE = "it_vid"
VISITOR_COOKIE_AGE = 365 * 24 * 3600
MAX_BODY = 2048

ERROR = inline_serializer(
    "Error", {"success": serializers.BooleanField(), "error": serializers.CharField()}
)


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


def staff_login_ip(request: HttpRequest) -> str | None:
    """Staff login lockouts (django-axes) key on the client's truncated network, so the
    lockout table and its log lines never hold a full address."""
    ip = client_ip(request)
    return truncate_ip(ip) if ip else None


def staff_login_client(username, ip_address, user_agent, path_info, request) -> str:
    """How a failed or locked staff login is named in the log: who and which network."""
    return f"username={username!r} network={ip_address} path={path_info}"


def rate_subject(request: HttpRequest) -> str:
    """Whom a per-address rate limit counts: the client's IPv4 address, or its IPv6 /64 (one
    subscriber's whole allocation, so cycling through addresses in it gains nothing)."""
    ip = client_ip(request)
    if ip is None:
        return "unknown"
    if ":" in ip:
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return ip


def throttle_visit(request: HttpRequest) -> int | None:
    """Seconds to wait if this caller is over its rate limit for landing pages and the click
    API; counted before the link is read, so a flood of made-up codes costs one cache hit."""
    return ratelimit.hit("visit-ip", rate_subject(request), settings.LANDING_RATE_LIMIT_PER_IP)


def throttle(request: HttpRequest, link) -> int | None:
    """Seconds to wait if this caller or this link is over its invite rate limit (a caller
    over its own limit is not counted against the link's)."""
    return ratelimit.hit_first(
        [
            ("join-ip", rate_subject(request), settings.JOIN_RATE_LIMIT_PER_IP),
            ("join-link", str(link.pk), settings.JOIN_RATE_LIMIT_PER_LINK),
        ]
    )


def visitor(request: HttpRequest) -> tuple[str, bool]:
    """(visitor id, whether it is new) from the first-party cookie."""
    current = request.COOKIES.get(VISITOR_COOKIE, "")
    if 16 <= len(current) <= 64 and current.replace("-", "").replace("_", "").isalnum():
        return current, False
    return secrets.token_urlsafe(18), True


def set_visitor_cookie(response: HttpResponse, visitor_id: str) -> None:
    response.set_cookie(
        VISITOR_COOKIE,
        visitor_id,
        max_age=VISITOR_COOKIE_AGE,
        httponly=True,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
    )


def record_visit(request: HttpRequest, link, method: str) -> tuple[str, bool]:
    """Record one landing visit as a click or a preview; (visitor id, whether it is new).

    Bots get no identity and no cookie: ("", False).
    """
    visit = classify_visit(method, request.META.get("HTTP_USER_AGENT"))
    visitor_id, new_visitor = visitor(request)
    if visit.kind != CLICK:
        visitor_id, new_visitor = "", False
    ip_address, ip_hash = anonymise_ip(client_ip(request))
    record_landing_visit(
        link,
        visit,
        visitor_id=visitor_id,
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        referrer=request.META.get("HTTP_REFERER", ""),
        ip_address=ip_address,
        ip_hash=ip_hash,
        utm=utm_parameters(request.GET),
        new_visitor=new_visitor,
    )
    return visitor_id, new_visitor


def error(status: int, message: str, **headers: str) -> Response:
    return Response({"success": False, "error": message}, status=status, headers=headers)


def read_json_object(request: Request, example: str = "{…}") -> tuple[dict, str]:
    """({…}, "") from a small JSON object body, or ({}, what is wrong with it)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY or len(request.body) > MAX_BODY:
        return {}, f"The request body is too large (at most {MAX_BODY} bytes)."
    raw = request.body
    if not raw.strip():
        return {}, f"The request body is empty: send {example}."
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        return {}, f"The request body is not valid JSON: send {example}."
    if not isinstance(body, dict):
        return {}, f"The request body must be a JSON object: {example}."
    return body, ""
