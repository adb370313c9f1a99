"""Conversions: exactly one per member and campaign, the counter, and the campaign's roles."""

import logging
from datetime import UTC, datetime, timedelta

import pytest
from kombu.exceptions import OperationalError

from analytics import onboarding
from analytics.conversions import record_conversion
from analytics.joins import record_join
from analytics.models import Conversion, ReferralEvent
from analytics.tasks import (
    conversion_side_effects_task,
    record_conversion_task,
    sweep_conversions_task,
)
from botworker.emulator import defaults as discord


@pytest.fixture
def member(discord_emulator):
    """A real member of the emulator's guild (joined through an organic invite)."""
    invite = discord_emulator.create_invite(max_uses=0)
    return discord_emulator.accept_invite(invite.code).user_id


@pytest.fixture
def session_id(bob_link, member):
    return record_join(
        guild_id=discord.GUILD_ID,
        member_id=member,
        username="newbie",
        joined_at=datetime(2026, 11, 24, tzinfo=UTC),
        decision="exact",
        link_id=str(bob_link.pk),
    ).welcome.session_id


def roles_of(emulator, user_id):
    return next(m["roles"] for m in emulator.members() if m["user"]["id"] == user_id)


def test_it_records_one_conversion_with_the_link_and_code(bob_link, session_id):
    conversion, created = record_conversion(session_id)
    again, created_again = record_conversion(session_id)

    bob_link.refresh_from_db()
    assert (created, created_again) == (True, False)
    assert again.pk == conversion.pk
    assert (conversion.link, conversion.referral_code) == (bob_link, bob_link.referral_code)
    assert bob_link.conversions == 1
    event = ReferralEvent.objects.get(event_type="conversion")
    assert event.metadata["referral_code"] == bob_link.referral_code


def test_the_task_run_twice_converts_once_and_gives_the_roles(
    bob_link, session_id, member, discord_emulator
):
    record_conversion_task.apply([session_id])
    record_conversion_task.apply([session_id])

    bob_link.refresh_from_db()
    assert bob_link.conversions == 1
    assert Conversion.objects.get().roles_assigned == [discord.MEMBER_ROLE_ID]
    assert discord.MEMBER_ROLE_ID in roles_of(discord_emulator, member)


def test_a_role_above_the_bot_is_logged_and_the_conversion_stands(
    bob_link, session_id, member, discord_emulator, caplog
):
    bob_link.campaign.target_role_ids = [discord.ADMIN_ROLE_ID, discord.PARTICIPANT_ROLE_ID]
    bob_link.campaign.save()

    with caplog.at_level(logging.ERROR, logger="analytics.conversions"):
        record_conversion_task.apply([session_id])

    conversion = Conversion.objects.get()
    assert conversion.roles_assigned == [discord.PARTICIPANT_ROLE_ID]
    assert discord.ADMIN_ROLE_ID not in roles_of(discord_emulator, member)
    assert any(
        discord.ADMIN_ROLE_ID in r.getMessage() and "above the bot" in r.getMessage()
        for r in caplog.records
    )


def test_a_conversion_for_an_unknown_session_is_ignored(db):
    assert record_conversion("no-such-session") == (None, False)
    assert Conversion.objects.count() == 0


def complete(session_id, member):
    """The member answers the campaign's only field: the last step, so the onboarding ends."""
    return onboarding.submit(session_id, member, 0, {"game": "Chess"})


def backdate_conversions(minutes=11):
    """As if the conversions had been queued `minutes` ago (the sweep waits for retries)."""
    then = datetime.now(UTC) - timedelta(minutes=minutes)
    Conversion.objects.update(created_at=then, side_effects_queued_at=then)


def test_a_broker_that_is_down_leaves_exactly_one_conversion_and_the_sweep_gives_the_roles(
    bob_link,
    session_id,
    member,
    discord_emulator,
    django_capture_on_commit_callbacks,
    eager_celery,
    monkeypatch,
):
    def broker_down(*args, **kwargs):
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    with monkeypatch.context() as down:
        down.setattr(conversion_side_effects_task, "delay", broker_down)
        with django_capture_on_commit_callbacks(execute=True):
            outcome = complete(session_id, member)
        with django_capture_on_commit_callbacks(execute=True):
            again = complete(session_id, member)

    bob_link.refresh_from_db()
    assert (outcome.status, again.status) == ("done", "completed")
    assert Conversion.objects.count() == 1 and bob_link.conversions == 1
    assert ReferralEvent.objects.filter(event_type="conversion").count() == 1
    assert Conversion.objects.get().side_effects_done_at is None
    assert discord.MEMBER_ROLE_ID not in roles_of(discord_emulator, member)

    backdate_conversions()
    sweep_conversions_task.apply()

    conversion = Conversion.objects.get()
    assert conversion.side_effects_done_at is not None
    assert conversion.roles_assigned == [discord.MEMBER_ROLE_ID]
    assert discord.MEMBER_ROLE_ID in roles_of(discord_emulator, member)


def test_an_eager_task_that_cannot_reach_discord_keeps_the_conversion_for_the_sweep(
    bob_link,
    session_id,
    member,
    discord_emulator,
    django_capture_on_commit_callbacks,
    eager_celery,
    settings,
):
    settings.DISCORD_BOT_TOKEN = ""  # every Discord call fails at once
    with django_capture_on_commit_callbacks(execute=True):
        assert complete(session_id, member).status == "done"
    assert Conversion.objects.get().side_effects_done_at is None

    settings.DISCORD_BOT_TOKEN = discord.BOT_TOKEN
    sweep_conversions_task.apply()  # too recent: the queued task may still be on its way
    assert Conversion.objects.get().side_effects_done_at is None
    backdate_conversions()
    sweep_conversions_task.apply()

    assert Conversion.objects.get().side_effects_done_at is not None
    assert discord.MEMBER_ROLE_ID in roles_of(discord_emulator, member)
    bob_link.refresh_from_db()
    assert bob_link.conversions == 1


def test_the_sweep_recovers_a_session_completed_without_its_conversion(
    bob_link, session_id, member, discord_emulator, eager_celery
):
    from analytics.models import OnboardingSession

    OnboardingSession.objects.filter(pk=session_id).update(
        status="completed", completed_at=datetime.now(UTC)
    )

    sweep_conversions_task.apply()
    sweep_conversions_task.apply()

    bob_link.refresh_from_db()
    assert Conversion.objects.count() == 1 and bob_link.conversions == 1
    assert discord.MEMBER_ROLE_ID in roles_of(discord_emulator, member)


def test_side_effects_run_once_however_often_they_are_queued(session_id, member, discord_emulator):
    conversion, _ = record_conversion(session_id)

    assert conversion_side_effects_task.apply([conversion.pk]).get() is True
    assert conversion_side_effects_task.apply([conversion.pk]).get() is False
    assert discord_emulator.calls["PUT /guilds/{guild_id}/members/{user_id}/roles/{role_id}"] == 1


def test_sweeps_during_an_outage_queue_each_conversion_once_per_retry_window(
    session_id, member, discord_emulator, eager_celery, settings
):
    # given a conversion whose roles wait while Discord cannot be reached
    record_conversion(session_id)
    settings.DISCORD_BOT_TOKEN = ""
    backdate_conversions()

    # when the sweep runs every minute, then it queues the conversion once, not every time
    assert sweep_conversions_task.apply().get() == {"recovered": 0, "queued": 1}
    assert sweep_conversions_task.apply().get() == {"recovered": 0, "queued": 0}
    assert Conversion.objects.get().side_effects_done_at is None
