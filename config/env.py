"""Typed readers for environment variables.

Every reader raises ImproperlyConfigured with a message that names the variable and says what is
wrong, so a malformed value stops start-up with one clear line (manage.py prints it without a
traceback) instead of being silently read as a default.
"""

import os
import zoneinfo
from collections.abc import Iterable
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _raw(name: str) -> str | None:
    """The variable's value, or None when unset or empty (an empty line in .env means default)."""
    value = (os.environ.get(name) or "").strip()
    return value or None


def env_str(name: str, default: str = "") -> str:
    value = _raw(name)
    return default if value is None else value


def env_bool(name: str, default: bool) -> bool:
    value = _raw(name)
    if value is None:
        return default
    if value.lower() in _TRUE:
        return True
    if value.lower() in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={value!r} is not a boolean: use true or false.")


def env_int(
    name: str, default: int, *, min_value: int | None = None, max_value: int | None = None
) -> int:
    value = _raw(name)
    if value is None:
        result = default
    else:
        try:
            result = int(value)
        except ValueError:
            raise ImproperlyConfigured(f"{name}={value!r} is not a whole number.") from None
    if min_value is not None and result < min_value:
        raise ImproperlyConfigured(f"{name}={result} is too small: the minimum is {min_value}.")
    if max_value is not None and result > max_value:
        raise ImproperlyConfigured(f"{name}={result} is too large: the maximum is {max_value}.")
    return result


def env_float(
    name: str, default: float, *, min_value: float = 0.0, max_value: float | None = None
) -> float:
    value = _raw(name)
    if value is None:
        return default
    try:
        result = float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={value!r} is not a number.") from None
    if result != result or result < min_value:  # NaN compares false with everything
        raise ImproperlyConfigured(f"{name}={result} is too small: the minimum is {min_value}.")
    if max_value is not None and result > max_value:
        raise ImproperlyConfigured(f"{name}={result} is too large: the maximum is {max_value}.")
    return result


def env_choice(name: str, default: str, choices: Iterable[str]) -> str:
    choices = tuple(choices)
    value = env_str(name, default).lower()
    if value not in choices:
        raise ImproperlyConfigured(f"{name}={value!r} is not one of: {', '.join(choices)}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    value = _raw(name)
    if value is None:
        return list(default)
    return [item.strip() for item in value.split(",") if item.strip()]


def env_url(name: str, default: str, *, schemes: Iterable[str] = ("http", "https")) -> str:
    """An absolute URL with one of `schemes`, returned without a trailing slash."""
    value = env_str(name, default)
    if value == "":
        return ""
    parts = urlsplit(value)
    schemes = tuple(schemes)
    if parts.scheme not in schemes or not parts.netloc:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a URL: expected {' or '.join(schemes)}://host[/path]."
        )
    try:
        parts.port  # noqa: B018 -- urlsplit checks the port only when asked for it
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} has no valid port: expected a number from 1 to 65535."
        ) from None
    return value.rstrip("/")


def env_time_zone(name: str, default: str) -> str:
    """An IANA time zone name (UTC, Europe/Berlin)."""
    value = env_str(name, default)
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a time zone: use an IANA name such as UTC or Europe/Berlin."
        ) from None
    return value


def env_database(name: str, default: str) -> dict:
    """DATABASE_URL through django-environ, with the variable named in every error."""
    value = env_str(name, default)
    scheme = urlsplit(value).scheme
    if scheme not in {"sqlite", "postgres", "postgresql", "pgsql", "psql"}:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not supported: use postgres://user@host:5432/db or sqlite:///path."
        )
    try:
        return environ.Env.db_url_config(value)
    except Exception as exc:  # django-environ raises assorted errors on bad URLs
        raise ImproperlyConfigured(f"{name} could not be parsed: {exc}") from None


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate limit written `COUNT/SECONDS` (e.g. 10/60); 0/… disables it."""
    value = env_str(name, default)
    count, _, seconds = value.partition("/")
    try:
        parsed = int(count), int(seconds)
    except ValueError:
        raise ImproperlyConfigured(
            f"{name}={value!r} is not a rate: write COUNT/SECONDS, e.g. 10/60."
        ) from None
    if parsed[0] < 0 or parsed[1] <= 0:
        raise ImproperlyConfigured(f"{name}={value!r}: COUNT must be ≥ 0 and SECONDS > 0.")
    return parsed
