"""Driving "Join with Discord" as a visitor would: our redirect, Discord's consent (through the
emulator's control API), and the callback. Shared by the web and the bot tests."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests
from django.test import Client

from referrals.models import ReferralLink


def start(client: Client, link: ReferralLink) -> dict[str, str]:
    """`GET /r/<code>/join/oauth` → the authorize URL's query (state, redirect_uri, scope…)."""
    response = client.get(f"/r/{link.referral_code}/join/oauth")
    assert response.status_code == 302, response.content[:500]
    return {k: v[0] for k, v in parse_qs(urlsplit(response["Location"]).query).items()}


def consent(emu, query: dict[str, str], user_id: str) -> str:
    """The user presses "Authorize" on Discord: the callback path + query Discord sends back."""
    answer = requests.post(
        f"{emu.base_url}/_emulator/oauth/authorize",
        json={
            "user_id": user_id,
            "scopes": query["scope"],
            "redirect_uri": query["redirect_uri"],
            "state": query["state"],
        },
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    parts = urlsplit(answer.json()["redirect_url"])
    return f"{parts.path}?{parts.query}"


def join_with_discord(client: Client, emu, link: ReferralLink, user_id: str):
    """The whole flow; returns the callback's response."""
    return client.get(consent(emu, start(client, link), user_id))
