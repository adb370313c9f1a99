"""How the emulator applies Discord's JSON Schemas: the format checks that make sense for
Discord, form fields read as the JSON scalars they spell, enum-style `oneOf`s made plain enums,
and the validation errors worth showing. Used by `openapi.OpenAPISpec`."""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from jsonschema.exceptions import ValidationError


def spelled(value: Any) -> Any:
    """A form field's string as the JSON scalar it spells ("3600" -> 3600), else unchanged."""
    if isinstance(value, str) and re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?|true|false", value):
        return json.loads(value)
    return value


def format_checker() -> Any:
    """The format checks that make sense for Discord (see the module docstring)."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())

    @checker.checks("date-time", raises=ValueError)
    def date_time(value: object) -> bool:
        if not isinstance(value, str):
            return True
        return "T" in value.upper() and datetime.fromisoformat(value).tzinfo is not None

    @checker.checks("uri")
    def uri(value: object) -> bool:
        if not isinstance(value, str):
            return True
        parts = urlsplit(value)
        has_scheme = re.fullmatch(r"[a-z][a-z0-9+.-]*", parts.scheme, re.IGNORECASE) is not None
        return has_scheme and bool(parts.netloc or parts.path) and not re.search(r"\s", value)

    @checker.checks("int32")
    def int32(value: object) -> bool:
        return not isinstance(value, int) or isinstance(value, bool) or -(2**31) <= value < 2**31

    return checker


def consts_to_enums(node: Any) -> None:
    """Rewrite enum-style `oneOf: [{const: 1, title: ...}, ...]` (91 of them) as `enum: [1, ...]`.

    Equivalent because the constants are distinct, but a failing `oneOf` builds an error per
    branch: a modal callback body took ~11 ms before and ~4 ms after.
    """
    if isinstance(node, dict):
        branches = node.get("oneOf")
        if branches and all(
            isinstance(b, dict) and "const" in b and b.keys() <= {"const", "title", "description"}
            for b in branches
        ):
            values = [b["const"] for b in branches]
            if len({json.dumps(v) for v in values}) == len(values):
                del node["oneOf"]
                node["enum"] = values
        for child in node.values():
            consts_to_enums(child)
    elif isinstance(node, list):
        for child in node:
            consts_to_enums(child)


def leaves(error: ValidationError) -> list[ValidationError]:
    """The errors worth showing for `error`: for a failed oneOf/anyOf, those of the branch the
    instance was evidently meant for (right JSON type, right `type`-like discriminator, fewest
    errors); the union error itself when no branch stands out."""
    if not error.context:
        return [error]
    branches: dict[Any, list[ValidationError]] = defaultdict(list)
    for sub in error.context:
        branches[sub.relative_schema_path[0]].append(sub)

    def badness(errors: list[ValidationError]) -> tuple[bool, int, int]:
        wrong_kind = any(e.validator == "type" and not e.relative_path for e in errors)
        wrong_tag = sum(
            e.validator in ("const", "enum") and len(e.relative_path) == 1 for e in errors
        )
        return wrong_kind, wrong_tag, len(errors)

    ranked = sorted(branches.values(), key=badness)
    if len(ranked) > 1 and badness(ranked[0]) == badness(ranked[1]):
        return [error]
    return [leaf for sub in ranked[0] for leaf in leaves(sub)]


def describe(error: ValidationError) -> str:
    if error.validator not in ("oneOf", "anyOf") or not error.context:
        return error.message
    firsts = {}
    for sub in error.context:  # one reason per branch
        firsts.setdefault(sub.relative_schema_path[0], f"{sub.json_path}: {sub.message}")
    return f"matches none of the {error.validator} branches: " + " | ".join(firsts.values())
