"""OAuth2 of the local Discord: authorize, code exchange, Bearer users and `guilds.join`.

Discord's rules kept: codes are single-use and short-lived; the redirect_uri used at exchange
must equal the one authorised; a client authenticates with basic auth or form fields; access
tokens carry scopes (`identify` for `/users/@me`, `guilds.join` to add the user to a guild);
`PUT /guilds/{g}/members/{u}` answers 201 with the member when it added them and 204 when they
were already in; users are capped at 100 guilds (30001). `POST /oauth2/token/revoke` (form
`token`, optional `token_type_hint`, client authentication as at the token endpoint) revokes the
whole authorisation the token belongs to, access and refresh token alike, and answers 200 even
for a token it does not know (RFC 7009, which Discord's revocation endpoint follows).
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode, urlsplit

from . import errors, models
from . import permissions as perms

if TYPE_CHECKING:
    from .state import World

CODE_LIFETIME = timedelta(minutes=10)
TOKEN_LIFETIME = timedelta(days=7)
_LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


ACCESS_DENIED = {
    "error": "access_denied",
    "error_description": "The resource owner or authorization server denied the request",
}


def _redirect(redirect_uri: str, query: dict[str, str], state: str | None) -> str:
    if state is not None:
        query["state"] = state
    separator = "&" if urlsplit(redirect_uri).query else "?"
    return f"{redirect_uri}{separator}{urlencode(query)}"


class OAuthError(Exception):
    """An OAuth2 error as Discord sends it: `{"error": ..., "error_description": ...}`."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.status = status
        self.body = {"error": error, "error_description": description}


class OAuthMixin:
    def redirect_allowed(self: World, redirect_uri: str) -> bool:
        allowed = self.application.redirect_uris
        if allowed is not None:
            return redirect_uri in allowed
        parts = urlsplit(redirect_uri)
        return parts.scheme in ("http", "https") and (parts.hostname or "") in _LOOPBACK

    def authorize(
        self: World,
        *,
        client_id: str,
        user_id: str,
        scopes: list[str],
        redirect_uri: str,
        state: str | None = None,
    ) -> str:
        """The user clicks "Authorize": returns the redirect URL carrying `code` and `state`."""
        self._check_redirect(client_id, redirect_uri)
        if not scopes:
            raise OAuthError(400, "invalid_scope", "The requested scope is invalid.")
        self.get_user(user_id)
        code = secrets.token_urlsafe(24)
        self.auth_codes[code] = models.AuthorizationCode(
            code, client_id, user_id, list(scopes), redirect_uri, self.clock.now() + CODE_LIFETIME
        )
        return _redirect(redirect_uri, {"code": code}, state)

    def deny(self: World, *, client_id: str, redirect_uri: str, state: str | None = None) -> str:
        """The user clicks "Cancel": the redirect back to the application carrying
        `error=access_denied` (and `state`), as Discord sends it when a user declines."""
        self._check_redirect(client_id, redirect_uri)
        return _redirect(redirect_uri, dict(ACCESS_DENIED), state)

    def _check_redirect(self: World, client_id: str, redirect_uri: str) -> None:
        if client_id != self.application.id:
            raise OAuthError(400, "invalid_client", "Unknown client_id.")
        if not self.redirect_allowed(redirect_uri):
            raise OAuthError(400, "invalid_request", 'Invalid "redirect_uri" in request.')

    def _check_client(self: World, client_id: str | None, client_secret: str | None) -> None:
        if client_id != self.application.id or not secrets.compare_digest(
            client_secret or "", self.application.client_secret
        ):
            raise OAuthError(401, "invalid_client", "Invalid client credentials.")

    def exchange_token(
        self: World, form: dict[str, str], client_id: str | None, client_secret: str | None
    ) -> dict[str, object]:
        """`POST /oauth2/token` for `authorization_code` and `refresh_token` grants."""
        self._check_client(client_id, client_secret)
        grant = form.get("grant_type")
        if grant == "authorization_code":
            code = self.auth_codes.pop(form.get("code", ""), None)
            if code is None or code.expires_at <= self.clock.now() or code.client_id != client_id:
                raise OAuthError(400, "invalid_grant", 'Invalid "code" in request.')
            if form.get("redirect_uri") != code.redirect_uri:
                raise OAuthError(400, "invalid_grant", 'Invalid "redirect_uri" in request.')
            user_id, scopes = code.user_id, code.scopes
        elif grant == "refresh_token":
            old = next(
                (
                    t
                    for t in self.access_tokens.values()
                    if t.refresh_token == form.get("refresh_token")
                ),
                None,
            )
            if old is None or old.client_id != client_id:
                raise OAuthError(400, "invalid_grant", 'Invalid "refresh_token" in request.')
            del self.access_tokens[old.token]
            user_id, scopes = old.user_id, old.scopes
        else:
            raise OAuthError(400, "unsupported_grant_type", "Unsupported grant type.")
        token = models.AccessToken(
            secrets.token_urlsafe(24),
            secrets.token_urlsafe(24),
            self.application.id,
            user_id,
            scopes,
            self.clock.now() + TOKEN_LIFETIME,
        )
        self.access_tokens[token.token] = token
        return {
            "access_token": token.token,
            "token_type": "Bearer",
            "expires_in": int(TOKEN_LIFETIME.total_seconds()),
            "refresh_token": token.refresh_token,
            "scope": " ".join(scopes),
        }

    def revoke_token(
        self: World, form: dict[str, str], client_id: str | None, client_secret: str | None
    ) -> None:
        """`POST /oauth2/token/revoke`: the client's own token (access or refresh, whatever the
        hint) and its sibling stop working; an unknown token is not an error."""
        self._check_client(client_id, client_secret)
        token = form.get("token", "")
        if not token:
            raise OAuthError(400, "invalid_request", 'Missing "token" in request.')
        hint = form.get("token_type_hint")
        if hint is not None and hint not in ("access_token", "refresh_token"):
            raise OAuthError(400, "unsupported_token_type", "Unsupported token type hint.")
        for access in list(self.access_tokens.values()):
            if token in (access.token, access.refresh_token) and access.client_id == client_id:
                del self.access_tokens[access.token]

    def bearer(self: World, token: str, scope: str | None = None) -> models.AccessToken:
        access = self.access_tokens.get(token)
        if access is None or access.expires_at <= self.clock.now():
            raise errors.unauthorized()
        if scope is not None and scope not in access.scopes:
            raise errors.unauthorized()
        return access

    def oauth_join(
        self: World,
        guild_id: str,
        user_id: str,
        actor_id: str,
        access_token: str,
        *,
        roles: list[str] | None = None,
        nick: str | None = None,
    ) -> tuple[models.Member, bool]:
        """`PUT /guilds/{g}/members/{u}`: returns (member, created)."""
        guild = self.bot_guild(guild_id)
        user = self.get_user(user_id)
        access = self.access_tokens.get(access_token)
        if (
            access is None
            or access.user_id != user.id
            or "guilds.join" not in access.scopes
            or access.expires_at <= self.clock.now()
        ):
            raise errors.DiscordError(
                403, errors.INVALID_OAUTH_TOKEN, "Invalid OAuth2 access token"
            )
        if user.id in guild.members:
            return guild.members[user.id], False
        self.require_guild_permission(guild, actor_id, perms.CREATE_INSTANT_INVITE)
        role_ids = [str(r) for r in roles or []]
        for role_id in role_ids:
            role = self.get_role(guild, role_id)
            if (
                role.id == guild.id
                or role.managed
                or not self.can_manage_role(guild, actor_id, role)
            ):
                raise errors.missing_permissions()
        if nick is not None:
            self.require_guild_permission(guild, actor_id, perms.MANAGE_NICKNAMES)
        if self.guild_count(user.id) >= 100:
            raise errors.DiscordError(
                400, errors.MAX_GUILDS, "Maximum number of guilds reached (100)"
            )
        member = self._join(
            guild, user.id, via="oauth", roles=role_ids, nick=nick, oauth_client_id=access.client_id
        )
        return member, True
