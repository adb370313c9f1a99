"""Conversions: exactly one per member and campaign, the counter, and the campaign's roles."""

import logging
from datetime import UTC, datetime

import pytest

from analytics.conversions import record_conversion
from analytics.joins import record_join
from analytics.models import Conversion, ReferralEvent
from analytics.tasks import record_conversion_task
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
