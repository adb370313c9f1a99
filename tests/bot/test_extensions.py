"""Every extension of the bot loads: the meta-test."""

import importlib

import nextcord
import pytest

from botworker.bot import EXTENSIONS, InvitetrailBot, build_bot


def test_it_lists_an_existing_package_for_every_extension():
    # given the extension list / when each is imported / then it offers nextcord's `setup`
    for name in EXTENSIONS:
        module = importlib.import_module(name)
        assert callable(module.setup), name


@pytest.mark.django_db
def test_it_loads_every_extension_into_a_bot(settings, monkeypatch):
    # given the production settings' API base (Route.BASE is restored after the test)
    monkeypatch.setattr(nextcord.http.Route, "BASE", nextcord.http.Route.BASE)
    settings.DISCORD_API_BASE = "http://127.0.0.1:9/api/v10"

    # when the bot is built
    bot = build_bot()

    # then every extension is loaded and the bot asks for no message content
    assert isinstance(bot, InvitetrailBot)
    assert sorted(bot.extensions) == sorted(EXTENSIONS)
    assert {"InviteTracking", "StartupReport"} <= set(bot.cogs)
    assert bot.intents.members and bot.intents.invites and bot.intents.guilds
    assert not bot.intents.message_content
    assert nextcord.http.Route.BASE == "http://127.0.0.1:9/api/v10"
