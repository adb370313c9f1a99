"""Request-body checks Discord makes, answered with 50035 Invalid Form Body like Discord.

Limits from Discord's docs: message content ≤ 2000 characters, ≤ 10 embeds, ≤ 5 action rows
of ≤ 5 buttons (or one select), custom_id 1–100 and unique per message, button label ≤ 80;
modals need a title (≤ 45) and custom_id, and 1–5 action rows each holding one text input
(label ≤ 45, value ≤ 4000, min/max length 0–4000 / 1–4000); invites take max_age 0–604800 and
max_uses 0–100 and up to 250 `role_ids`; roles are named in 1–100 characters with a color
0–0xFFFFFF.
"""

from __future__ import annotations

from typing import Any

from .errors import EMPTY_MESSAGE, DiscordError, FormErrors

ACTION_ROW, BUTTON, STRING_SELECT, TEXT_INPUT = 1, 2, 3, 4
SELECTS = {3, 5, 6, 7, 8}
LINK_STYLE = 5


def _max_length(errors: FormErrors, path: tuple, value: Any, limit: int) -> None:
    if isinstance(value, str) and len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")


def _int_range(errors: FormErrors, path: tuple, value: Any, low: int, high: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool):
        errors.add(path, "NUMBER_TYPE_COERCE", f'Value "{value}" is not int.')
    elif value < low:
        errors.add(path, "NUMBER_TYPE_MIN", f"int value should be greater than or equal to {low}.")
    elif value > high:
        errors.add(path, "NUMBER_TYPE_MAX", f"int value should be less than or equal to {high}.")


def _custom_id(errors: FormErrors, path: tuple, value: Any, seen: set[str]) -> None:
    if not isinstance(value, str) or not value:
        errors.add(path, "BASE_TYPE_REQUIRED", "This field is required")
        return
    _max_length(errors, path, value, 100)
    if value in seen:
        errors.add(
            path, "COMPONENT_CUSTOM_ID_DUPLICATED", "Component custom id cannot be duplicated"
        )
    seen.add(value)


def check_message_components(
    errors: FormErrors, components: Any, path: tuple = ("components",)
) -> None:
    if components is None:
        return
    if not isinstance(components, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return
    if len(components) > 5:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for r, row in enumerate(components):
        row_path = (*path, r)
        if not isinstance(row, dict) or row.get("type") != ACTION_ROW:
            errors.add(
                (*row_path, "type"),
                "UNION_TYPE_CHOICES",
                'Value of field "type" must be one of (1,).',
            )
            continue
        children = row.get("components") or []
        if not children:
            errors.add(
                (*row_path, "components"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        if len(children) > 5:
            errors.add(
                (*row_path, "components"),
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        if (
            any(c.get("type") in SELECTS for c in children if isinstance(c, dict))
            and len(children) > 1
        ):
            errors.add(
                (*row_path, "components"),
                "COMPONENT_LAYOUT_WIDTH_EXCEEDED",
                "The specified component exceeds the maximum width",
            )
        for c, child in enumerate(children):
            _check_message_child(errors, (*row_path, "components", c), child, seen)


def _check_message_child(errors: FormErrors, path: tuple, child: Any, seen: set[str]) -> None:
    if not isinstance(child, dict):
        errors.add(path, "MODEL_TYPE_CONVERT", "Only dictionaries may be used in a ModelType")
        return
    kind = child.get("type")
    if kind == BUTTON:
        style = child.get("style")
        if style not in (1, 2, 3, 4, 5, 6):
            errors.add(
                (*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2, 3, 4, 5, 6}."
            )
        _max_length(errors, (*path, "label"), child.get("label"), 80)
        if style == LINK_STYLE:
            if not child.get("url"):
                errors.add((*path, "url"), "BUTTON_COMPONENT_URL_REQUIRED", "A url is required")
            if child.get("custom_id"):
                errors.add(
                    (*path, "custom_id"),
                    "BUTTON_COMPONENT_LINK_HAS_CUSTOM_ID",
                    "A custom id cannot be specified for link buttons",
                )
        elif style != 6:
            _custom_id(errors, (*path, "custom_id"), child.get("custom_id"), seen)
    elif kind in SELECTS:
        _custom_id(errors, (*path, "custom_id"), child.get("custom_id"), seen)
        _max_length(errors, (*path, "placeholder"), child.get("placeholder"), 150)
        if kind == STRING_SELECT:
            options = child.get("options") or []
            if not 1 <= len(options) <= 25:
                errors.add(
                    (*path, "options"),
                    "BASE_TYPE_BAD_LENGTH",
                    "Must be between 1 and 25 in length.",
                )
    else:
        errors.add(
            (*path, "type"),
            "UNION_TYPE_CHOICES",
            'Value of field "type" must be one of (2, 3, 5, 6, 7, 8).',
        )


def check_message_body(body: dict[str, Any], *, partial: bool = False) -> None:
    """Create (or, with `partial`, edit) message / interaction message data."""
    errors = FormErrors()
    content = body.get("content")
    if content is not None and not isinstance(content, str):
        errors.add(("content",), "BASE_TYPE_STRING", "Could not interpret value as string.")
    _max_length(errors, ("content",), content, 2000)
    embeds = body.get("embeds")
    if isinstance(embeds, list) and len(embeds) > 10:
        errors.add(("embeds",), "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    check_message_components(errors, body.get("components"))
    errors.raise_if_any()
    if not partial and not (
        content
        or embeds
        or body.get("components")
        or body.get("sticker_ids")
        or body.get("attachments")
        or body.get("poll")
    ):
        raise DiscordError(400, EMPTY_MESSAGE, "Cannot send an empty message")


def check_modal(data: Any) -> None:
    errors = FormErrors()
    if not isinstance(data, dict):
        errors.add(("data",), "BASE_TYPE_REQUIRED", "This field is required")
        errors.raise_if_any()
    title = data.get("title")
    if not isinstance(title, str) or not title:
        errors.add(("data", "title"), "BASE_TYPE_REQUIRED", "This field is required")
    _max_length(errors, ("data", "title"), title, 45)
    _custom_id(errors, ("data", "custom_id"), data.get("custom_id"), set())
    rows = data.get("components")
    if not isinstance(rows, list) or not 1 <= len(rows) <= 5:
        errors.add(
            ("data", "components"), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length."
        )
        rows = rows if isinstance(rows, list) else []
    seen: set[str] = set()
    for r, row in enumerate(rows):
        path = ("data", "components", r)
        children = row.get("components") if isinstance(row, dict) else None
        if (
            not isinstance(row, dict)
            or row.get("type") != ACTION_ROW
            or not isinstance(children, list)
            or len(children) != 1
        ):
            errors.add(
                path,
                "MODAL_ACTION_ROW_INVALID",
                "A modal action row must hold exactly one text input",
            )
            continue
        _check_text_input(errors, (*path, "components", 0), children[0], seen)
    errors.raise_if_any()


def _check_text_input(errors: FormErrors, path: tuple, item: Any, seen: set[str]) -> None:
    if not isinstance(item, dict) or item.get("type") != TEXT_INPUT:
        errors.add(
            (*path, "type"), "UNION_TYPE_CHOICES", 'Value of field "type" must be one of (4,).'
        )
        return
    _custom_id(errors, (*path, "custom_id"), item.get("custom_id"), seen)
    if item.get("style") not in (1, 2):
        errors.add((*path, "style"), "BASE_TYPE_CHOICES", "Value must be one of {1, 2}.")
    label = item.get("label")
    if not isinstance(label, str) or not label:
        errors.add((*path, "label"), "BASE_TYPE_REQUIRED", "This field is required")
    _max_length(errors, (*path, "label"), label, 45)
    _max_length(errors, (*path, "value"), item.get("value"), 4000)
    _max_length(errors, (*path, "placeholder"), item.get("placeholder"), 100)
    if item.get("min_length") is not None:
        _int_range(errors, (*path, "min_length"), item["min_length"], 0, 4000)
    if item.get("max_length") is not None:
        _int_range(errors, (*path, "max_length"), item["max_length"], 1, 4000)


def check_invite_body(body: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /channels/{id}/invites` and fill Discord's defaults."""
    errors = FormErrors()
    params = {
        "max_age": body.get("max_age", 86400),
        "max_uses": body.get("max_uses", 0),
        "temporary": bool(body.get("temporary") or False),
        "unique": bool(body.get("unique") or False),
    }
    if params["max_age"] is None:
        params["max_age"] = 86400
    if params["max_uses"] is None:
        params["max_uses"] = 0
    _int_range(errors, ("max_age",), params["max_age"], 0, 604800)
    _int_range(errors, ("max_uses",), params["max_uses"], 0, 100)
    role_ids = body.get("role_ids")
    if role_ids is not None:
        params["role_ids"] = _snowflakes(errors, ("role_ids",), role_ids, 250)
    errors.raise_if_any()
    return params


def _snowflakes(errors: FormErrors, path: tuple, value: Any, limit: int) -> list[str]:
    """An array of snowflakes (strings or integers, as Discord reads them) as strings."""
    if not isinstance(value, list):
        errors.add(path, "LIST_TYPE_CONVERT", "Only iterables may be used in a ListType.")
        return []
    if len(value) > limit:
        errors.add(path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    ids = []
    for index, item in enumerate(value):
        text = str(item) if isinstance(item, int | str) and not isinstance(item, bool) else ""
        if not text.isdigit():
            errors.add((*path, index), "NUMBER_TYPE_COERCE", f'Value "{item}" is not snowflake.')
        ids.append(text)
    return ids


def check_role_body(body: dict[str, Any]) -> dict[str, Any]:
    """Validate `POST /guilds/{id}/roles` (Create Guild Role) and fill Discord's defaults:
    name "new role", permissions None (= @everyone's), color 0 (`colors.primary_color` wins),
    hoist and mentionable false. `permissions` is a string of digits in the docs; integers
    are read too."""
    errors = FormErrors()
    name = body.get("name")
    if name is None:
        name = "new role"
    elif not isinstance(name, str):
        errors.add(("name",), "BASE_TYPE_STRING", "Could not interpret value as string.")
    elif not 1 <= len(name) <= 100:
        errors.add(("name",), "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 100 in length.")
    permissions = body.get("permissions")
    if permissions is not None:
        text = str(permissions) if not isinstance(permissions, bool) else ""
        if not text.isdigit():
            errors.add(("permissions",), "NUMBER_TYPE_COERCE", f'Value "{permissions}" is not int.')
            permissions = None
        else:
            permissions = int(text)
    color = body.get("color")
    colors = body.get("colors")
    if isinstance(colors, dict) and colors.get("primary_color") is not None:
        color = colors["primary_color"]
    color = 0 if color is None else color
    _int_range(errors, ("color",), color, 0, 0xFFFFFF)
    unicode_emoji = body.get("unicode_emoji")
    _max_length(errors, ("unicode_emoji",), unicode_emoji, 100)
    errors.raise_if_any()
    return {
        "name": name,
        "permissions": permissions,
        "color": color,
        "hoist": bool(body.get("hoist") or False),
        "mentionable": bool(body.get("mentionable") or False),
        "unicode_emoji": unicode_emoji if isinstance(unicode_emoji, str) else None,
    }
