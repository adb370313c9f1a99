"""The welcome: where it is posted (campaign channel → system channel → welcome/general-like →
any sendable channel → DM) and its "Start onboarding" button."""

from __future__ import annotations

import pytest

from botworker.emulator import defaults
from botworker.emulator import permissions as perms
from botworker.emulator.faults import DROP
from botworker.emulator.models import Overwrite

from .onboarding_support import *  # noqa: F403
from .onboarding_support import attribute, join

pytestmark = pytest.mark.django_db(transaction=True)


def _buttons(message: dict) -> list[dict]:
    return [c for row in message["components"] for c in row["components"]]


async def test_it_posts_the_welcome_with_a_start_button_in_the_campaign_channel(
    emu, bots, bob_link
):
    # given a running bot and a member whose join was attributed to bob's link
    harness = await bots(emu)
    member = await join(emu, harness, "dana")
    outcome = await attribute(member, str(bob_link.pk))

    # when the tracking extension announces the attributed member
    harness.bot.dispatch("member_attributed", member, outcome)

    # then the campaign's welcome channel has the message with the session's button
    _, _, where = await harness.log.wait("welcome_sent")
    assert where == defaults.WELCOME_CHANNEL_ID
    (posted,) = emu.messages(defaults.WELCOME_CHANNEL_ID)
    assert posted["content"] == outcome.welcome.text
    (button,) = _buttons(posted)
    assert button["label"] == "Start onboarding"
    assert button["custom_id"] == f"onb:start:{outcome.welcome.session_id}"
    assert len(button["custom_id"]) <= 100
    emu.assert_no_violations()


CHANNELS = {
    "start-here": defaults.INVITE_CHANNEL_ID,
    "welcome": defaults.WELCOME_CHANNEL_ID,
    "general": defaults.GENERAL_CHANNEL_ID,
}


def _deny_bot(emu, *names: str) -> None:
    """The bot's role may not send in these channels (as a moderator would set it up)."""
    for name in names:
        emu.world.channels[CHANNELS[name]].overwrites.append(
            Overwrite(defaults.BOT_ROLE_ID, 0, deny=perms.SEND_MESSAGES)
        )


def _posted_in(emu) -> list[str]:
    return [name for name, cid in CHANNELS.items() if emu.messages(cid)]


async def _welcome(emu, harness, link_id: str, username: str = "erin"):
    """A member joins and is announced as attributed; returns (member, outcome, where)."""
    member = await join(emu, harness, username)
    outcome = await attribute(member, link_id)
    harness.bot.dispatch("member_attributed", member, outcome)
    _, _, where = await harness.log.wait("welcome_sent", lambda m, *_: m.id == member.id)
    return member, outcome, where


async def test_it_uses_the_system_channel_when_the_campaign_channel_is_gone(emu, bots, bob_link):
    # given the campaign points at a channel that no longer exists
    campaign = bob_link.campaign
    campaign.welcome_channel_id = "1300000000000009999"
    await campaign.asave()
    harness = await bots(emu)

    # when a member is welcomed
    await _welcome(emu, harness, str(bob_link.pk))

    # then the guild's system channel got it
    assert _posted_in(emu) == ["welcome"]
    emu.assert_no_violations()


async def test_it_falls_back_to_a_channel_named_like_general(emu, bots, bob_link, caplog):
    # given the bot may not send in the welcome (system) channel
    _deny_bot(emu, "welcome")
    harness = await bots(emu)
    caplog.set_level("INFO", logger="botworker.exts.onboarding")

    # when a member is welcomed
    member, _, where = await _welcome(emu, harness, str(bob_link.pk))

    # then #general got it, and the log says where
    assert _posted_in(emu) == ["general"] and where == defaults.GENERAL_CHANNEL_ID
    assert f"member={member.id} channel={defaults.GENERAL_CHANNEL_ID}" in caplog.text
    emu.assert_no_violations()


async def test_it_falls_back_to_any_channel_the_bot_can_send_in(emu, bots, bob_link):
    # given no system channel and no welcome/general channel the bot may send in
    emu.world.guilds[defaults.GUILD_ID].system_channel_id = None
    _deny_bot(emu, "welcome", "general")
    harness = await bots(emu)

    # when a member is welcomed
    await _welcome(emu, harness, str(bob_link.pk))

    # then the one channel left got it
    assert _posted_in(emu) == ["start-here"]
    emu.assert_no_violations()


async def test_it_moves_on_when_discord_refuses_a_channel_the_cache_allowed(emu, bots, bob_link):
    # given the welcome channel was locked after the bot cached the guild (no update event)
    harness = await bots(emu)
    _deny_bot(emu, "welcome")

    # when a member is welcomed
    await _welcome(emu, harness, str(bob_link.pk))

    # then Discord's refusal was not the end: #general got it
    assert _posted_in(emu) == ["general"]


async def test_it_moves_on_when_the_network_fails_under_a_post(emu, bots, bob_link, caplog):
    # given the connection breaks, unanswered, under the bot's first post
    harness = await bots(emu)
    emu.faults.inject_failure("POST /channels/*/messages", status=DROP, count=1)

    # when a member is welcomed
    await _welcome(emu, harness, str(bob_link.pk))

    # then the welcome still reached the member, in the next channel, and the log says why
    assert _posted_in(emu) == ["general"]
    assert "welcome not postable" in caplog.text and "Disconnected" in caplog.text


async def test_it_sends_a_dm_when_no_channel_is_sendable(emu, bots, bob_link, caplog):
    # given the bot may send in no channel of the guild
    _deny_bot(emu, *CHANNELS)
    harness = await bots(emu)
    caplog.set_level("INFO", logger="botworker.exts.onboarding")

    # when a member is welcomed
    member, outcome, where = await _welcome(emu, harness, str(bob_link.pk))

    # then they got it as a DM, with the button, and the log says so
    assert _posted_in(emu) == [] and where == "DM"
    dm = emu.world.dm_channel(defaults.APPLICATION_ID, str(member.id))
    (posted,) = emu.messages(dm.id)
    assert posted["content"] == outcome.welcome.text
    assert _buttons(posted)[0]["custom_id"] == f"onb:start:{outcome.welcome.session_id}"
    assert f"member={member.id} channel=DM" in caplog.text

    # and the button works there too
    custom_id = f"onb:start:{outcome.welcome.session_id}"
    click = emu.click_button(str(member.id), posted["id"], custom_id)
    await harness.log.wait("onboarding_answered", lambda i, *_: str(i.id) == click.id)
    assert emu.interaction_state(click.id)["modal"]["custom_id"].startswith("onb:modal:")
    emu.assert_no_failed_interactions()
    emu.assert_no_violations()


async def test_it_logs_clearly_when_nothing_works(emu, bots, bob_link, caplog):
    # given no sendable channel and a member who does not accept DMs from the bot
    _deny_bot(emu, *CHANNELS)
    harness = await bots(emu)
    member = await join(emu, harness, "fay")
    outcome = await attribute(member, str(bob_link.pk))
    emu.faults.inject_failure("POST /users/@me/channels", status=403, count=None)

    # when the member is welcomed
    with caplog.at_level("ERROR", logger="botworker.exts.onboarding"):
        harness.bot.dispatch("member_attributed", member, outcome)
        _, _, where = await harness.log.wait("welcome_sent")

    # then it was not delivered, and one error line names the guild, the member and what to check
    assert where is None
    assert f"welcome NOT delivered guild={defaults.GUILD_ID} member={member.id}" in caplog.text
    assert "Send Messages" in caplog.text


async def test_it_does_nothing_without_a_welcome(emu, bots, bob_link):
    # given a member whose join was already recorded (a duplicate event: no welcome)
    harness = await bots(emu)
    member = await join(emu, harness, "gus")
    await attribute(member, str(bob_link.pk))
    again = await attribute(member, str(bob_link.pk))
    assert again.welcome is None

    # when that outcome is announced, and then a real one for someone else
    harness.bot.dispatch("member_attributed", member, again)
    await _welcome(emu, harness, str(bob_link.pk), "hal")

    # then only the second member was welcomed
    assert len(harness.log.events["welcome_sent"]) == 1
    (posted,) = emu.messages(defaults.WELCOME_CHANNEL_ID)
    assert f"<@{member.id}>" not in posted["content"]
