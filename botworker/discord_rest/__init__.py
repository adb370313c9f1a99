"""A small synchronous Discord REST client for the web app and Celery tasks.

The bot speaks to Discord through nextcord; everything else (creating and deleting invites,
assigning roles after a conversion) goes through here. It honours Discord's rate limits (429
`retry_after`, X-RateLimit-* buckets, and its share of the token's global limit: `pacing`),
retries 5xx and network errors with backoff, never waits past the caller's time budget, and
raises typed errors carrying Discord's error code.
"""

import base64
import logging
import random
import re
import threading
import time
from dataclasses import dataclass
from typing import Any

import requests
from django.conf import settings

from . import pacing
from .pacing import exempt

log = logging.getLogger(__name__)

UNKNOWN_INVITE = 10006
# 429s waited out in one call (each says how long); the caller's budget usually ends it first.
MAX_RATE_LIMIT_WAITS = 20
USER_AGENT = "DiscordBot (https://github.com/invitetrail/invitetrail, 1.0) Invitetrail"
_MAJOR = re.compile(r"^/(channels|guilds|webhooks)/(\d+)")
_ID = re.compile(r"/\d{15,}")
# An interaction or webhook token right after its id: a secret, never in a key, message or log.
_WEBHOOK_TOKEN = re.compile(r"^(/webhooks/\d+)/[^/?]+")


class DiscordError(Exception):
    """Anything that kept a Discord call from succeeding."""


class DiscordUnavailable(DiscordError):
    """Discord could not be reached or kept failing (network error, timeout, 5xx)."""


class DiscordRateLimited(DiscordError):
    """Discord asked us to wait longer than the caller's budget allows."""

    def __init__(self, retry_after: float, scope: str = "route") -> None:
        super().__init__(f"rate limited ({scope}) for {retry_after:.2f} s")
        self.retry_after = retry_after
        self.scope = scope


class DiscordHTTPError(DiscordError):
    """Discord refused the request (4xx) with its JSON error body."""

    def __init__(self, status: int, code: int, message: str, errors: Any = None) -> None:
        super().__init__(f"{status} (code {code}): {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors


@dataclass
class _Bucket:
    remaining: int = 1
    resets_at: float = 0.0


def route_key(method: str, path: str) -> str:
    """Rate-limit key: method + path with ids blanked except the major parameter, and any
    webhook token blanked (the key appears in error messages)."""
    path = _WEBHOOK_TOKEN.sub(r"\1/{token}", path)
    match = _MAJOR.match(path)
    head = match.group(0) if match else ""
    return f"{method} {head}{_ID.sub('/{id}', path[len(head) :])}"


class DiscordREST:
    def __init__(
        self,
        base_url: str | None = None,
        token: str | None = None,
        *,
        timeout: float | None = None,
        max_attempts: int = 4,
    ) -> None:
        self.base_url = (base_url or settings.DISCORD_API_BASE).rstrip("/")
        self.token = token if token is not None else settings.DISCORD_BOT_TOKEN
        self.timeout = timeout or settings.DISCORD_REQUEST_TIMEOUT
        self.max_attempts = max_attempts
        self.session = requests.Session()
        self.session.headers["User-Agent"] = USER_AGENT
        self._buckets: dict[str, _Bucket] = {}
        self._global_until = 0.0
        self._lock = threading.Lock()

    # --- Endpoints we use ------------------------------------------------------------------
    def create_invite(
        self,
        channel_id: str,
        *,
        max_age: int,
        max_uses: int = 1,
        role_ids: list[str] | None = None,
        budget: float | None = None,
    ) -> dict:
        """A unique invite; `role_ids` are given to whoever accepts it (Discord's role invites,
        which need Manage Roles and roles below the bot's highest)."""
        body: dict = {"max_age": max_age, "max_uses": max_uses, "unique": True, "temporary": False}
        if role_ids:
            body["role_ids"] = role_ids
        return self.request(
            "POST",
            f"/channels/{channel_id}/invites",
            json=body,
            budget=budget,
            reason="Invitetrail managed invite",
        )

    def delete_invite(self, code: str, *, budget: float | None = None) -> bool:
        """Delete an invite; False when Discord no longer has it (already used or expired)."""
        try:
            self.request("DELETE", f"/invites/{code}", budget=budget)
        except DiscordHTTPError as exc:
            if exc.code == UNKNOWN_INVITE:
                return False
            raise
        return True

    def guild_invites(self, guild_id: str, *, budget: float | None = None) -> list[dict]:
        return self.request("GET", f"/guilds/{guild_id}/invites", budget=budget)

    def guild_roles(self, guild_id: str, *, budget: float | None = None) -> list[dict]:
        return self.request("GET", f"/guilds/{guild_id}/roles", budget=budget)

    def guild_channels(self, guild_id: str, *, budget: float | None = None) -> list[dict]:
        """The guild's channels (threads not included), unordered: sort by `position`."""
        return self.request("GET", f"/guilds/{guild_id}/channels", budget=budget)

    def bot_guilds(self, *, budget: float | None = None) -> list[dict]:
        """Partial guilds the bot is in (the first 200; a campaign tool's bot is in few)."""
        return self.request("GET", "/users/@me/guilds", budget=budget)

    def bot_member(self, guild_id: str, *, budget: float | None = None) -> dict:
        """The bot's own guild member (its roles decide which roles it may give)."""
        me = self.request("GET", "/users/@me", budget=budget)
        return self.request("GET", f"/guilds/{guild_id}/members/{me['id']}", budget=budget)

    def create_role(self, guild_id: str, name: str, *, budget: float | None = None) -> dict:
        """A role with no permissions, not hoisted, not mentionable (Discord places a new role
        at the bottom of the list, just above @everyone)."""
        body = {"name": name, "permissions": "0", "hoist": False, "mentionable": False}
        return self.request(
            "POST",
            f"/guilds/{guild_id}/roles",
            json=body,
            budget=budget,
            reason="Invitetrail referral role",
        )

    def delete_role(self, guild_id: str, role_id: str, *, budget: float | None = None) -> bool:
        """Delete a role; False when Discord no longer has it."""
        try:
            self.request(
                "DELETE",
                f"/guilds/{guild_id}/roles/{role_id}",
                budget=budget,
                reason="Invitetrail referral link deleted",
            )
        except DiscordHTTPError as exc:
            if exc.status == 404:
                return False
            raise
        return True

    def add_member_role(self, guild_id: str, user_id: str, role_id: str) -> None:
        self.request(
            "PUT",
            f"/guilds/{guild_id}/members/{user_id}/roles/{role_id}",
            reason="Invitetrail onboarding completed",
        )

    # OAuth2 ("Join with Discord"): the code and tokens are passed through, never logged or kept.
    def exchange_code(self, code: str, redirect_uri: str, *, budget: float | None = None) -> dict:
        """Authorization code → token response; authenticates as the OAuth2 client (basic
        auth with DISCORD_CLIENT_ID / DISCORD_CLIENT_SECRET), not as the bot."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self.request(
            "POST", "/oauth2/token", data=form, authorization=_client_auth(), budget=budget
        )

    def revoke_token(self, access_token: str, *, budget: float | None = None) -> None:
        """`POST /oauth2/token/revoke` as the OAuth2 client: the user's grant ends (its access
        and refresh token both)."""
        form = {"token": access_token, "token_type_hint": "access_token"}
        self.request(
            "POST", "/oauth2/token/revoke", data=form, authorization=_client_auth(), budget=budget
        )

    def current_user(self, access_token: str, *, budget: float | None = None) -> dict:
        """`GET /users/@me` as the user (Bearer; needs the `identify` scope)."""
        return self.request(
            "GET", "/users/@me", authorization=f"Bearer {access_token}", budget=budget
        )

    def add_guild_member(
        self,
        guild_id: str,
        user_id: str,
        access_token: str,
        *,
        roles: list[str] | None = None,
        budget: float | None = None,
    ) -> dict | None:
        """`PUT /guilds/{g}/members/{u}` (bot token + the user's `guilds.join` access token):
        the new member (201), or None when the user was already a member (204)."""
        body: dict[str, Any] = {"access_token": access_token}
        if roles:
            body["roles"] = list(roles)
        return self.request(
            "PUT",
            f"/guilds/{guild_id}/members/{user_id}",
            json=body,
            budget=budget,
            reason="Invitetrail: joined with Discord",
        )

    def followup(self, application_id: str, token: str, content: str) -> None:
        """An ephemeral follow-up to an interaction (valid 15 minutes after it)."""
        self.request(
            "POST",
            f"/webhooks/{application_id}/{token}",
            json={"content": content[:2000], "flags": 64},
        )

    # --- The mechanism ---------------------------------------------------------------------
    def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        data: dict[str, str] | None = None,
        budget: float | None = None,
        reason: str | None = None,
        authorization: str | None = None,
    ) -> Any:
        """One logical call: retries within `budget` seconds (default: no limit but attempts).

        1. Wait out a known-exhausted bucket or global limit, and for a slot of the REST
           clients' share of the global limit (bot-token calls), if the budget allows.
        2. Send; on 429 wait `retry_after` (plus jitter) and try again, up to 20 times; on 5xx
           or a network error back off (0.5 s, 1 s, 2 s…) up to `max_attempts` tries in all;
           never past the budget.
        3. 2xx → the JSON body (None for 204); other 4xx → DiscordHTTPError.

        `authorization` replaces the bot token (OAuth2 client or Bearer calls); `data` sends a
        form body (the token endpoint accepts only application/x-www-form-urlencoded).
        """
        if not self.token and authorization is None:
            raise DiscordUnavailable("DISCORD_BOT_TOKEN is not set")
        deadline = time.monotonic() + budget if budget is not None else None
        key = route_key(method, path)
        headers = {"Authorization": authorization or f"Bot {self.token}"}
        if reason:
            headers["X-Audit-Log-Reason"] = reason
        last_error: DiscordError = DiscordUnavailable("no attempt made")
        failures = rate_limited = 0
        paced = authorization is None and not exempt(path)
        while True:
            self._wait_for_bucket(key, deadline)
            if paced:
                self._wait_for_global_slot(deadline)
            timeout = self.timeout
            if deadline is not None:
                timeout = max(0.05, min(timeout, deadline - time.monotonic()))
            response = self._send(method, path, json, data, headers, timeout)
            if isinstance(response, str):
                last_error = DiscordUnavailable(f"{method} {key}: {response}")
                failures += 1
                self._backoff(failures, self.max_attempts, 0.25 * 2**failures, deadline, last_error)
                continue
            self._learn_bucket(key, response)
            if response.status_code == 429:
                retry_after, scope = self._retry_after(response)
                last_error = DiscordRateLimited(retry_after, scope)
                if scope == "global":
                    with self._lock:
                        self._global_until = time.monotonic() + retry_after
                # A 429 is Discord saying exactly when to come back: keep trying while the budget
                # lasts, with a little jitter so callers limited together do not retry together.
                rate_limited += 1
                wait = retry_after + random.uniform(0, min(0.25, retry_after / 4))
                self._backoff(rate_limited, MAX_RATE_LIMIT_WAITS, wait, deadline, last_error)
                continue
            if response.status_code >= 500:
                last_error = DiscordUnavailable(f"{method} {key}: HTTP {response.status_code}")
                failures += 1
                self._backoff(failures, self.max_attempts, 0.25 * 2**failures, deadline, last_error)
                continue
            if response.status_code >= 400:
                raise self._http_error(response)
            if response.status_code == 204 or not response.content:
                return None
            return response.json()

    def _send(
        self, method: str, path: str, json: Any, data: Any, headers: dict, timeout: float
    ) -> requests.Response | str:
        """The response, or the network error's class name. requests puts the full URL (a
        webhook token included) in its messages, so its exception is never raised on, chained
        or logged: the caller's DiscordUnavailable starts a fresh traceback."""
        try:
            return self.session.request(
                method, self.base_url + path, json=json, data=data, headers=headers, timeout=timeout
            )
        except requests.RequestException as exc:
            return exc.__class__.__name__

    def _wait_for_bucket(self, key: str, deadline: float | None) -> None:
        with self._lock:
            bucket = self._buckets.get(key)
            wait = max(self._global_until - time.monotonic(), 0.0)
            if bucket and bucket.remaining <= 0:
                wait = max(wait, bucket.resets_at - time.monotonic())
        if wait > 0:
            self._sleep_within(wait, deadline, DiscordRateLimited(wait, "bucket"))

    def _wait_for_global_slot(self, deadline: float | None) -> None:
        while (wait := pacing.rest_reserve(self.token)) > 0:
            self._sleep_within(wait, deadline, DiscordRateLimited(wait, "global share"))

    def _learn_bucket(self, key: str, response: requests.Response) -> None:
        remaining = response.headers.get("X-RateLimit-Remaining")
        reset_after = response.headers.get("X-RateLimit-Reset-After")
        if remaining is None or reset_after is None:
            return
        try:
            bucket = _Bucket(int(remaining), time.monotonic() + float(reset_after))
        except ValueError:
            return
        with self._lock:
            self._buckets[key] = bucket

    @staticmethod
    def _retry_after(response: requests.Response) -> tuple[float, str]:
        try:
            body = response.json()
            retry_after = float(body.get("retry_after", 1.0))
            scope = "global" if body.get("global") else "route"
        except (ValueError, AttributeError, TypeError):
            retry_after = float(response.headers.get("Retry-After", 1.0) or 1.0)
            scope = "route"
        return min(max(retry_after, 0.0), 60.0), scope

    def _backoff(
        self, tries: int, limit: int, seconds: float, deadline: float | None, error: DiscordError
    ) -> None:
        if tries >= limit:
            raise error
        self._sleep_within(seconds, deadline, error)

    @staticmethod
    def _sleep_within(seconds: float, deadline: float | None, error: DiscordError) -> None:
        if deadline is not None and time.monotonic() + seconds > deadline:
            raise error
        time.sleep(seconds)

    @staticmethod
    def _http_error(response: requests.Response) -> DiscordHTTPError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        # OAuth2 endpoints answer {"error", "error_description"} instead of {"code", "message"}.
        message = body.get("message") or body.get("error_description") or body.get("error")
        try:
            code = int(body.get("code") or 0)
        except (TypeError, ValueError):
            code = 0
        return DiscordHTTPError(
            response.status_code, code, str(message or response.reason), body.get("errors")
        )


_client: DiscordREST | None = None
_client_lock = threading.Lock()


def discord() -> DiscordREST:
    """The process-wide client (one session, shared rate-limit state), built from settings."""
    global _client
    with _client_lock:
        if (
            _client is None
            or _client.base_url != settings.DISCORD_API_BASE.rstrip("/")
            or (_client.token != settings.DISCORD_BOT_TOKEN)
        ):
            _client = DiscordREST()
        return _client


def _client_auth() -> str:
    credentials = f"{settings.DISCORD_CLIENT_ID}:{settings.DISCORD_CLIENT_SECRET}"
    return "Basic " + base64.b64encode(credentials.encode()).decode()
