"""One visitor end to end with the production bot (every extension): invite handed out by the
landing page's code → join → exact attribution → welcome → two-step form with one correction →
one conversion → role."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from emulator_fixtures import EventLog

from analytics.models import Conversion, OnboardingResponse, ReferralEvent
from botworker.emulator import defaults
from referrals.models import ReferralLink

from .helpers import give_invite
from .onboarding_support import *  # noqa: F403

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def strict_emulator(discord_emulator) -> Iterator[object]:
    """The session's emulator in strict mode for this test only."""
    discord_emulator.faults.strict = True
    try:
        yield discord_emulator
    finally:
        discord_emulator.faults.strict = False


async def test_it_takes_one_visitor_from_invite_to_conversion(
    strict_emulator, run_bot, tracked_campaign, bob_link, six_field_campaign, eager_tasks
):
    emu = strict_emulator
    bot, _ = await run_bot()
    log = EventLog(bot, ("member_attributed", "welcome_sent", "onboarding_answered"))

    async def answered(interaction) -> dict:
        await log.wait("onboarding_answered", lambda i, *_: str(i.id) == interaction.id)
        return emu.interaction_state(interaction.id)

    # given a visitor of bob's link who was handed an invite and accepted it
    code = await give_invite(bob_link, "visitor-1")
    user_id = emu.accept_invite(code).user_id

    # then the join is attributed exactly and the welcome with its button is posted
    _, outcome = await log.wait("member_attributed", lambda m, o: str(m.id) == user_id)
    assert (outcome.decision, outcome.link_id) == ("exact", str(bob_link.pk))
    _, welcome, where = await log.wait("welcome_sent")
    assert where == defaults.WELCOME_CHANNEL_ID
    (message,) = emu.messages(defaults.WELCOME_CHANNEL_ID)
    sid = welcome.session_id

    # when they press the button and submit step 1 with a wrong number
    first = await answered(emu.click_button(user_id, message["id"], f"onb:start:{sid}"))
    assert first["modal"]["custom_id"] == f"onb:modal:{sid}:0"
    values = {"game": "go", "email": "v@example.com", "age": "old", "site": "", "platform": "PC"}
    wrong = await answered(emu.submit_modal(user_id, first["id"], values))
    told = wrong["messages"][-1]
    assert "**Age**: please enter a number" in told["content"]

    # and fix it, continue, and finish step 2
    fix = await answered(emu.click_button(user_id, told["id"], f"onb:retry:{sid}:0"))
    saved = await answered(emu.submit_modal(user_id, fix["id"], {**values, "age": "31"}))
    assert saved["messages"][-1]["content"].startswith("Step 1 of 2 saved")
    second = await answered(
        emu.click_button(user_id, saved["messages"][-1]["id"], f"onb:next:{sid}:1")
    )
    done = await answered(emu.submit_modal(user_id, second["id"], {"bio": "Hi"}))
    assert "all set" in done["messages"][-1]["content"]

    # then one conversion for bob's link, the answers and the role
    conversion = await Conversion.objects.aget(discord_user_id=user_id)
    assert conversion.link_id == bob_link.pk
    assert (await ReferralLink.objects.aget(pk=bob_link.pk)).conversions == 1
    assert await ReferralEvent.objects.filter(event_type="onboarding_start").acount() == 1
    assert await OnboardingResponse.objects.filter(discord_user_id=user_id).acount() == 5
    member = next(m for m in emu.members() if m["user"]["id"] == user_id)
    assert defaults.MEMBER_ROLE_ID in member["roles"]
    emu.assert_no_failed_interactions()
    emu.assert_no_violations()
