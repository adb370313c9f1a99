"""Shared personas and objects.

alice manages campaigns (superuser); bob and charlie are influencers with a link each.
"""

import pytest
from django.contrib.auth import get_user_model

from botworker.emulator import defaults as discord
from campaigns.models import Campaign, OnboardingField
from referrals.models import ReferralLink


def pytest_configure(config):
    """Personas are created per test: Django's default hasher (PBKDF2, a million rounds) made
    each of them cost a third of a second, most of a simple test's time. Tests check who may log
    in and what they see, not the hash's strength; production keeps Django's default."""
    from django.conf import settings

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


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


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Rate-limit windows and locks live in the cache: every test starts with an empty one (and
    with no cached links or Discord pacing windows of earlier tests)."""
    from django.core.cache import cache

    from botworker.discord_rest import pacing
    from referrals.links import forget_local_links

    cache.clear()
    forget_local_links()
    # A bot built by an earlier test must not pace this test's REST calls with its window.
    pacing._process_window = None
    pacing._local.clear()
    yield
    cache.clear()
    forget_local_links()


@pytest.fixture(autouse=True)
def _clicks_written_directly(settings):
    """Tests read a click's event right after the request, so clicks are written as they happen
    unless a test asks for the Redis buffer (`click_buffer`, tests/test_click_buffer.py)."""
    settings.CLICK_BUFFER = False


@pytest.fixture
def click_buffer(settings):
    """Landing-page clicks go into the Redis stream (REDIS_URL needed), drained by hand."""
    if not settings.REDIS_URL:
        pytest.skip("the click buffer is a Redis stream: set REDIS_URL=redis://… to run")
    from analytics.clicks import _buffer

    settings.CLICK_BUFFER = True
    conn = _buffer.client()
    conn.delete(_buffer.STREAM, _buffer.DEAD, _buffer.DRAINED_AT)
    yield conn
    conn.delete(_buffer.STREAM, _buffer.DEAD, _buffer.DRAINED_AT)


@pytest.fixture(scope="session")
def _emulator_thread():
    from botworker.emulator.server import Emulator

    handle = Emulator.run_in_thread()
    yield handle
    handle.stop()


@pytest.fixture
def discord_emulator(_emulator_thread, settings, monkeypatch):
    """The local Discord, freshly reset, with the app's settings pointed at it.

    Faults are injected on its loop: `discord_emulator.call(discord_emulator.faults.X, …)`.
    """
    from botworker import discord_rest

    _emulator_thread.reset()
    # A fresh REST client too: rate-limit state learned in one test must not leak into the next.
    monkeypatch.setattr(discord_rest, "_client", None)
    settings.DISCORD_API_BASE = _emulator_thread.api_base
    settings.DISCORD_BOT_TOKEN = discord.BOT_TOKEN
    settings.DISCORD_INVITE_BASE = f"{_emulator_thread.base_url}/invite"
    settings.DISCORD_CLIENT_ID = discord.APPLICATION_ID
    settings.DISCORD_CLIENT_SECRET = discord.CLIENT_SECRET
    return _emulator_thread


@pytest.fixture
def eager_celery(settings):
    """Run tasks in-process even when REDIS_URL points Celery at a real broker."""
    from config.celery import app

    before = app.conf.task_always_eager
    settings.CELERY_TASK_ALWAYS_EAGER = app.conf.task_always_eager = True
    yield
    app.conf.task_always_eager = before


@pytest.fixture
def influencers(bob, charlie):
    """bob and charlie as the admin knows them: staff in the Influencers group."""
    from campaigns.scoping import make_influencer

    for user in (bob, charlie):
        make_influencer(user)
    return bob, charlie


@pytest.fixture
def webhook_receiver(settings):
    """A real HTTP receiver on loopback (tests/webhook_support.py), with http to loopback
    allowed for webhook endpoints as in development."""
    from tests.webhook_support import start_receiver

    settings.WEBHOOK_ALLOW_HTTP_LOOPBACK = True
    receiver, server = start_receiver()
    yield receiver
    server.shutdown()
    server.server_close()
