"""What the member sees: the custom_id scheme, the buttons and the modals built from a `Step`.

Custom ids carry only an onboarding session id and a step index, never user data, so they stay
far below Discord's 100 characters and any bot process can act on them after a restart:

    onb:start:<session_id>          the welcome message's "Start onboarding" button
    onb:next:<session_id>:<index>   "Continue" to step <index> (0-based)
    onb:retry:<session_id>:<index>  "Fix my answers": step <index> again, prefilled
    onb:modal:<session_id>:<index>  the modal of step <index>

Views built here are never stored in nextcord's view store (`prevent_update=False`, no
callbacks): the cog's `on_interaction` listener is the only handler, so a click is answered once,
by the same code, before and after a restart.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import nextcord

from analytics.onboarding import Step

PREFIX = "onb"
ACTIONS = ("start", "next", "retry", "modal")
MAX_CUSTOM_ID = 100  # Discord's limit
_SESSION_ID = re.compile(r"[A-Za-z0-9_-]{8,24}")
_MAX_INDEX = 99  # a campaign never has 500 fields; bounds what a forged id can ask for


@dataclass(frozen=True)
class Action:
    """A parsed custom_id: what was pressed or submitted, for which session and step."""

    kind: str  # one of ACTIONS
    session_id: str
    index: int | None = None  # None only for "start"


def custom_id(kind: str, session_id: str, index: int | None = None) -> str:
    value = ":".join([PREFIX, kind, session_id, *([] if index is None else [str(index)])])
    if len(value) > MAX_CUSTOM_ID:
        raise ValueError(f"custom_id over {MAX_CUSTOM_ID} characters for session {session_id}")
    return value


def ours(value: object) -> bool:
    """Whether a custom_id belongs to this extension (well-formed or not)."""
    return isinstance(value, str) and value.startswith(PREFIX + ":")


def parse(value: object) -> Action | None:
    """The action a custom_id names, or None when it is malformed (Discord sends what clients
    send; nothing in it is trusted)."""
    if not ours(value) or len(value) > MAX_CUSTOM_ID:  # type: ignore[arg-type]
        return None
    parts = str(value).split(":")
    if len(parts) < 3 or parts[1] not in ACTIONS or not _SESSION_ID.fullmatch(parts[2]):
        return None
    kind, session_id = parts[1], parts[2]
    if kind == "start":
        return Action(kind, session_id) if len(parts) == 3 else None
    if len(parts) != 4 or not parts[3].isdecimal() or int(parts[3]) > _MAX_INDEX:
        return None
    return Action(kind, session_id, int(parts[3]))


def button_view(label: str, value: str, style: nextcord.ButtonStyle) -> nextcord.ui.View:
    """One button with a fixed custom_id, answered by the cog's listener (see module docstring)."""
    view = nextcord.ui.View(timeout=None, auto_defer=False, prevent_update=False)
    view.add_item(nextcord.ui.Button(label=label, custom_id=value, style=style))
    return view


def start_view(session_id: str) -> nextcord.ui.View:
    return button_view(
        "Start onboarding", custom_id("start", session_id), nextcord.ButtonStyle.primary
    )


def continue_view(session_id: str, index: int) -> nextcord.ui.View:
    return button_view(
        "Continue", custom_id("next", session_id, index), nextcord.ButtonStyle.primary
    )


def retry_view(session_id: str, index: int) -> nextcord.ui.View:
    return button_view(
        "Fix my answers", custom_id("retry", session_id, index), nextcord.ButtonStyle.danger
    )


def step_modal(step: Step) -> nextcord.ui.Modal:
    """A modal for one step: one text input per field, custom_id = the field's key.

    The caller sends it and stops it at once, so nextcord never dispatches the submit to it:
    `onb:modal:…` submits are handled by the listener like every other action.
    """
    modal = nextcord.ui.Modal(
        step.title or "Onboarding",
        custom_id=custom_id("modal", step.session_id, step.index),
        timeout=None,
        auto_defer=False,
    )
    for spec in step.fields:
        value = spec.value[: spec.max_length] if spec.max_length else spec.value
        modal.add_item(
            nextcord.ui.TextInput(
                label=spec.label,
                custom_id=spec.key,
                style=(
                    nextcord.TextInputStyle.paragraph
                    if spec.paragraph
                    else nextcord.TextInputStyle.short
                ),
                required=spec.required,
                min_length=spec.min_length,
                max_length=spec.max_length,
                default_value=value or None,
                placeholder=spec.placeholder or None,
            )
        )
    return modal


def submitted_values(data: object) -> dict[str, str]:
    """{text input custom_id: value} from a modal submit's action rows, ignoring anything that
    is not a text input with a string value."""
    values: dict[str, str] = {}
    rows = data.get("components") if isinstance(data, dict) else None
    for row in rows if isinstance(rows, list) else []:
        children = row.get("components") if isinstance(row, dict) else None
        for item in children if isinstance(children, list) else []:
            if not isinstance(item, dict):
                continue
            key, value = item.get("custom_id"), item.get("value")
            if isinstance(key, str) and isinstance(value, str):
                values[key[:100]] = value
    return values
