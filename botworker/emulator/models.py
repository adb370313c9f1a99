"""The emulated world's records. Plain dataclasses; `payloads` turns them into Discord JSON.

All ids are strings, as on the wire. Times are aware UTC datetimes from the emulator's clock.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Guild member flags (Discord's "Guild Member Flags").
DID_REJOIN = 1 << 0
COMPLETED_ONBOARDING = 1 << 1
BYPASSES_VERIFICATION = 1 << 2
STARTED_ONBOARDING = 1 << 3

# Channel types used here.
GUILD_TEXT = 0
DM = 1

# Interaction types and callback types (Discord's "Receiving and Responding").
PING = 1
APPLICATION_COMMAND = 2
MESSAGE_COMPONENT = 3
MODAL_SUBMIT = 5

CALLBACK_PONG = 1
CALLBACK_CHANNEL_MESSAGE = 4
CALLBACK_DEFERRED_CHANNEL_MESSAGE = 5
CALLBACK_DEFERRED_UPDATE_MESSAGE = 6
CALLBACK_UPDATE_MESSAGE = 7
CALLBACK_MODAL = 9

EPHEMERAL = 1 << 6


@dataclass
class User:
    id: str
    username: str
    global_name: str | None = None
    bot: bool = False
    avatar: str | None = None
    email: str | None = None
    # Guilds outside the emulated world the user is already in (Discord caps users at 100).
    other_guilds: int = 0


@dataclass
class Application:
    id: str
    name: str
    bot_user_id: str
    owner_id: str
    client_secret: str
    # None accepts any http(s) redirect on 127.0.0.1/localhost, the local default.
    redirect_uris: list[str] | None = None
    privileged_intents: set[str] = field(default_factory=lambda: {"members", "message_content"})
    commands: dict[str | None, list[dict[str, Any]]] = field(default_factory=dict)


@dataclass
class Role:
    id: str
    guild_id: str
    name: str
    permissions: int
    position: int
    color: int = 0
    hoist: bool = False
    managed: bool = False
    mentionable: bool = False
    bot_id: str | None = None
    unicode_emoji: str | None = None


@dataclass
class Overwrite:
    id: str
    type: int  # 0 role, 1 member
    allow: int = 0
    deny: int = 0


@dataclass
class Channel:
    id: str
    type: int
    name: str | None
    guild_id: str | None = None
    position: int = 0
    topic: str | None = None
    overwrites: list[Overwrite] = field(default_factory=list)
    recipient_ids: list[str] = field(default_factory=list)
    last_message_id: str | None = None


@dataclass
class Member:
    user_id: str
    guild_id: str
    joined_at: datetime
    roles: list[str] = field(default_factory=list)
    flags: int = 0
    nick: str | None = None
    pending: bool = False


@dataclass
class Guild:
    id: str
    name: str
    owner_id: str
    system_channel_id: str | None = None
    roles: dict[str, Role] = field(default_factory=dict)
    channel_ids: list[str] = field(default_factory=list)
    members: dict[str, Member] = field(default_factory=dict)
    former_member_ids: set[str] = field(default_factory=set)
    vanity_url_code: str | None = None
    vanity_uses: int = 0  # joins through discord.gg/<vanity_url_code>


@dataclass
class Invite:
    code: str
    guild_id: str
    channel_id: str
    inviter_id: str | None
    created_at: datetime
    max_age: int = 86400
    max_uses: int = 0
    temporary: bool = False
    uses: int = 0
    # Role invite (Discord, 2026-01): roles given to whoever accepts it.
    role_ids: list[str] = field(default_factory=list)

    @property
    def expires_at(self) -> datetime | None:
        return None if self.max_age == 0 else self.created_at + timedelta(seconds=self.max_age)

    def is_expired(self, now: datetime) -> bool:
        expires = self.expires_at
        return expires is not None and now >= expires


@dataclass
class Message:
    id: str
    channel_id: str
    author_id: str
    content: str
    timestamp: datetime
    components: list[dict[str, Any]] = field(default_factory=list)
    embeds: list[dict[str, Any]] = field(default_factory=list)
    flags: int = 0
    tts: bool = False
    edited_timestamp: datetime | None = None
    webhook_id: str | None = None
    application_id: str | None = None
    interaction_id: str | None = None
    # An ephemeral message is seen only by this user (interaction replies with flag 64).
    visible_to: str | None = None
    type: int = 0


@dataclass
class Interaction:
    """One interaction and what became of it, for tests, the UI and "interaction failed"."""

    id: str
    token: str
    type: int
    user_id: str
    guild_id: str | None
    channel_id: str
    data: dict[str, Any]
    message_id: str | None
    created_monotonic: float
    responded: bool = False
    response_type: int | None = None
    response: dict[str, Any] | None = None
    modal: dict[str, Any] | None = None
    original_message_id: str | None = None
    followup_ids: list[str] = field(default_factory=list)
    failed: str | None = None
    # Set once the interaction is answered or has failed; loop-bound, made lazily.
    _settled: asyncio.Event | None = None

    @property
    def settled(self) -> asyncio.Event:
        if self._settled is None:
            self._settled = asyncio.Event()
        return self._settled


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    user_id: str
    scopes: list[str]
    redirect_uri: str
    expires_at: datetime


@dataclass
class AccessToken:
    token: str
    refresh_token: str
    client_id: str
    user_id: str
    scopes: list[str]
    expires_at: datetime


@dataclass
class JoinRecord:
    """Ground truth: how a member really got in (the simulator scores attribution against it)."""

    guild_id: str
    user_id: str
    joined_at: datetime
    via: str  # "invite", "vanity", "oauth" or "seed"
    invite_code: str | None = None
    inviter_id: str | None = None
    oauth_client_id: str | None = None
    rejoin: bool = False
    role_ids: list[str] = field(default_factory=list)  # what a role invite gave


@dataclass
class ReturningVisit:
    """Ground truth: a member accepted an invite while already in the guild (no join, no use
    counted; a role invite still gives its roles). Kept apart from joins so scoring is unchanged."""

    guild_id: str
    user_id: str
    visited_at: datetime
    invite_code: str
    inviter_id: str | None
    role_ids: list[str] = field(default_factory=list)  # the invite's roles
    added_role_ids: list[str] = field(default_factory=list)  # of which the member lacked
