"""Visitors who press "Join with Discord" (`--oauth-share`): our redirect to Discord's consent
page, the consent itself (the emulator's control API, as the person pressing "Authorize"), and
the callback on the web app that adds them to the guild with `guilds.join`. No invite is spent;
the join must come out recorded once, exact, on the visitor's link, and welcomed once.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import requests

from .metrics import Recorder

if TYPE_CHECKING:
    from .visitors import Visitor

HTTP_TIMEOUT = 30.0


class OAuthFlow:
    """The two halves of one visitor's OAuth join: `begin` in the web stage (our redirect),
    `complete` when the joiner lets them join (consent, then the callback)."""

    def __init__(
        self, web_base: str, emu_base: str, control: requests.Session, recorder: Recorder
    ) -> None:
        self.web_base, self.emu_base, self.http, self.rec = web_base, emu_base, control, recorder

    def begin(self, v: Visitor, web: requests.Session) -> bool:
        """`GET /r/<code>/join/oauth` → Discord's consent page; keeps its query (state,
        redirect_uri, scope). False, with the error counted, when the answer is anything else."""
        started = time.perf_counter()
        answer = web.get(
            f"{self.web_base}/r/{v.link.code}/join/oauth",
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        self.rec.latency("join_redirect", time.perf_counter() - started)
        location = answer.headers.get("Location", "")
        if answer.status_code != 302:
            self.rec.error(f"oauth_start_http_{answer.status_code}")
            return False
        if not location.startswith(f"{self.emu_base}/oauth2/authorize"):
            self.rec.error("oauth_redirect_not_to_discord")
            return False
        v.consent = {k: values[0] for k, values in parse_qs(urlsplit(location).query).items()}
        v.web = web
        return True

    def complete(self, v: Visitor) -> bool:
        """A Discord account for the visitor, "Authorize" on the consent page, then Discord's
        redirect back to our callback with the visitor's cookies. True once the callback sent
        them on to the guild's channel (a 302): the web app has added them."""
        account = self._control("users", {"username": f"visitor{v.n}"}, "oauth_user")
        if account is None:
            return False
        user_id = str(account["id"])
        v.joined_at = time.monotonic()
        consent = self._control(
            "oauth/authorize",
            {
                "user_id": user_id,
                "scopes": v.consent.get("scope", ""),
                "redirect_uri": v.consent.get("redirect_uri", ""),
                "state": v.consent.get("state", ""),
            },
            "oauth_authorize",
        )
        if consent is None:
            return False
        back = urlsplit(consent["redirect_url"])
        started = time.perf_counter()
        answer = v.web.get(
            f"{self.web_base}{back.path}?{back.query}", allow_redirects=False, timeout=HTTP_TIMEOUT
        )
        self.rec.latency("oauth_callback", time.perf_counter() - started)
        if answer.status_code != 302:
            self.rec.error(f"oauth_callback_http_{answer.status_code}")
            return False
        v.user_id = user_id
        return True

    def _control(self, path: str, body: dict[str, Any], kind: str) -> dict[str, Any] | None:
        answer = self.http.post(f"{self.emu_base}/_emulator/{path}", json=body, timeout=30)
        if answer.status_code >= 300:
            self.rec.error(f"{kind}_http_{answer.status_code}")
            return None
        return answer.json()
