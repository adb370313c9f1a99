"""Invites of the world: create (with Discord's reuse-unless-unique rule), list, expire, delete,
and accept, with single-use consumption and INVITE_CREATE / INVITE_DELETE events.
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable
from typing import TYPE_CHECKING

from . import errors, models, payloads
from . import permissions as perms

if TYPE_CHECKING:
    from .state import World

MAX_INVITES_PER_GUILD = 1000
MAX_GUILDS_PER_USER = 100
GUILD_INVITES = 1 << 6
_CODE_ALPHABET = string.ascii_letters + string.digits


class InvitesMixin:
    # -- invites -----------------------------------------------------------------------------

    def purge_expired_invites(self: World) -> None:
        """Expired invites stop working and vanish from lists; Discord sends no event for it."""
        now = self.clock.now()
        for code in [c for c, inv in self.invites.items() if inv.is_expired(now)]:
            del self.invites[code]

    def guild_invites(self: World, guild_id: str) -> list[models.Invite]:
        self.purge_expired_invites()
        return [inv for inv in self.invites.values() if inv.guild_id == guild_id]

    def channel_invites(self: World, channel_id: str) -> list[models.Invite]:
        self.purge_expired_invites()
        return [inv for inv in self.invites.values() if inv.channel_id == channel_id]

    def get_invite(self: World, code: str) -> models.Invite:
        self.purge_expired_invites()
        try:
            return self.invites[code]
        except KeyError:
            raise errors.not_found(errors.UNKNOWN_INVITE, "Invite") from None

    def _accept_vanity(self: World, guild: models.Guild, user_id: str) -> models.Member:
        """A user joins through the guild's vanity URL: its uses grow (Get Guild Vanity URL
        shows them); no invite object exists, so no invite event is sent."""
        self.get_user(user_id)
        if user_id in guild.members:
            return guild.members[user_id]
        if self.guild_count(user_id) >= MAX_GUILDS_PER_USER:
            raise errors.DiscordError(
                400, errors.MAX_GUILDS, "Maximum number of guilds reached (100)"
            )
        guild.vanity_uses += 1
        return self._join(guild, user_id, via="vanity", invite_code=guild.vanity_url_code)

    def _new_code(self: World) -> str:
        while True:
            code = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(10))
            if code not in self.invites:
                return code

    def create_invite(
        self: World,
        channel_id: str,
        actor_id: str,
        *,
        max_age: int = 86400,
        max_uses: int = 0,
        temporary: bool = False,
        unique: bool = False,
        code: str | None = None,
        role_ids: Iterable[str] | None = None,
    ) -> models.Invite:
        """Create (or, without `unique`, reuse a similar) invite; needs CREATE_INSTANT_INVITE.

        `role_ids` makes a role invite (Discord's Create Channel Invite): unknown roles are
        refused with 50035, roles the actor may not give with 50013 (`check_invite_roles`).
        """
        channel = self.get_channel(channel_id)
        if channel.guild_id is None:
            raise errors.missing_access()
        self.require_channel_permission(channel, actor_id, perms.CREATE_INSTANT_INVITE)
        roles = self.check_invite_roles(self.guilds[channel.guild_id], actor_id, role_ids or ())
        if not unique:
            for inv in self.channel_invites(channel.id):
                if (inv.inviter_id, inv.max_age, inv.max_uses, inv.temporary, inv.role_ids) == (
                    actor_id,
                    max_age,
                    max_uses,
                    temporary,
                    roles,
                ):
                    return inv
        if len(self.guild_invites(channel.guild_id)) >= MAX_INVITES_PER_GUILD:
            raise errors.DiscordError(
                400, errors.MAX_INVITES, "Maximum number of invites reached (1000)"
            )
        invite = models.Invite(
            code=code or self._new_code(),
            guild_id=channel.guild_id,
            channel_id=channel.id,
            inviter_id=actor_id,
            created_at=self.clock.now(),
            max_age=max_age,
            max_uses=max_uses,
            temporary=temporary,
            role_ids=roles,
        )
        self.invites[invite.code] = invite
        self.emit(
            "INVITE_CREATE", payloads.invite_event(invite, self), GUILD_INVITES, invite.guild_id
        )
        return invite

    def delete_invite(self: World, code: str, actor_id: str | None = None) -> models.Invite:
        invite = self.get_invite(code)
        if actor_id is not None:
            guild = self.guilds[invite.guild_id]
            channel = self.channels[invite.channel_id]
            if not (
                self.guild_permissions(guild, actor_id) & perms.MANAGE_GUILD
                or self.channel_permissions(channel, actor_id) & perms.MANAGE_CHANNELS
            ):
                raise errors.missing_permissions()
        del self.invites[code]
        self.emit(
            "INVITE_DELETE",
            payloads.invite_event(invite, self, deleted=True),
            GUILD_INVITES,
            invite.guild_id,
        )
        return invite

    def accept_invite(
        self: World,
        code: str,
        user_id: str,
        *,
        invite_delete_order: str | None = None,
        duplicate_member_add: bool = False,
    ) -> models.Member:
        """A user follows an invite link and joins, exactly as Discord would.

        1. The invite must exist and not be expired (10006 otherwise).
        2. A user already in the guild just "opens" it: no use is counted and no
           GUILD_MEMBER_ADD is sent, but a role invite still gives its roles (one
           GUILD_MEMBER_UPDATE if any was missing); ground truth records a returning visit.
        3. Otherwise `uses` grows, the member is added (DID_REJOIN if they were in before) and
           the real invite is recorded as ground truth.
        4. A role invite's roles are in GUILD_MEMBER_ADD (`roles_in` "add") or come in a
           GUILD_MEMBER_UPDATE shortly after it ("update").
        5. An invite that reached `max_uses` is consumed: deleted, with INVITE_DELETE sent
           before or after GUILD_MEMBER_ADD (`invite_delete_order`).
        """
        vanity = next((g for g in self.guilds.values() if g.vanity_url_code == code), None)
        if vanity is not None:
            return self._accept_vanity(vanity, user_id)
        invite = self.get_invite(code)
        guild = self.guilds[invite.guild_id]
        self.get_user(user_id)
        roles = [r for r in invite.role_ids if r in guild.roles]
        if user_id in guild.members:
            member = guild.members[user_id]
            added = self.give_invite_roles(member, roles)
            self.returning_visits.append(
                models.ReturningVisit(
                    guild.id,
                    user_id,
                    self.clock.now(),
                    invite.code,
                    invite.inviter_id,
                    role_ids=roles,
                    added_role_ids=added,
                )
            )
            return member
        if self.guild_count(user_id) >= MAX_GUILDS_PER_USER:
            raise errors.DiscordError(
                400, errors.MAX_GUILDS, "Maximum number of guilds reached (100)"
            )
        invite.uses += 1
        exhausted = invite.max_uses and invite.uses >= invite.max_uses
        order = invite_delete_order or self.invite_delete_order
        if exhausted and order == "before":
            self.delete_invite(code)
        member = self._join(
            guild,
            user_id,
            via="invite",
            roles=roles if self.roles_in == "add" else (),
            invite_code=invite.code,
            inviter_id=invite.inviter_id,
            duplicate_member_add=duplicate_member_add,
            role_ids=roles,
        )
        if roles and self.roles_in != "add":
            self.give_invite_roles_later(member, roles)
        if exhausted and order != "before":
            self.delete_invite(code)
        return member
