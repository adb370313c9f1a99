"""Onboarding through the real client: the button, the modal steps, corrections, completion,
who may press what, and buttons that outlive the bot process."""

from __future__ import annotations

from typing import Any

import nextcord
import pytest
from asgiref.sync import sync_to_async

from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent
from botworker.emulator import defaults
from botworker.exts.onboarding import _views
from referrals.models import ReferralLink

from .onboarding_support import *  # noqa: F403
from .onboarding_support import BotHarness, attribute, join

pytestmark = pytest.mark.django_db(transaction=True)

STEP_ONE = {
    "game": "chess",
    "email": "ivy@example.com",
    "age": "27",
    "site": "",
    "platform": "pc",
}


async def welcomed(emu, harness: BotHarness, link, username: str) -> tuple[str, str, str]:
    """A member joins through `link` and is welcomed: (user id, welcome message id, session)."""
    member = await join(emu, harness, username)
    outcome = await attribute(member, str(link.pk))
    harness.bot.dispatch("member_attributed", member, outcome)
    await harness.log.wait("welcome_sent", lambda m, *_: m.id == member.id)
    (message,) = [
        m for m in emu.messages(defaults.WELCOME_CHANNEL_ID) if f"<@{member.id}>" in m["content"]
    ]
    return str(member.id), message["id"], outcome.welcome.session_id


async def press(emu, harness: BotHarness, user_id: str, message_id: str, custom_id: str) -> dict:
    """A user clicks a button; returns what they see once the bot has answered."""
    click = emu.click_button(user_id, message_id, custom_id)
    await harness.log.wait("onboarding_answered", lambda i, *_: str(i.id) == click.id)
    return emu.interaction_state(click.id)


async def submit(
    emu, harness: BotHarness, user_id: str, opened_by: str, values: dict[str, str]
) -> dict:
    """A user submits the modal interaction `opened_by` showed; returns the bot's answer."""
    sent = emu.submit_modal(user_id, opened_by, values)
    await harness.log.wait("onboarding_answered", lambda i, *_: str(i.id) == sent.id)
    return emu.interaction_state(sent.id)


def inputs(state: dict) -> dict[str, dict[str, Any]]:
    return {
        row["components"][0]["custom_id"]: row["components"][0]
        for row in state["modal"]["components"]
    }


def reply(state: dict) -> dict:
    """The ephemeral message the member ended up with (a deferral's follow-up replaces it)."""
    assert state["ephemeral"] and not state["failed"]
    return state["messages"][-1]


def button(message: dict) -> dict:
    (row,) = message["components"]
    (only,) = row["components"]
    return only


@sync_to_async
def starts(session_id: str) -> int:
    session = OnboardingSession.objects.get(pk=session_id)
    return ReferralEvent.objects.filter(
        event_type=ReferralEvent.EventType.ONBOARDING_START,
        discord_user_id=session.discord_user_id,
    ).count()


@sync_to_async
def answers(user_id: str) -> dict[str, str]:
    return dict(
        OnboardingResponse.objects.filter(discord_user_id=user_id).values_list("field_key", "value")
    )


async def test_it_opens_the_form_as_a_modal_when_the_button_is_pressed(emu, bots, bob_link):
    # given a welcomed member
    harness = await bots(emu)
    user_id, message_id, session_id = await welcomed(emu, harness, bob_link, "ivy")

    # when they press "Start onboarding"
    state = await press(emu, harness, user_id, message_id, f"onb:start:{session_id}")

    # then the modal is the first response, built from the campaign's field
    assert state["response_type"] == 9
    assert state["modal"]["custom_id"] == f"onb:modal:{session_id}:0"
    assert state["modal"]["title"] == "Launch"
    (field,) = inputs(state).values()
    assert (field["custom_id"], field["label"], field["style"]) == ("game", "Favourite game", 1)
    assert field["required"] is True
    # and the start is recorded once, for the session's member
    assert await starts(session_id) == 1
    emu.assert_no_failed_interactions()
    emu.assert_no_violations()


async def test_it_runs_a_two_step_form_with_a_correction_to_one_conversion(
    emu, bots, bob_link, six_field_campaign, eager_tasks
):
    # given a welcomed member and a six-field form (a five-input step and a one-input step)
    harness = await bots(emu)
    user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
    first = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")
    assert list(inputs(first)) == ["game", "email", "age", "site", "platform"]
    assert first["modal"]["title"] == "Launch (1/2)"

    # when step 1 is submitted with an email that is not one
    wrong = await submit(emu, harness, user_id, first["id"], {**STEP_ONE, "email": "ivy-at-home"})

    # then the submit was deferred at once, the member is told which field is wrong, and
    # nothing moved on
    assert wrong["response_type"] == 5
    told = reply(wrong)
    assert "**Email**: that is not an email address" in told["content"]
    assert button(told)["label"] == "Fix my answers"
    assert button(told)["custom_id"] == f"onb:retry:{sid}:0"
    assert "email" not in await answers(user_id)

    # when they press "Fix my answers": the same step, with what they typed
    again = await press(emu, harness, user_id, told["id"], f"onb:retry:{sid}:0")
    assert again["modal"]["custom_id"] == f"onb:modal:{sid}:0"
    prefilled = {key: item.get("value") for key, item in inputs(again).items()}
    assert prefilled["email"] == "ivy-at-home" and prefilled["game"] == "chess"

    # and submit it corrected: step 1 is saved and a Continue button leads on
    saved = reply(await submit(emu, harness, user_id, again["id"], STEP_ONE))
    assert saved["content"].startswith("Step 1 of 2 saved")
    assert button(saved)["custom_id"] == f"onb:next:{sid}:1"
    second = await press(emu, harness, user_id, saved["id"], f"onb:next:{sid}:1")
    assert list(inputs(second)) == ["bio"] and inputs(second)["bio"]["style"] == 2
    done = reply(await submit(emu, harness, user_id, second["id"], {"bio": "Chess nerd"}))

    # then it is complete: answers stored, one start, one conversion, the role given
    assert "all set" in done["content"]
    assert await answers(user_id) == {
        "game": "chess",
        "email": "ivy@example.com",
        "age": "27",
        "platform": "PC",
        "bio": "Chess nerd",
    }
    assert await starts(sid) == 1
    assert await Conversion.objects.filter(discord_user_id=user_id).acount() == 1
    assert (await ReferralLink.objects.aget(pk=bob_link.pk)).conversions == 1
    member = next(m for m in emu.members() if m["user"]["id"] == user_id)
    assert defaults.MEMBER_ROLE_ID in member["roles"]
    emu.assert_no_failed_interactions()
    emu.assert_no_violations()


async def test_it_refuses_someone_elses_button_and_records_nothing(emu, bots, bob_link):
    # given ivy's welcome, and jay, another member
    harness = await bots(emu)
    _, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
    jay = await join(emu, harness, "jay")

    # when jay presses ivy's button
    state = await press(emu, harness, str(jay.id), message_id, f"onb:start:{sid}")

    # then only jay sees a refusal, and ivy's onboarding has not started
    assert state["modal"] is None
    assert "belongs to another member" in reply(state)["content"]
    assert await starts(sid) == 0
    assert (await OnboardingSession.objects.aget(pk=sid)).status == "welcomed"
    emu.assert_no_failed_interactions()


async def test_it_records_one_start_when_the_button_is_pressed_twice(emu, bots, bob_link):
    # given a welcomed member
    harness = await bots(emu)
    user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")

    # when they press the button twice (the modal closed in between)
    one = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")
    two = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")

    # then both opened the form and the start counts once
    assert one["response_type"] == two["response_type"] == 9
    assert await starts(sid) == 1
    emu.assert_no_failed_interactions()


async def test_it_keeps_buttons_and_answers_across_a_bot_restart(
    emu, bots, bob_link, six_field_campaign, eager_tasks
):
    # given a member who finished step 1 of 2, then the bot restarts
    harness = await bots(emu)
    user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
    first = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")
    saved = reply(await submit(emu, harness, user_id, first["id"], STEP_ONE))
    await harness.close()
    restarted = await bots(emu)

    # when they press the welcome's button, posted by the old process
    resumed = await press(emu, restarted, user_id, message_id, f"onb:start:{sid}")

    # then the form resumes at step 2, and so does the old Continue button
    assert resumed["modal"]["custom_id"] == f"onb:modal:{sid}:1"
    cont = await press(emu, restarted, user_id, saved["id"], f"onb:next:{sid}:1")
    assert cont["modal"]["custom_id"] == f"onb:modal:{sid}:1"

    # and finishing there keeps step 1's answers and converts once
    done = reply(await submit(emu, restarted, user_id, cont["id"], {"bio": ""}))
    assert "all set" in done["content"]
    assert (await answers(user_id))["email"] == "ivy@example.com"
    assert await starts(sid) == 1
    assert await Conversion.objects.filter(discord_user_id=user_id).acount() == 1
    emu.assert_no_failed_interactions()
    emu.assert_no_violations()


async def test_a_stopping_bot_finishes_the_welcome_it_was_about_to_post(emu, bots, bob_link):
    # given a member whose join was just recorded, with Discord answering slowly
    harness = await bots(emu)
    member = await join(emu, harness, "ivy")
    outcome = await attribute(member, str(bob_link.pk))
    emu.set_latency(300)

    # when the bot is told to stop right as the welcome is on its way (SIGTERM)
    harness.bot.dispatch("member_attributed", member, outcome)
    await harness.close()

    # then the welcome was still posted, with its button
    (welcome,) = [
        m for m in emu.messages(defaults.WELCOME_CHANNEL_ID) if f"<@{member.id}>" in m["content"]
    ]
    assert button(welcome)["custom_id"] == f"onb:start:{outcome.welcome.session_id}"


async def test_it_says_so_when_a_completed_member_presses_again(emu, bots, bob_link, eager_tasks):
    # given a member who completed the one-field form
    harness = await bots(emu)
    user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
    first = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")
    await submit(emu, harness, user_id, first["id"], {"game": "go"})

    # when they press the welcome's button again
    state = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")

    # then no form, a friendly note, and still one conversion
    assert state["modal"] is None
    assert "already completed" in reply(state)["content"]
    assert await Conversion.objects.filter(discord_user_id=user_id).acount() == 1
    emu.assert_no_failed_interactions()


async def test_it_tells_the_member_when_a_role_could_not_be_given(
    emu, bots, bob_link, eager_tasks, caplog
):
    # given a campaign whose role is above the bot's
    campaign = bob_link.campaign
    campaign.target_role_ids = [defaults.ADMIN_ROLE_ID]
    await campaign.asave()
    harness = await bots(emu)
    user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
    first = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")

    # when they complete the form
    state = await submit(emu, harness, user_id, first["id"], {"game": "go"})

    # then the conversion stands, and the member and the log are told about the role
    assert await Conversion.objects.filter(discord_user_id=user_id).acount() == 1
    texts = [m["content"] for m in state["messages"]]
    assert any("couldn't give you" in t for t in texts)
    assert any("all set" in t for t in texts)
    assert f"role {defaults.ADMIN_ROLE_ID} not given to member {user_id}" in caplog.text
    emu.assert_no_failed_interactions()


async def test_the_interaction_token_travels_in_no_task_argument_and_no_log_line(
    emu, bots, bob_link, eager_tasks, caplog
):
    # given a campaign whose role the bot cannot give (so the member must be told, which needs
    # the interaction's token), and every task's arguments recorded as a worker would see them
    from celery.signals import task_prerun

    campaign = bob_link.campaign
    campaign.target_role_ids = [defaults.ADMIN_ROLE_ID]
    await campaign.asave()
    arguments: list[str] = []

    def record(sender=None, args=None, kwargs=None, **_):
        arguments.append(repr((sender.name, args, kwargs)))

    task_prerun.connect(record, weak=False)
    try:
        harness = await bots(emu)
        user_id, message_id, sid = await welcomed(emu, harness, bob_link, "ivy")
        first = await press(emu, harness, user_id, message_id, f"onb:start:{sid}")

        # when they complete the form
        state = await submit(emu, harness, user_id, first["id"], {"game": "go"})
    finally:
        task_prerun.disconnect(record)

    # then they are told about the role, yet no task argument or log line held a token
    assert any("couldn't give you" in m["content"] for m in state["messages"])
    token_prefix = "aW50ZXJhY3Rpb24"  # every emulated interaction token starts with it
    assert arguments and not [a for a in arguments if token_prefix in a]
    assert token_prefix not in caplog.text


@pytest.mark.parametrize(
    ("custom_id", "expected"),
    [
        ("onb:start:bad!", "no longer works"),  # malformed: not a session id
        ("onb:start:NoSuchSession123", "expired"),  # well-formed, no such session
    ],
)
async def test_it_answers_buttons_it_cannot_act_on(emu, bots, custom_id, expected):
    # given a message with a button the extension cannot act on (old scheme, deleted session)
    harness = await bots(emu)
    member = await join(emu, harness, "kim")
    view = _views.button_view("Start onboarding", custom_id, nextcord.ButtonStyle.primary)
    channel = harness.guild.get_channel(int(defaults.WELCOME_CHANNEL_ID))
    message = await channel.send("An old welcome", view=view)

    # when a member presses it
    state = await press(emu, harness, str(member.id), str(message.id), custom_id)

    # then they get an explanation instead of "This interaction failed"
    assert expected in reply(state)["content"]
    emu.assert_no_failed_interactions()
