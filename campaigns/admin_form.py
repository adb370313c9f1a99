"""The campaign form's Discord pickers: server, channels and roles chosen by name from the bot's
view of the guild (`campaigns.discord_directory`), with an id typed by hand always possible.

Each picker is a plain form control (a select, or checkboxes for roles) plus an "or type an id"
box; a typed id wins. When the bot cannot see the guild the pickers say why and leave the box.
A few lines of script (static/campaigns/pickers.js) refill the lists when the server changes.
"""

from __future__ import annotations

import re

from django import forms
from django.core.exceptions import ValidationError
from django.utils.html import format_html, format_html_join

from campaigns.discord_directory import NO_GUILD, Guilds, Option, bot_guilds, guild_directory
from campaigns.models import MAX_INVITE_AGE, MIN_INVITE_AGE, Campaign
from campaigns.validators import validate_snowflake

TYPED = "_typed"


def _typed_box(name: str, placeholder: str, value: str = "") -> str:
    return format_html(
        '<input type="text" class="vTextField picker__typed" name="{}{}" id="id_{}{}" '
        'value="{}" placeholder="{}" aria-label="{}" inputmode="numeric" autocomplete="off">',
        name,
        TYPED,
        name,
        TYPED,
        value,
        placeholder,
        placeholder,
    )


def _notice(error: str) -> str:
    return format_html('<p class="picker__error" role="status">{}</p>', error) if error else ""


class IdPicker(forms.Widget):
    """One Discord id: a select of named options and a box to type an id instead."""

    def __init__(self, options=(), *, error: str = "", blank: str = "---------", kind: str = ""):
        super().__init__()
        self.options: list[Option] = list(options)
        self.error = error
        self.blank = blank
        self.kind = kind  # "guild" or "channel": what the script refills
        self.directory_url = ""  # for the guild picker: where the script asks for a guild

    def value_from_datadict(self, data, files, name):
        typed = (data.get(name + TYPED) or "").strip()
        return typed or (data.get(name) or "").strip()

    def value_omitted_from_data(self, data, files, name) -> bool:
        return name not in data and name + TYPED not in data

    def render(self, name, value, attrs=None, renderer=None):
        value = "" if value is None else str(value)
        known = {o.id for o in self.options}
        options = [Option("", self.blank), *self.options]
        typed = ""
        if value and value not in known:
            if self.options:
                options.append(Option(value, f"{value} (not visible to the bot)"))
            else:
                typed = value
        select = ""
        if self.options:
            select = format_html(
                '<select name="{}" id="{}" class="picker__select" data-picker="{}"'
                ' data-directory-url="{}">{}</select>',
                name,
                (attrs or {}).get("id", f"id_{name}"),
                self.kind,
                self.directory_url,
                format_html_join(
                    "",
                    '<option value="{}"{}>{}</option>',
                    ((o.id, " selected" if o.id == value else "", o.label) for o in options),
                ),
            )
        return format_html(
            '<div class="picker" data-picker-for="{}">{}{}{}</div>',
            name,
            select,
            _typed_box(name, "or type an id", typed),
            _notice(self.error),
        )


class RolePicker(forms.Widget):
    """Any number of role ids: a checkbox per role the bot sees, and a box for typed ids."""

    def __init__(self, options=(), *, error: str = ""):
        super().__init__()
        self.options: list[Option] = list(options)
        self.error = error

    def value_from_datadict(self, data, files, name):
        chosen = data.getlist(name) if hasattr(data, "getlist") else list(data.get(name) or [])
        typed = re.split(r"[\s,;\[\]\"']+", data.get(name + TYPED) or "")
        return [*chosen, *(t for t in typed if t)]

    def value_omitted_from_data(self, data, files, name) -> bool:
        return False  # no box ticked is a value: no roles

    def render(self, name, value, attrs=None, renderer=None):
        value = [str(v) for v in value] if isinstance(value, list | tuple) else []
        known = {o.id for o in self.options}
        unknown = [v for v in value if v not in known]
        boxes = format_html_join(
            "",
            '<li><label><input type="checkbox" name="{}" value="{}"{}> {}</label></li>',
            ((name, o.id, " checked" if o.id in value else "", o.label) for o in self.options),
        )
        return format_html(
            '<div class="picker picker--roles" data-picker-for="{}">'
            '<ul class="picker__roles" data-picker="roles" data-name="{}">{}</ul>{}{}</div>',
            name,
            name,
            boxes,
            _typed_box(name, "or type role ids, comma-separated", ", ".join(unknown)),
            _notice(self.error),
        )


class RoleIdsField(forms.Field):
    """A list of distinct role ids, each a snowflake."""

    def to_python(self, value) -> list[str]:
        if not value:
            return []
        ids = [str(v).strip() for v in value if str(v).strip()]
        return list(dict.fromkeys(ids))

    def validate(self, value) -> None:
        super().validate(value)
        errors = []
        for role_id in value:
            try:
                validate_snowflake(role_id)
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)


# Names chosen from lists, no longer ids typed by hand.
LABELS = {
    "guild_id": "Server",
    "channel_id": "Invite channel",
    "welcome_channel_id": "Welcome channel",
}


class CampaignForm(forms.ModelForm):
    """The campaign form, its Discord fields filled from what the bot sees."""

    join_role_ids = RoleIdsField(
        required=False,
        label="Roles on joining",
        help_text="Roles given when a visitor joins with Discord.",
    )
    target_role_ids = RoleIdsField(
        required=False,
        label="Roles on conversion",
        help_text="Roles given on conversion.",
    )

    class Meta:
        model = Campaign
        # The admin adds the rest of its fieldsets; these are the ones this form shapes.
        fields = [
            "guild_id",
            "channel_id",
            "welcome_channel_id",
            "join_role_ids",
            "target_role_ids",
        ]

    # Set by CampaignAdmin.get_form: "Refresh from Discord" asked, and where the script reads
    # another server's lists.
    refresh_directory = False
    directory_url = ""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        age = self.fields.get("invite_max_age_seconds")
        if age is not None:
            # The form field says Discord's range itself (its own floor was 0, said first).
            self.fields["invite_max_age_seconds"] = forms.IntegerField(
                min_value=MIN_INVITE_AGE,
                max_value=MAX_INVITE_AGE,
                label=age.label,
                help_text=age.help_text,
                initial=age.initial,
                required=age.required,
                widget=forms.NumberInput(attrs={"class": "vIntegerField"}),
            )
        guilds = bot_guilds(refresh=self.refresh_directory)
        guild_id = self._guild_id(guilds)
        if "guild_id" in self.fields:
            self.initial.setdefault("guild_id", guild_id)
            self.fields["guild_id"].widget = IdPicker(
                guilds.guilds, error=guilds.error, blank="Choose a server", kind="guild"
            )
            self.fields["guild_id"].widget.directory_url = self.directory_url
        directory = guild_directory(guild_id, refresh=self.refresh_directory)
        # Said once, at the server picker, when it is the same reason.
        error = "" if directory.error in (NO_GUILD, guilds.error) else directory.error
        pickers = {
            "channel_id": IdPicker(directory.channels, error=error, kind="channel"),
            "welcome_channel_id": IdPicker(
                directory.channels,
                error=error,
                blank="The server's system channel",
                kind="channel",
            ),
            "join_role_ids": RolePicker(directory.roles, error=error),
            "target_role_ids": RolePicker(directory.roles, error=error),
        }
        for name, widget in pickers.items():
            if name in self.fields:
                self.fields[name].widget = widget
        for name, label in LABELS.items():
            if name in self.fields:
                self.fields[name].label = label

    def _guild_id(self, guilds: Guilds) -> str:
        """The server whose lists to show: the one submitted, saved, asked for, or the bot's
        only one."""
        if self.is_bound:
            chosen = IdPicker().value_from_datadict(self.data, None, self.add_prefix("guild_id"))
        else:
            chosen = self.initial.get("guild_id") or self.instance.guild_id
        if not chosen and len(guilds.guilds) == 1:
            chosen = guilds.guilds[0].id
        return str(chosen or "")
