"""The database itself refuses what would make the numbers wrong."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F

from analytics.models import Conversion, OnboardingResponse, ReferralEvent
from campaigns.models import Campaign
from referrals.models import ManagedInvite, ReferralLink


def test_it_keeps_a_links_code_and_counters_when_a_copy_claims_its_code(bob_link, charlie):
    # Given a link with a click, when another link is saved with the same code
    ReferralLink.objects.filter(pk=bob_link.pk).update(clicks=1)
    clone = ReferralLink(campaign=bob_link.campaign, influencer=charlie, title="Copy")
    clone.referral_code = bob_link.referral_code
    with pytest.raises(IntegrityError), transaction.atomic():
        clone.save()
    # then the code still leads to the original link alone, its count intact
    assert list(
        ReferralLink.objects.filter(referral_code=bob_link.referral_code).values_list(
            "influencer__username", "clicks"
        )
    ) == [("bob", 1)]


@pytest.mark.parametrize("counter", ["clicks", "conversions"])
def test_it_refuses_a_negative_counter(bob_link, counter):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralLink.objects.filter(pk=bob_link.pk).update(**{counter: F(counter) - 1})
    bob_link.refresh_from_db()
    assert getattr(bob_link, counter) == 0


def test_it_refuses_an_unknown_event_type(bob_link):
    with pytest.raises(IntegrityError), transaction.atomic():
        ReferralEvent.objects.create(link=bob_link, event_type="purchase")
    assert ReferralEvent.objects.count() == 0


def test_it_accepts_every_known_event_type(bob_link):
    for event_type in ReferralEvent.EventType.values:
        ReferralEvent.objects.create(link=bob_link, event_type=event_type)
    assert ReferralEvent.objects.count() == len(ReferralEvent.EventType.values)


def test_it_refuses_a_second_conversion_for_the_same_member(campaign, bob_link):
    Conversion.objects.create(campaign=campaign, link=bob_link, discord_user_id="1" * 18)
    with pytest.raises(IntegrityError), transaction.atomic():
        Conversion.objects.create(campaign=campaign, discord_user_id="1" * 18)
    assert Conversion.objects.count() == 1


def test_it_keeps_one_answer_per_member_and_field(campaign):
    OnboardingResponse.objects.create(
        campaign=campaign, discord_user_id="2" * 18, field_key="game", value="Chess"
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        OnboardingResponse.objects.create(
            campaign=campaign, discord_user_id="2" * 18, field_key="game", value="Go"
        )
    assert list(OnboardingResponse.objects.values_list("value", flat=True)) == ["Chess"]


def test_it_refuses_an_assigned_invite_without_a_link(campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        ManagedInvite.objects.create(
            campaign=campaign,
            discord_invite_code="abc123",
            discord_invite_url="https://discord.gg/abc123",
            guild_id=campaign.guild_id,
            channel_id=campaign.channel_id,
            status=ManagedInvite.Status.ASSIGNED,
        )
    assert not ManagedInvite.objects.exists()


def test_it_refuses_an_invite_lifetime_outside_discords_range(campaign):
    with pytest.raises(IntegrityError), transaction.atomic():
        Campaign.objects.filter(pk=campaign.pk).update(invite_max_age_seconds=604_801)
    campaign.refresh_from_db()
    assert campaign.invite_max_age_seconds <= 604_800


def test_it_rejects_a_malformed_snowflake_in_the_form(campaign):
    campaign.guild_id = "12345"
    campaign.target_role_ids = ["1300000000000000300", "role"]
    with pytest.raises(ValidationError) as caught:
        campaign.full_clean()
    assert set(caught.value.message_dict) == {"guild_id", "target_role_ids"}


def test_it_protects_a_link_with_history_from_deletion(bob_link):
    from django.db.models import ProtectedError

    ReferralEvent.objects.create(link=bob_link, event_type="click")
    with pytest.raises(ProtectedError):
        bob_link.delete()
    assert ReferralLink.objects.filter(pk=bob_link.pk).exists()


def test_the_referral_url_a_manager_copies_opens_the_links_landing_page(
    campaign, bob, client, settings
):
    # given the site's public address, when a link is created
    settings.PUBLIC_BASE_URL = "https://join.example.com"
    link = ReferralLink.objects.create(campaign=campaign, influencer=bob, title="Bob")
    # then its URL is on that address, and its path is the link's landing page
    base, _, path = link.referral_url.partition("://join.example.com")
    assert base == "https" and path.startswith("/r/")
    response = client.get(path, HTTP_USER_AGENT="Mozilla/5.0 (Windows NT 10.0) Chrome/120.0")
    assert response.status_code == 200 and "Join the launch" in response.content.decode()


def test_campaign_state_follows_its_dates(campaign):
    from datetime import timedelta

    from django.utils import timezone

    now = timezone.now()
    assert campaign.state(now) == "live"
    campaign.ends_at = now - timedelta(minutes=1)
    assert campaign.state(now) == "ended"
    campaign.ends_at, campaign.starts_at = None, now + timedelta(days=1)
    assert campaign.state(now) == "not_started"
    campaign.is_active = False
    assert campaign.state(now) == "inactive"


def test_it_validates_join_roles_like_conversion_roles(campaign):
    campaign.join_role_ids = ["not-a-role"]
    with pytest.raises(ValidationError) as refused:
        campaign.full_clean()
    assert "join_role_ids" in refused.value.message_dict


def test_it_refuses_an_unknown_join_method(campaign):
    campaign.join_method = "pigeon"
    with pytest.raises(IntegrityError), transaction.atomic():
        campaign.save()
    assert Campaign.objects.get(pk=campaign.pk).join_method != "pigeon"
