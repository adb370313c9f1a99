"""Messages, DMs and interactions (button clicks, modals, callbacks, follow-ups) of the world.

Discord's interaction rules emulated here: the first response must come within 3 s of the
interaction (else the user sees "This interaction failed" and the token answers 10062 Unknown
Interaction); a second callback is refused with 40060; follow-ups and `@original` work on the
token for 15 minutes; a modal submit comes from the user the modal was shown to.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from typing import TYPE_CHECKING, Any

from . import errors, models, payloads, validation
from . import permissions as perms

if TYPE_CHECKING:
    from .state import World

TOKEN_LIFETIME = 15 * 60
LOADING = 1 << 7  # message flag of a deferred "is thinking…" response
CALLBACK_TYPES = {1, 4, 5, 6, 7, 8, 9, 10, 12}


def _intent_for(channel: models.Channel) -> int:
    from .state import DIRECT_MESSAGES, GUILD_MESSAGES

    return DIRECT_MESSAGES if channel.guild_id is None else GUILD_MESSAGES


class InteractionsMixin:
    # -- messages ----------------------------------------------------------------------------

    def _store_message(
        self: World, channel: models.Channel, author_id: str, body: dict[str, Any], **extra: Any
    ) -> models.Message:
        msg = models.Message(
            id=self.ids.next(),
            channel_id=channel.id,
            author_id=author_id,
            content=body.get("content") or "",
            timestamp=self.clock.now(),
            components=list(body.get("components") or []),
            embeds=list(body.get("embeds") or []),
            flags=int(body.get("flags") or 0) & ~(1 << 6) | extra.pop("flags", 0),
            tts=bool(body.get("tts") or False),
            **extra,
        )
        self.messages[msg.id] = msg
        channel.last_message_id = msg.id
        if msg.visible_to is None:
            self.emit(
                "MESSAGE_CREATE", self._message_event(msg), _intent_for(channel), channel.guild_id
            )
        return msg

    def _message_event(self: World, msg: models.Message) -> dict[str, Any]:
        data = payloads.message(msg, self)
        channel = self.channels[msg.channel_id]
        if channel.guild_id and msg.author_id in self.guilds[channel.guild_id].members:
            member = payloads.member(self.guilds[channel.guild_id].members[msg.author_id], self)
            member.pop("user")
            data["member"] = member
        return data

    def create_message(
        self: World, channel_id: str, author_id: str, body: dict[str, Any]
    ) -> models.Message:
        """`POST /channels/{id}/messages` as `author_id` (normally the bot)."""
        channel = self.get_channel(channel_id)
        if channel.guild_id is not None:
            self.require_channel_permission(channel, author_id, perms.SEND_MESSAGES)
        elif author_id not in channel.recipient_ids:
            raise errors.missing_access()
        validation.check_message_body(body)
        return self._store_message(channel, author_id, body)

    def get_message(self: World, channel_id: str, message_id: str) -> models.Message:
        msg = self.messages.get(str(message_id))
        if msg is None or msg.channel_id != str(channel_id):
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return msg

    def edit_message(self: World, msg: models.Message, body: dict[str, Any]) -> models.Message:
        validation.check_message_body(body, partial=True)
        if "content" in body:
            msg.content = body["content"] or ""
        if "components" in body:
            msg.components = list(body["components"] or [])
        if "embeds" in body:
            msg.embeds = list(body["embeds"] or [])
        if "flags" in body and body["flags"] is not None:
            msg.flags = (msg.flags & (1 << 6)) | (int(body["flags"]) & ~(1 << 6))
        msg.flags &= ~LOADING
        msg.edited_timestamp = self.clock.now()
        if msg.visible_to is None:
            channel = self.channels[msg.channel_id]
            self.emit(
                "MESSAGE_UPDATE", self._message_event(msg), _intent_for(channel), channel.guild_id
            )
        return msg

    def delete_message(self: World, msg: models.Message) -> None:
        del self.messages[msg.id]
        channel = self.channels[msg.channel_id]
        if msg.visible_to is None:
            data = {"id": msg.id, "channel_id": msg.channel_id}
            if channel.guild_id:
                data["guild_id"] = channel.guild_id
            self.emit("MESSAGE_DELETE", data, _intent_for(channel), channel.guild_id)

    def channel_messages(
        self: World, channel_id: str, viewer_id: str | None = None
    ) -> list[models.Message]:
        """Oldest first; ephemeral messages only for the user they were meant for."""
        return [
            m
            for m in self.messages.values()
            if m.channel_id == channel_id and (m.visible_to is None or m.visible_to == viewer_id)
        ]

    def dm_channel(self: World, user_id: str, other_id: str) -> models.Channel:
        self.get_user(other_id)
        pair = sorted({user_id, other_id})
        for channel in self.channels.values():
            if channel.type == models.DM and sorted(channel.recipient_ids) == pair:
                return channel
        channel = models.Channel(self.ids.next(), models.DM, None, recipient_ids=pair)
        self.channels[channel.id] = channel
        return channel

    # -- interactions: the user's side -------------------------------------------------------

    def _new_interaction(
        self: World,
        kind: int,
        user_id: str,
        channel: models.Channel,
        data: dict[str, Any],
        message: models.Message | None,
    ) -> models.Interaction:
        interaction = models.Interaction(
            id=self.ids.next(),
            token="aW50ZXJhY3Rpb24" + secrets.token_urlsafe(48),
            type=kind,
            user_id=user_id,
            guild_id=channel.guild_id,
            channel_id=channel.id,
            data=data,
            message_id=message.id if message else None,
            created_monotonic=time.monotonic(),
        )
        self.interactions[interaction.id] = interaction
        self.emit("INTERACTION_CREATE", self.interaction_payload(interaction), 0, channel.guild_id)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is not None:
            loop.call_later(self.interaction_timeout, self._check_answered, interaction.id)
        return interaction

    def _check_answered(self: World, interaction_id: str) -> None:
        interaction = self.interactions.get(interaction_id)
        if interaction is not None and not interaction.responded and not interaction.failed:
            interaction.failed = "no response within 3 seconds"
            self.interaction_failures.append(
                {
                    "interaction_id": interaction.id,
                    "reason": interaction.failed,
                    "custom_id": interaction.data.get("custom_id"),
                    "user_id": interaction.user_id,
                }
            )
            interaction.settled.set()

    def interaction_payload(self: World, interaction: models.Interaction) -> dict[str, Any]:
        channel = self.channels[interaction.channel_id]
        data: dict[str, Any] = {
            "id": interaction.id,
            "application_id": self.application.id,
            "type": interaction.type,
            "data": interaction.data,
            "token": interaction.token,
            "version": 1,
            "channel_id": channel.id,
            "channel": payloads.channel(channel, self),
            "app_permissions": str(self.channel_permissions(channel, self.bot_id)),
            "locale": "en-US",
            "entitlements": [],
            "authorizing_integration_owners": {"0": channel.guild_id or "0"},
            "context": 0 if channel.guild_id else 1,
            "attachment_size_limit": 10485760,
        }
        if channel.guild_id:
            guild = self.guilds[channel.guild_id]
            member = payloads.member(guild.members[interaction.user_id], self)
            member["permissions"] = str(self.channel_permissions(channel, interaction.user_id))
            data.update(
                {
                    "guild_id": guild.id,
                    "member": member,
                    "guild_locale": "en-US",
                    "guild": {"id": guild.id, "locale": "en-US", "features": []},
                }
            )
        else:
            data["user"] = payloads.user(self.users[interaction.user_id])
        if interaction.message_id and interaction.message_id in self.messages:
            data["message"] = payloads.message(self.messages[interaction.message_id], self)
        return data

    def click_button(
        self: World, user_id: str, message_id: str, custom_id: str
    ) -> models.Interaction:
        """A user clicks a button: INTERACTION_CREATE type 3 with the message it was on."""
        msg = self.messages.get(str(message_id))
        if msg is None:
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        channel = self.channels[msg.channel_id]
        if msg.visible_to not in (None, user_id):
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        if channel.guild_id and user_id not in self.guilds[channel.guild_id].members:
            raise errors.missing_access()
        button = _find_component(msg.components, custom_id)
        if button is None or button.get("type") != validation.BUTTON:
            raise errors.invalid_form(
                ("data", "custom_id"),
                "COMPONENT_NOT_FOUND",
                "No button with this custom_id on the message",
            )
        if button.get("disabled"):
            raise errors.invalid_form(
                ("data", "custom_id"), "COMPONENT_DISABLED", "The button is disabled"
            )
        return self._new_interaction(
            models.MESSAGE_COMPONENT,
            user_id,
            channel,
            {"custom_id": custom_id, "component_type": validation.BUTTON},
            msg,
        )

    def submit_modal(
        self: World, user_id: str, opened_by: str, values: dict[str, str]
    ) -> models.Interaction:
        """A user submits the modal shown in answer to interaction `opened_by`."""
        origin = self.interactions.get(str(opened_by))
        if origin is None or origin.modal is None:
            raise errors.not_found(errors.UNKNOWN_INTERACTION, "interaction")
        if origin.user_id != user_id:
            raise errors.missing_access()
        rows = []
        for row in origin.modal.get("components", []):
            for item in row.get("components", []):
                value = str(values.get(item["custom_id"], item.get("value") or ""))
                rows.append(
                    {
                        "type": 1,
                        "components": [
                            {
                                "type": 4,
                                "id": len(rows) + 2,
                                "custom_id": item["custom_id"],
                                "value": value,
                            }
                        ],
                    }
                )
        channel = self.channels[origin.channel_id]
        msg = self.messages.get(origin.message_id) if origin.message_id else None
        return self._new_interaction(
            models.MODAL_SUBMIT,
            user_id,
            channel,
            {"custom_id": origin.modal["custom_id"], "components": rows},
            msg,
        )

    # -- interactions: the bot's side --------------------------------------------------------

    def _live_interaction(self: World, interaction_id: str, token: str) -> models.Interaction:
        interaction = self.interactions.get(str(interaction_id))
        if interaction is None or not secrets.compare_digest(interaction.token, token):
            raise errors.not_found(errors.UNKNOWN_INTERACTION, "interaction")
        return interaction

    def interaction_callback(
        self: World, interaction_id: str, token: str, body: dict[str, Any]
    ) -> models.Interaction:
        """`POST /interactions/{id}/{token}/callback` (types 4, 5, 6, 7, 9 are emulated)."""
        interaction = self._live_interaction(interaction_id, token)
        kind = body.get("type")
        if kind not in CALLBACK_TYPES:
            raise errors.invalid_form(
                ("type",),
                "BASE_TYPE_CHOICES",
                "Value must be one of {1, 4, 5, 6, 7, 8, 9, 10, 12}.",
            )
        if interaction.responded:
            self.interaction_failures.append(
                {
                    "interaction_id": interaction.id,
                    "reason": "acknowledged twice",
                    "user_id": interaction.user_id,
                }
            )
            raise errors.DiscordError(
                400, errors.ALREADY_ACKNOWLEDGED, "Interaction has already been acknowledged."
            )
        if time.monotonic() - interaction.created_monotonic > self.interaction_timeout:
            raise errors.not_found(errors.UNKNOWN_INTERACTION, "interaction")
        data = body.get("data") or {}
        channel = self.channels[interaction.channel_id]
        if kind == models.CALLBACK_MODAL:
            if interaction.type == models.MODAL_SUBMIT:
                raise errors.invalid_form(
                    ("type",),
                    "INTERACTION_MODAL_CANNOT_SHOW",
                    "Cannot send a modal in response to a modal submit",
                )
            validation.check_modal(data)
            interaction.modal = data
        elif kind == models.CALLBACK_CHANNEL_MESSAGE:
            validation.check_message_body(data)
            self._interaction_message(interaction, channel, data, 0)
        elif kind == models.CALLBACK_DEFERRED_CHANNEL_MESSAGE:
            self._interaction_message(interaction, channel, {"flags": data.get("flags")}, LOADING)
        elif kind in (models.CALLBACK_UPDATE_MESSAGE, models.CALLBACK_DEFERRED_UPDATE_MESSAGE):
            if interaction.message_id is None:
                raise errors.invalid_form(
                    ("type",),
                    "INTERACTION_TYPE_INVALID",
                    "This response type is only valid for component interactions",
                )
            interaction.original_message_id = interaction.message_id
            if kind == models.CALLBACK_UPDATE_MESSAGE:
                self.edit_message(self.messages[interaction.message_id], data)
        interaction.responded = True
        interaction.response_type = kind
        interaction.response = body
        interaction.settled.set()
        return interaction

    def _interaction_message(
        self: World,
        interaction: models.Interaction,
        channel: models.Channel,
        data: dict[str, Any],
        extra_flags: int,
    ) -> models.Message:
        ephemeral = int(data.get("flags") or 0) & models.EPHEMERAL
        msg = self._store_message(
            channel,
            self.bot_id,
            data,
            flags=extra_flags | ephemeral,
            webhook_id=self.application.id,
            application_id=self.application.id,
            interaction_id=interaction.id,
            visible_to=interaction.user_id if ephemeral else None,
            type=20 if interaction.type == models.APPLICATION_COMMAND else 0,
        )
        if interaction.original_message_id is None:
            interaction.original_message_id = msg.id
        else:
            interaction.followup_ids.append(msg.id)
        return msg


def _find_component(components: list[dict[str, Any]], custom_id: str) -> dict[str, Any] | None:
    for component in components:
        if component.get("custom_id") == custom_id:
            return component
        found = _find_component(component.get("components") or [], custom_id)
        if found is not None:
            return found
    return None
