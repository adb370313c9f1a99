"""Validators for values that come from Discord or from a campaign manager's form."""

import re

from django.core.exceptions import ValidationError

SNOWFLAKE_RE = re.compile(r"^[0-9]{17,20}$")
HEX_COLOUR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")


def is_snowflake(value: object) -> bool:
    return isinstance(value, str) and bool(SNOWFLAKE_RE.fullmatch(value))


def validate_snowflake(value: str) -> None:
    if not is_snowflake(value):
        raise ValidationError(
            "%(value)s is not a Discord id: ids are 17 to 20 digits "
            "(enable Developer Mode in Discord and use Copy ID).",
            params={"value": repr(value)},
            code="invalid_snowflake",
        )


def validate_snowflake_list(value: object) -> None:
    if not isinstance(value, list):
        raise ValidationError("Expected a list of Discord role ids.", code="invalid_list")
    for item in value:
        validate_snowflake(item)
    if len(set(value)) != len(value):
        raise ValidationError("The same role id is listed twice.", code="duplicate_role")


def validate_hex_colour(value: str) -> None:
    if not HEX_COLOUR_RE.fullmatch(value or ""):
        raise ValidationError(
            "%(value)s is not a colour: use #RRGGBB, e.g. #5865F2.",
            params={"value": repr(value)},
            code="invalid_colour",
        )
