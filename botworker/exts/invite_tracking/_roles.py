"""Referral roles on the bot's side: roles that arrive after the join, returning members, and
taking a link's role off a member once the join is credited (unless the campaign keeps it).

Discord does not document whether an invite's roles are already in `GUILD_MEMBER_ADD` or come
in a `GUILD_MEMBER_UPDATE` just after; both reach the tracker through here.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import nextcord
from django.utils import timezone
from nextcord.ext import commands

from analytics.joins import record_return_visit
from botworker.exts._failures import DISCORD_ERRORS, describe
from botworker.sync import run_sync
from referrals.evidence import ReferralRole, referral_roles

if TYPE_CHECKING:
    from ._logic import GuildInvites

log = logging.getLogger("botworker.invite_tracking")

# Referral-role removals sent per second at most (Discord allows a bot 50 requests/s in all).
REMOVALS_PER_SECOND = 5


def role_ids(member: nextcord.Member) -> frozenset[str]:
    """The member's role ids as Discord sent them (@everyone is not among them)."""
    return frozenset(str(r) for r in getattr(member, "_roles", ()))


class ReferralRoles:
    """Mixed into the invite-tracking cog (which provides `bot`, `guilds` and `_wake`).

    Dispatches `referral_roles_dropped(guild_id, member_id)` once a member's referral roles
    were taken off."""

    bot: commands.Bot
    guilds: dict[int, GuildInvites]
    _background: set[asyncio.Task[None]]
    arriving: set[str]

    def stop_background(self) -> None:
        for task in list(getattr(self, "_background", ())):
            task.cancel()

    def in_background(self, work: Coroutine[Any, Any, None]) -> None:
        """Run `work` without waiting for it (kept referenced until it ends)."""
        if not hasattr(self, "_background"):
            self._background = set()
        task = asyncio.create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    @commands.Cog.listener()
    async def on_member_update(self, before: nextcord.Member, after: nextcord.Member) -> None:
        """Roles that arrived after the join go to the queued join; a referral role gained by a
        member whose join this bot is not handling (they were in the guild already and accepted
        a link's invite) is a returning visit of that link."""
        gained = role_ids(after) - role_ids(before)
        if not gained or after.bot:
            return
        if str(after.id) in self.arriving:
            return  # its GUILD_MEMBER_ADD is being handled and will read the roles from the cache
        tracker = self.guilds.get(after.guild.id)
        if tracker is not None and tracker.roles_updated(str(after.id), role_ids(after)):
            self._wake[after.guild.id].set()  # type: ignore[attr-defined]
            return
        if tracker is None or tracker.knows(str(after.id), after.joined_at):
            return  # roles of a join this bot is deciding or decided: not a return
        roles = await self._referral_roles(after.guild.id)
        for role_id in sorted(gained & roles.keys()):
            role = roles[role_id]
            try:
                await run_sync(
                    record_return_visit,
                    guild_id=str(after.guild.id),
                    member_id=str(after.id),
                    link_id=role.link_id,
                    seen_at=timezone.now(),
                )
            except Exception:
                log.exception(
                    "guild=%s returning member %s (role %s) not recorded",
                    after.guild.id,
                    after.id,
                    role_id,
                )
                continue
            self.bot.dispatch("return_visit_recorded", after.guild.id, str(after.id), role.link_id)
            self.drop_referral_roles(after, {role_id: role})

    async def _referral_roles(self, guild_id: int) -> dict[str, ReferralRole]:
        try:
            return await run_sync(referral_roles, str(guild_id))
        except Exception:
            log.exception("guild=%s referral roles not read", guild_id)
            return {}

    def drop_referral_roles(self, member: nextcord.Member, roles: dict[str, ReferralRole]) -> None:
        """Queue the member's referral roles for removal, except those of campaigns that keep
        them. Removals go out one at a time, at most REMOVALS_PER_SECOND: they can wait, while
        Discord's 50 requests/s per bot are needed first for invite lists and welcomes."""
        drop = sorted(r for r, role in roles.items() if not role.keep and r in role_ids(member))
        if not drop:
            return
        if not hasattr(self, "_removals"):
            self._removals: asyncio.Queue[tuple[nextcord.Member, list[str]]] = asyncio.Queue()
            self.in_background(self._remove_roles())
        self._removals.put_nowait((member, drop))

    async def _remove_roles(self) -> None:
        while True:
            member, drop = await self._removals.get()
            try:
                await member.remove_roles(
                    *(nextcord.Object(int(r)) for r in drop),
                    reason="Invitetrail: referral credited",
                )
            except DISCORD_ERRORS as error:
                log.warning(
                    "guild=%s member=%s referral role(s) not removed: %s",
                    member.guild.id,
                    member.id,
                    describe(error),
                )
            else:
                self.bot.dispatch("referral_roles_dropped", member.guild.id, str(member.id))
            await asyncio.sleep(1 / REMOVALS_PER_SECOND)
