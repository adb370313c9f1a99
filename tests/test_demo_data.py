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
    assert OnboardingField.objects.filter(campaign=campaign).count() == 3
    assert ReferralLink.objects.count() == 6
    assert ReferralLink.objects.values("influencer").distinct().count() == 3
    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("invitetrail-demo")
    assert "admin / invitetrail-demo" in out.getvalue()
    for link in ReferralLink.objects.all():
        assert link.referral_url in out.getvalue()


def test_it_creates_no_superuser_outside_debug(db, settings):
    settings.DEBUG = False
    call_command("demo_data", stdout=StringIO())
    assert not get_user_model().objects.filter(is_superuser=True).exists()
