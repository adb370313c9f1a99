"""Referral codes: unguessable, URL-safe, with an optional readable prefix from the link's title."""

import base64
import re
import secrets

from django.utils.text import slugify

RANDOM_BYTES = 10  # 80 bits of randomness → exactly 16 base32 characters, no padding
PREFIX_MAX = 24
RANDOM_LENGTH = 16
# The longest code: a 24-character prefix, a dash and 16 random characters.
CODE_MAX_LENGTH = PREFIX_MAX + 1 + RANDOM_LENGTH
CODE_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,62}[a-z0-9])?$")


def random_part() -> str:
    return base64.b32encode(secrets.token_bytes(RANDOM_BYTES)).decode("ascii").lower()


def readable_prefix(title: str) -> str:
    return slugify(title or "").replace("_", "-")[:PREFIX_MAX].strip("-")


def generate_code(title: str = "") -> str:
    """`summer-drop-k3x9…`: the title's slug (≤ 24 chars) and 80 random bits in base32."""
    prefix = readable_prefix(title)
    token = random_part()
    return f"{prefix}-{token}" if prefix else token


def is_valid_code(code: object) -> bool:
    """Whether `code` could be a referral code at all — checked before any database query."""
    return isinstance(code, str) and len(code) <= 64 and bool(CODE_RE.fullmatch(code))
