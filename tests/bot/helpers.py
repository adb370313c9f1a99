"""Helpers for the bot's tests (fixtures are in conftest.py)."""

from __future__ import annotations

import asyncio
import contextlib

import nextcord
from asgiref.sync import sync_to_async

from referrals.invites import hand_out_invite
from referrals.models import ReferralLink


async def stop_bot(bot: nextcord.Client, task: asyncio.Task[None] | None = None) -> None:
    """Close the bot as runbot does on SIGTERM (finish the batch, persist snapshots)."""
    if not bot.is_closed():
        await bot.close()
    if task is not None:
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await asyncio.wait_for(task, 5)


async def give_invite(link: ReferralLink, visitor: str) -> str:
    """A managed single-use invite handed to a visitor of `link`, as the landing page does."""
    handout = await sync_to_async(hand_out_invite)(link, visitor)
    assert handout.tracked, handout
    return handout.invite.discord_invite_code
