"""Interaction webhooks: follow-up messages and `@original`, addressed by the interaction token
(valid for 15 minutes). The first follow-up after a deferral edits the "thinking" message."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from . import errors, models, validation
from .interactions import LOADING, TOKEN_LIFETIME

if TYPE_CHECKING:
    from .state import World


class WebhooksMixin:
    def _webhook_interaction(self: World, application_id: str, token: str) -> models.Interaction:
        if str(application_id) != self.application.id:
            raise errors.not_found(errors.UNKNOWN_WEBHOOK, "Webhook")
        for interaction in self.interactions.values():
            if secrets.compare_digest(interaction.token, token):
                if time.monotonic() - interaction.created_monotonic > TOKEN_LIFETIME:
                    break
                return interaction
        raise errors.not_found(errors.UNKNOWN_WEBHOOK, "Webhook")

    def followup(
        self: World, application_id: str, token: str, body: dict[str, Any]
    ) -> models.Message:
        interaction = self._webhook_interaction(application_id, token)
        if not interaction.responded:
            raise errors.not_found(errors.UNKNOWN_WEBHOOK, "Webhook")
        validation.check_message_body(body)
        channel = self.channels[interaction.channel_id]
        original = interaction.original_message_id
        msg = self.messages.get(original) if original else None
        if msg is not None and msg.flags & LOADING and msg.interaction_id == interaction.id:
            # The first follow-up after a deferral edits the "thinking" message, as on Discord.
            return self.edit_message(msg, body)
        return self._interaction_message(interaction, channel, body, 0)

    def webhook_message(
        self: World, application_id: str, token: str, message_id: str
    ) -> models.Message:
        interaction = self._webhook_interaction(application_id, token)
        if message_id == "@original":
            message_id = interaction.original_message_id or ""
        elif message_id not in interaction.followup_ids and message_id != (
            interaction.original_message_id
        ):
            message_id = ""
        msg = self.messages.get(message_id)
        if msg is None:
            raise errors.not_found(errors.UNKNOWN_MESSAGE, "Message")
        return msg
