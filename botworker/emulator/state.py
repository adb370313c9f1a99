"""The emulated Discord world: users, the application, guilds, roles, channels, members, invites.

Every change that Discord would announce on the gateway is announced through `World.emit`
(wired to the gateway by the server), so REST calls, the control API, the web UI and the Python
API all produce the same events. Messages and interactions live in `interactions.py`, OAuth2 in
`oauth.py`; both are mixed into `World`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from typing import Any

from . import defaults, errors, models, payloads
from . import permissions as perms
from .clock import Clock, SnowflakeGenerator
from .interactions import InteractionsMixin
from .invites import InvitesMixin
from .oauth import OAuthMixin
from .roles import RolesMixin
from .webhooks import WebhooksMixin

# Gateway intents (Discord's "Gateway Intents").
GUILDS = 1 << 0
GUILD_MEMBERS = 1 << 1
GUILD_INVITES = 1 << 6
GUILD_MESSAGES = 1 << 9
DIRECT_MESSAGES = 1 << 12

MAX_GUILDS_PER_USER = 100

Emit = Callable[[str, dict[str, Any], int, str | None], None]


class World(InvitesMixin, RolesMixin, InteractionsMixin, WebhooksMixin, OAuthMixin):
    """All state of the local Discord. Not thread-safe: use it from the emulator's loop."""

    def __init__(
        self,
        clock: Clock | None = None,
        *,
        token: str = defaults.BOT_TOKEN,
        seed: bool = True,
        members_intent: bool = True,
    ) -> None:
        self.clock = clock or Clock()
        self.token = token
        self.members_intent = members_intent
        self.emit: Emit = lambda event, data, intent, guild_id: None
        # "before" or "after": where INVITE_DELETE of a consumed invite goes relative to
        # GUILD_MEMBER_ADD. Discord guarantees neither order.
        self.invite_delete_order = "after"
        # "add" or "update": whether a role invite's roles are already in GUILD_MEMBER_ADD or
        # come in a GUILD_MEMBER_UPDATE `roles_update_delay` seconds later (see roles.py).
        self.roles_in = "update"
        self.roles_update_delay = 0.05
        self.interaction_timeout = 3.0
        self.pending_role_grants: set[asyncio.TimerHandle] = set()
        self.reset(seed=seed)

    # -- setup -------------------------------------------------------------------------------

    def reset(self, *, seed: bool = True) -> None:
        self.cancel_pending_role_grants()
        self.ids = SnowflakeGenerator(self.clock)
        self.users: dict[str, models.User] = {}
        self.guilds: dict[str, models.Guild] = {}
        self.channels: dict[str, models.Channel] = {}
        self.invites: dict[str, models.Invite] = {}
        self.messages: dict[str, models.Message] = {}
        self.interactions: dict[str, models.Interaction] = {}
        self.interaction_failures: list[dict[str, Any]] = []
        self.auth_codes: dict[str, models.AuthorizationCode] = {}
        self.access_tokens: dict[str, models.AccessToken] = {}
        self.joins: list[models.JoinRecord] = []
        self.returning_visits: list[models.ReturningVisit] = []
        self.users[defaults.APPLICATION_ID] = models.User(
            defaults.APPLICATION_ID, defaults.BOT_USERNAME, bot=True
        )
        self.users[defaults.OWNER_USER_ID] = models.User(
            defaults.OWNER_USER_ID, "guild-owner", "Guild Owner", email="owner@example.test"
        )
        privileged = {"members", "message_content"} if self.members_intent else {"message_content"}
        self.application = models.Application(
            id=defaults.APPLICATION_ID,
            name=defaults.BOT_USERNAME,
            bot_user_id=defaults.APPLICATION_ID,
            owner_id=defaults.OWNER_USER_ID,
            client_secret=defaults.CLIENT_SECRET,
            privileged_intents=privileged,
        )
        if seed:
            self._seed()

    def _seed(self) -> None:
        now = self.clock.now()
        guild = models.Guild(
            defaults.GUILD_ID,
            defaults.GUILD_NAME,
            defaults.OWNER_USER_ID,
            system_channel_id=defaults.WELCOME_CHANNEL_ID,
        )
        bot_permissions = (
            perms.SEND_MESSAGES
            | perms.VIEW_CHANNEL
            | perms.CREATE_INSTANT_INVITE
            | perms.MANAGE_GUILD
            | perms.MANAGE_ROLES
        )
        for role in (
            models.Role(guild.id, guild.id, "@everyone", perms.DEFAULT_EVERYONE, 0),
            models.Role(defaults.MEMBER_ROLE_ID, guild.id, "Member", 0, 1),
            models.Role(defaults.PARTICIPANT_ROLE_ID, guild.id, "Campaign Participant", 0, 2),
            models.Role(
                defaults.BOT_ROLE_ID,
                guild.id,
                defaults.BOT_USERNAME,
                bot_permissions,
                3,
                managed=True,
                bot_id=defaults.APPLICATION_ID,
            ),
            models.Role(defaults.ADMIN_ROLE_ID, guild.id, "Admin", perms.ADMINISTRATOR, 4),
        ):
            guild.roles[role.id] = role
        for position, (channel_id, name) in enumerate(
            (
                (defaults.INVITE_CHANNEL_ID, "start-here"),
                (defaults.WELCOME_CHANNEL_ID, "welcome"),
                (defaults.GENERAL_CHANNEL_ID, "general"),
            )
        ):
            self.channels[channel_id] = models.Channel(
                channel_id, models.GUILD_TEXT, name, guild.id, position
            )
            guild.channel_ids.append(channel_id)
        self.guilds[guild.id] = guild
        for user_id, roles in (
            (defaults.OWNER_USER_ID, [defaults.ADMIN_ROLE_ID]),
            (defaults.APPLICATION_ID, [defaults.BOT_ROLE_ID]),
        ):
            guild.members[user_id] = models.Member(user_id, guild.id, now, roles=roles)
            self.joins.append(models.JoinRecord(guild.id, user_id, now, via="seed"))

    # -- lookups -----------------------------------------------------------------------------

    @property
    def bot_id(self) -> str:
        return self.application.bot_user_id

    def application_flags(self) -> int:
        flags = 0
        if "presences" in self.application.privileged_intents:
            flags |= 1 << 12  # GATEWAY_PRESENCE
        if "members" in self.application.privileged_intents:
            flags |= 1 << 14  # GATEWAY_GUILD_MEMBERS
        if "message_content" in self.application.privileged_intents:
            flags |= 1 << 18  # GATEWAY_MESSAGE_CONTENT
        return flags

    def get_user(self, user_id: str) -> models.User:
        try:
            return self.users[str(user_id)]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_USER, "User") from None

    def get_guild(self, guild_id: str) -> models.Guild:
        try:
            return self.guilds[str(guild_id)]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_GUILD, "Guild") from None

    def get_channel(self, channel_id: str) -> models.Channel:
        try:
            return self.channels[str(channel_id)]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_CHANNEL, "Channel") from None

    def get_role(self, guild: models.Guild, role_id: str) -> models.Role:
        try:
            return guild.roles[str(role_id)]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_ROLE, "Role") from None

    def get_member(self, guild: models.Guild, user_id: str) -> models.Member:
        try:
            return guild.members[str(user_id)]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_MEMBER, "Member") from None

    def bot_guild(self, guild_id: str) -> models.Guild:
        """A guild the bot can see: Discord answers 403 Missing Access for others it knows of."""
        guild = self.get_guild(guild_id)
        if self.bot_id not in guild.members:
            raise errors.missing_access()
        return guild

    # -- permissions -------------------------------------------------------------------------

    def guild_permissions(self, guild: models.Guild, user_id: str) -> int:
        member = guild.members.get(user_id)
        if member is None:
            return 0
        return perms.base_permissions(
            is_owner=guild.owner_id == user_id,
            everyone=guild.roles[guild.id].permissions,
            role_permissions=(guild.roles[r].permissions for r in member.roles if r in guild.roles),
        )

    def channel_permissions(self, channel: models.Channel, user_id: str) -> int:
        if channel.guild_id is None:
            return perms.VIEW_CHANNEL | perms.SEND_MESSAGES | perms.READ_MESSAGE_HISTORY
        guild = self.guilds[channel.guild_id]
        member = guild.members.get(user_id)
        if member is None:
            return 0
        return perms.channel_permissions(
            self.guild_permissions(guild, user_id),
            guild_id=guild.id,
            member_id=user_id,
            member_role_ids=member.roles,
            overwrites=channel.overwrites,
        )

    def require_guild_permission(self, guild: models.Guild, user_id: str, permission: int) -> None:
        if not self.guild_permissions(guild, user_id) & permission:
            raise errors.missing_permissions()

    def require_channel_permission(
        self, channel: models.Channel, user_id: str, permission: int
    ) -> None:
        allowed = self.channel_permissions(channel, user_id)
        if not allowed & perms.VIEW_CHANNEL:
            raise errors.missing_access()
        if not allowed & permission:
            raise errors.missing_permissions()

    def highest_role_position(self, guild: models.Guild, user_id: str) -> int:
        member = guild.members.get(user_id)
        if member is None:
            return -1
        return max((guild.roles[r].position for r in member.roles if r in guild.roles), default=0)

    def can_manage_role(self, guild: models.Guild, actor_id: str, role: models.Role) -> bool:
        """MANAGE_ROLES and a highest role strictly above the target (the owner bypasses)."""
        if guild.owner_id == actor_id:
            return True
        if not self.guild_permissions(guild, actor_id) & perms.MANAGE_ROLES:
            return False
        return self.highest_role_position(guild, actor_id) > role.position

    # -- users -------------------------------------------------------------------------------

    def create_user(
        self, username: str | None = None, *, global_name: str | None = None, other_guilds: int = 0
    ) -> models.User:
        user_id = self.ids.next()
        name = username or f"user{user_id[-6:]}"
        user = models.User(
            user_id, name, global_name, email=f"{name}@example.test", other_guilds=other_guilds
        )
        self.users[user_id] = user
        return user

    def guild_count(self, user_id: str) -> int:
        user = self.get_user(user_id)
        return user.other_guilds + sum(user_id in g.members for g in self.guilds.values())

    # -- members -----------------------------------------------------------------------------

    def _join(
        self,
        guild: models.Guild,
        user_id: str,
        *,
        via: str,
        roles: Iterable[str] = (),
        nick: str | None = None,
        duplicate_member_add: bool = False,
        **ground_truth: Any,
    ) -> models.Member:
        rejoin = user_id in guild.former_member_ids
        member = models.Member(
            user_id,
            guild.id,
            self.clock.now(),
            roles=list(dict.fromkeys(roles)),
            flags=models.DID_REJOIN if rejoin else 0,
            nick=nick,
        )
        guild.members[user_id] = member
        self.joins.append(
            models.JoinRecord(
                guild.id, user_id, member.joined_at, via, rejoin=rejoin, **ground_truth
            )
        )
        event = payloads.member(member, self, guild_id=True)
        for _ in range(2 if duplicate_member_add else 1):
            self.emit("GUILD_MEMBER_ADD", event, GUILD_MEMBERS, guild.id)
        return member

    def duplicate_member_add(self, guild_id: str, user_id: str) -> None:
        """Send GUILD_MEMBER_ADD again for an existing member (Discord may repeat it)."""
        guild = self.get_guild(guild_id)
        member = self.get_member(guild, user_id)
        self.emit(
            "GUILD_MEMBER_ADD",
            payloads.member(member, self, guild_id=True),
            GUILD_MEMBERS,
            guild.id,
        )

    def remove_member(self, guild_id: str, user_id: str, actor_id: str | None = None) -> None:
        """A member leaves (or, with `actor_id`, is kicked: needs KICK_MEMBERS and hierarchy)."""
        guild = self.get_guild(guild_id)
        self.get_member(guild, user_id)
        if actor_id is not None:
            self.require_guild_permission(guild, actor_id, perms.KICK_MEMBERS)
            if user_id == guild.owner_id or self.highest_role_position(
                guild, actor_id
            ) <= self.highest_role_position(guild, user_id):
                raise errors.missing_permissions()
        del guild.members[user_id]
        guild.former_member_ids.add(user_id)
        if user_id == self.bot_id:
            # The bot itself: Discord tells it with GUILD_DELETE, its `unavailable` not set.
            self.emit("GUILD_DELETE", {"id": guild.id}, GUILDS, guild.id)
            return
        self.emit(
            "GUILD_MEMBER_REMOVE",
            {"guild_id": guild.id, "user": payloads.user(self.users[user_id])},
            GUILD_MEMBERS,
            guild.id,
        )

    def _member_updated(self, member: models.Member) -> None:
        self.emit(
            "GUILD_MEMBER_UPDATE",
            payloads.member(member, self, guild_id=True),
            GUILD_MEMBERS,
            member.guild_id,
        )

    def set_member_role(
        self, guild_id: str, user_id: str, role_id: str, actor_id: str, *, add: bool
    ) -> None:
        """`PUT/DELETE /guilds/{g}/members/{u}/roles/{r}`: MANAGE_ROLES and role hierarchy."""
        guild = self.bot_guild(guild_id) if actor_id == self.bot_id else self.get_guild(guild_id)
        member = self.get_member(guild, user_id)
        role = self.get_role(guild, role_id)
        if role.id == guild.id or role.managed or not self.can_manage_role(guild, actor_id, role):
            raise errors.missing_permissions()
        if add and role.id not in member.roles:
            member.roles.append(role.id)
            self._member_updated(member)
        elif not add and role.id in member.roles:
            member.roles.remove(role.id)
            self._member_updated(member)

    def set_member_flags(self, guild_id: str, user_id: str, flags: int) -> models.Member:
        """Control-API helper, e.g. to mark onboarding started/completed as Discord's UI does."""
        guild = self.get_guild(guild_id)
        member = self.get_member(guild, user_id)
        member.flags = flags
        self._member_updated(member)
        return member

    def ground_truth(self) -> list[dict[str, Any]]:
        return [
            {
                "guild_id": j.guild_id,
                "user_id": j.user_id,
                "joined_at": j.joined_at.isoformat(),
                "via": j.via,
                "invite_code": j.invite_code,
                "inviter_id": j.inviter_id,
                "oauth_client_id": j.oauth_client_id,
                "rejoin": j.rejoin,
                "role_ids": list(j.role_ids),
            }
            for j in self.joins
        ]

    def returning_ground_truth(self) -> list[dict[str, Any]]:
        """Invites accepted by members already in the guild: no join, but a role invite's
        roles were given (`added_role_ids`: those the member lacked)."""
        return [
            {
                "guild_id": v.guild_id,
                "user_id": v.user_id,
                "visited_at": v.visited_at.isoformat(),
                "invite_code": v.invite_code,
                "inviter_id": v.inviter_id,
                "role_ids": list(v.role_ids),
                "added_role_ids": list(v.added_role_ids),
            }
            for v in self.returning_visits
        ]
