"""Guild roles of the world: create and delete them (Discord's Create/Delete Guild Role), check
the roles a role invite may carry, and give those roles to whoever accepts it.

Positions follow Discord (and nextcord's cache, which mirrors it): a new role goes to position 1,
just above @everyone, and every other role moves up one; deleting a role moves those above it
down one. Neither shift is announced: clients apply it themselves on GUILD_ROLE_CREATE/DELETE.

Where the roles of a role invite first appear is not documented (GUILD_MEMBER_ADD's member
object, or a GUILD_MEMBER_UPDATE just after), so `World.roles_in` picks one: "add" or "update".
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from . import errors, models, payloads
from . import permissions as perms

if TYPE_CHECKING:
    from .state import World

MAX_ROLES_PER_GUILD = 250
GUILDS = 1 << 0
ROLES_IN = ("add", "update")


class RolesMixin:
    # -- create and delete -------------------------------------------------------------------

    def create_role(
        self: World,
        guild_id: str,
        actor_id: str,
        *,
        name: str = "new role",
        permissions: int | None = None,
        color: int = 0,
        hoist: bool = False,
        mentionable: bool = False,
        unicode_emoji: str | None = None,
    ) -> models.Role:
        """A new role at position 1. Needs MANAGE_ROLES, and no permission the actor lacks.

        `permissions` defaults to @everyone's, as Discord's "default role permissions in guild".
        A guild holds at most 250 roles (30005).
        """
        guild = self.get_guild(guild_id)
        self.require_guild_permission(guild, actor_id, perms.MANAGE_ROLES)
        if permissions is None:
            permissions = guild.roles[guild.id].permissions
        own = self.guild_permissions(guild, actor_id)
        if permissions & ~own and not own & perms.ADMINISTRATOR:
            raise errors.missing_permissions()
        if len(guild.roles) >= MAX_ROLES_PER_GUILD:
            raise errors.DiscordError(
                400, errors.MAX_ROLES, "Maximum number of guild roles reached (250)"
            )
        for existing in guild.roles.values():
            if existing.id != guild.id:
                existing.position += 1
        role = models.Role(
            self.ids.next(),
            guild.id,
            name,
            permissions,
            1,
            color=color,
            hoist=hoist,
            mentionable=mentionable,
            unicode_emoji=unicode_emoji,
        )
        guild.roles[role.id] = role
        self.emit(
            "GUILD_ROLE_CREATE",
            {"guild_id": guild.id, "role": payloads.role(role)},
            GUILDS,
            guild.id,
        )
        return role

    def delete_role(self: World, guild_id: str, role_id: str, actor_id: str | None) -> None:
        """Needs MANAGE_ROLES and a highest role above it; @everyone and managed roles cannot
        go. Members and invites lose the role."""
        guild = self.get_guild(guild_id)
        role = self.get_role(guild, role_id)
        if actor_id is not None:
            self.require_guild_permission(guild, actor_id, perms.MANAGE_ROLES)
            if not self.can_manage_role(guild, actor_id, role):
                raise errors.missing_permissions()
        if role.id == guild.id or role.managed:
            raise errors.missing_permissions()
        del guild.roles[role.id]
        for other in guild.roles.values():
            if other.position > role.position:
                other.position -= 1
        for member in guild.members.values():
            if role.id in member.roles:
                member.roles.remove(role.id)
        for invite in self.invites.values():
            if role.id in invite.role_ids:
                invite.role_ids.remove(role.id)
        self.emit("GUILD_ROLE_DELETE", {"guild_id": guild.id, "role_id": role.id}, GUILDS, guild.id)

    # -- role invites ------------------------------------------------------------------------

    def check_invite_roles(
        self: World, guild: models.Guild, actor_id: str, role_ids: Iterable[Any]
    ) -> list[str]:
        """The roles a new invite may give, in order, or Discord's refusal.

        1. Every id must be a role of the guild: 50035 naming the item otherwise.
        2. The actor needs MANAGE_ROLES (50013).
        3. Each role must sit below the actor's highest role (the owner bypasses), and be
           neither @everyone nor managed (50013).
        """
        wanted = list(dict.fromkeys(str(r) for r in role_ids))
        if not wanted:
            return []
        form = errors.FormErrors()
        for index, role_id in enumerate(wanted):
            if role_id not in guild.roles:
                form.add(("role_ids", index), "INVALID_ROLE", f"Unknown role {role_id}")
        form.raise_if_any()
        self.require_guild_permission(guild, actor_id, perms.MANAGE_ROLES)
        for role_id in wanted:
            role = guild.roles[role_id]
            if (
                role.id == guild.id
                or role.managed
                or not self.can_manage_role(guild, actor_id, role)
            ):
                raise errors.missing_permissions()
        return wanted

    def give_invite_roles(self: World, member: models.Member, role_ids: list[str]) -> list[str]:
        """Add the invite's roles the member lacks (those still existing) and announce it with
        GUILD_MEMBER_UPDATE; returns what was added."""
        guild = self.guilds.get(member.guild_id)
        if guild is None or guild.members.get(member.user_id) is not member:
            return []  # left (or was removed) before the roles arrived
        added = [r for r in role_ids if r in guild.roles and r not in member.roles]
        if added:
            member.roles.extend(added)
            self._member_updated(member)
        return added

    def give_invite_roles_later(self: World, member: models.Member, role_ids: list[str]) -> None:
        """`roles_in == "update"`: the roles follow GUILD_MEMBER_ADD after `roles_update_delay`.

        On the emulator's loop a timer does it (always after the ADD, which is already queued on
        every connection); without a running loop (the World used bare) it happens at once.
        """
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            self.give_invite_roles(member, role_ids)
            return

        def fire() -> None:
            self.pending_role_grants.discard(handle)
            self.give_invite_roles(member, role_ids)

        handle = loop.call_later(max(self.roles_update_delay, 0.0), fire)
        self.pending_role_grants.add(handle)

    def cancel_pending_role_grants(self: World) -> None:
        for handle in getattr(self, "pending_role_grants", ()):
            handle.cancel()
        self.pending_role_grants = set()
