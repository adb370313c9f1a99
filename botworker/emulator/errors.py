"""Discord's REST errors: an exception carrying the HTTP status and Discord's JSON error body.

Body shape (Discord's "Error Messages" docs): `{"code": <int>, "message": <str>}` plus, for
50035 Invalid Form Body, an `errors` tree mirroring the request body whose leaves are
`{"_errors": [{"code": "BASE_TYPE_MAX_LENGTH", "message": "..."}]}`.
"""

from __future__ import annotations

from typing import Any

# JSON error codes used by the emulator (Discord's "JSON Error Codes" table).
GENERAL = 0
UNKNOWN_CHANNEL = 10003
UNKNOWN_GUILD = 10004
UNKNOWN_INVITE = 10006
UNKNOWN_MEMBER = 10007
UNKNOWN_MESSAGE = 10008
UNKNOWN_ROLE = 10011
UNKNOWN_TOKEN = 10012
UNKNOWN_USER = 10013
UNKNOWN_WEBHOOK = 10015
UNKNOWN_INTERACTION = 10062
UNKNOWN_APPLICATION = 10002
MAX_GUILDS = 30001
MAX_ROLES = 30005
MAX_INVITES = 30016
UNAUTHORIZED = 40001
ALREADY_ACKNOWLEDGED = 40060
MISSING_ACCESS = 50001
CANNOT_EDIT_OTHERS_MESSAGE = 50005
EMPTY_MESSAGE = 50006
MISSING_PERMISSIONS = 50013
INVALID_OAUTH_TOKEN = 50025
INVALID_FORM_BODY = 50035


class DiscordError(Exception):
    """An error response: `status` is the HTTP status, `body` the JSON Discord would send."""

    def __init__(
        self, status: int, code: int, message: str, errors: dict[str, Any] | None = None
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.errors = errors

    @property
    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"message": self.message, "code": self.code}
        if self.errors:
            body["errors"] = self.errors
        return body


def not_found(code: int, what: str) -> DiscordError:
    return DiscordError(404, code, f"Unknown {what}")


def missing_permissions() -> DiscordError:
    return DiscordError(403, MISSING_PERMISSIONS, "Missing Permissions")


def missing_access() -> DiscordError:
    return DiscordError(403, MISSING_ACCESS, "Missing Access")


def unauthorized() -> DiscordError:
    return DiscordError(401, GENERAL, "401: Unauthorized")


class FormErrors:
    """Collects field errors by path (`("components", 0, "custom_id")`) into Discord's tree."""

    def __init__(self) -> None:
        self.tree: dict[str, Any] = {}

    def add(self, path: tuple[str | int, ...], code: str, message: str) -> None:
        node = self.tree
        for part in path:
            node = node.setdefault(str(part), {})
        node.setdefault("_errors", []).append({"code": code, "message": message})

    def __bool__(self) -> bool:
        return bool(self.tree)

    def raise_if_any(self) -> None:
        if self.tree:
            raise DiscordError(400, INVALID_FORM_BODY, "Invalid Form Body", self.tree)


def invalid_form(path: tuple[str | int, ...], code: str, message: str) -> DiscordError:
    errors = FormErrors()
    errors.add(path, code, message)
    return DiscordError(400, INVALID_FORM_BODY, "Invalid Form Body", errors.tree)
