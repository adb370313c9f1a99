"""Shared personas and objects.

alice manages campaigns (superuser); bob and charlie are influencers with a link each.
"""

import pytest
from django.contrib.auth import get_user_model

from botworker.emulator import defaults as discord
from campaigns.models import Campaign, OnboardingField
from referrals.models import ReferralLink


@pytest.fixture
def alice(db):
    return get_user_model().objects.create_superuser("alice", "alice@example.com", "alice-pw-123")


@pytest.fixture
def bob(db):
    return get_user_model().objects.create_user("bob", "bob@example.com", "bob-pw-123")


@pytest.fixture
def charlie(db):
    return get_user_model().objects.create_user("charlie", "charlie@example.com", "charlie-pw-1")


@pytest.fixture
def campaign(db):
    campaign = Campaign.objects.create(
        campaign_name="Launch",
        guild_id=discord.GUILD_ID,
        channel_id=discord.INVITE_CHANNEL_ID,
        welcome_channel_id=discord.WELCOME_CHANNEL_ID,
        headline="Join the launch",
        offer_title="Early access",
        description="Be first.",
        highlights="Beta access\nGiveaways",
        auto_role_assignment=True,
        target_role_ids=[discord.MEMBER_ROLE_ID],
    )
    OnboardingField.objects.create(campaign=campaign, key="game", label="Favourite game", order=0)
    return campaign


@pytest.fixture
def bob_link(campaign, bob):
    return ReferralLink.objects.create(
        campaign=campaign, influencer=bob, title="Bob on YouTube", platform="youtube"
    )


@pytest.fixture
def charlie_link(campaign, charlie):
    return ReferralLink.objects.create(
        campaign=campaign, influencer=charlie, title="Charlie on X", platform="x"
    )
