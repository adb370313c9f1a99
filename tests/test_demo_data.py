from io import StringIO

from django.contrib.auth import get_user_model
from django.core.management import call_command

from botworker.emulator import defaults as discord
from campaigns.models import Campaign, OnboardingField
from referrals.models import ReferralLink


def test_it_creates_the_demo_world_once(db, settings):
    settings.DEBUG = True
    out = StringIO()
    call_command("demo_data", stdout=out)
    call_command("demo_data", stdout=StringIO())

    campaign = Campaign.objects.get()
    assert (campaign.guild_id, campaign.channel_id) == (discord.GUILD_ID, discord.INVITE_CHANNEL_ID)
    assert campaign.display_title == "Summer Drop"  # what visitors read, without "(demo)"
    assert OnboardingField.objects.filter(campaign=campaign).count() == 3
    assert ReferralLink.objects.count() == 6
    assert ReferralLink.objects.values("influencer").distinct().count() == 3
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("invitetrail-demo")
    assert "admin / invitetrail-demo" in out.getvalue()
    for link in ReferralLink.objects.all():
        assert link.referral_url in out.getvalue()


def test_it_lets_a_person_sign_in_as_an_influencer_in_debug(db, settings):
    from campaigns.scoping import is_influencer

    settings.DEBUG = True
    out = StringIO()
    call_command("demo_data", stdout=out)
    ava = get_user_model().objects.get(username="ava")
    assert ava.is_staff and not ava.is_superuser and is_influencer(ava)
    assert ava.check_password("invitetrail-demo")
    assert "ava, ben, cara / invitetrail-demo" in out.getvalue()


def test_it_creates_no_superuser_outside_debug(db, settings):
    settings.DEBUG = False
    call_command("demo_data", stdout=StringIO())
    assert not get_user_model().objects.filter(is_superuser=True).exists()
    assert not get_user_model().objects.get(username="ava").has_usable_password()
