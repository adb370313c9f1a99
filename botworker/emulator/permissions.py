"""Discord permission bits and the documented algorithm for a member's channel permissions.

Algorithm (Discord's "Permissions" topic, "Permission Hierarchy" and "Permission Overwrites"):
1. Guild owner: every permission. Base = @everyone's permissions OR every role of the member.
2. ADMINISTRATOR in the base: every permission, overwrites do not apply.
3. In a channel: apply the @everyone overwrite (deny, then allow), then the member's role
   overwrites together (all denies, then all allows), then the member's own overwrite.
4. Without VIEW_CHANNEL in a channel, every other channel permission is implicitly denied.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol

CREATE_INSTANT_INVITE = 1 << 0
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_CHANNELS = 1 << 4
MANAGE_GUILD = 1 << 5
ADD_REACTIONS = 1 << 6
VIEW_CHANNEL = 1 << 10
SEND_MESSAGES = 1 << 11
MANAGE_MESSAGES = 1 << 13
EMBED_LINKS = 1 << 14
ATTACH_FILES = 1 << 15
READ_MESSAGE_HISTORY = 1 << 16
MENTION_EVERYONE = 1 << 17
USE_EXTERNAL_EMOJIS = 1 << 18
CHANGE_NICKNAME = 1 << 26
MANAGE_NICKNAMES = 1 << 27
MANAGE_ROLES = 1 << 28
USE_APPLICATION_COMMANDS = 1 << 31
ALL = (1 << 51) - 1

# What a fresh guild's @everyone may do (the usual defaults for a community server).
DEFAULT_EVERYONE = (
    CREATE_INSTANT_INVITE
    | ADD_REACTIONS
    | VIEW_CHANNEL
    | SEND_MESSAGES
    | EMBED_LINKS
    | ATTACH_FILES
    | READ_MESSAGE_HISTORY
    | USE_EXTERNAL_EMOJIS
    | CHANGE_NICKNAME
    | USE_APPLICATION_COMMANDS
)

ROLE_OVERWRITE = 0
MEMBER_OVERWRITE = 1


class OverwriteLike(Protocol):
    id: str
    type: int
    allow: int
    deny: int


def base_permissions(*, is_owner: bool, everyone: int, role_permissions: Iterable[int]) -> int:
    if is_owner:
        return ALL
    permissions = everyone
    for value in role_permissions:
        permissions |= value
    if permissions & ADMINISTRATOR:
        return ALL
    return permissions


def channel_permissions(
    base: int,
    *,
    guild_id: str,
    member_id: str,
    member_role_ids: Iterable[str],
    overwrites: Iterable[OverwriteLike],
) -> int:
    if base & ADMINISTRATOR or base == ALL:
        return ALL
    by_id = {(o.type, o.id): o for o in overwrites}
    permissions = base
    everyone = by_id.get((ROLE_OVERWRITE, guild_id))
    if everyone is not None:
        permissions = (permissions & ~everyone.deny) | everyone.allow
    allow = deny = 0
    for role_id in member_role_ids:
        overwrite = by_id.get((ROLE_OVERWRITE, role_id))
        if overwrite is not None:
            allow |= overwrite.allow
            deny |= overwrite.deny
    permissions = (permissions & ~deny) | allow
    member = by_id.get((MEMBER_OVERWRITE, member_id))
    if member is not None:
        permissions = (permissions & ~member.deny) | member.allow
    if not permissions & VIEW_CHANNEL:
        return 0
    return permissions
