"""The local Discord in headless Chromium: a channel stays current without a reload."""

from __future__ import annotations

import pytest
import requests

from botworker.emulator import defaults

pytestmark = pytest.mark.browser

DESKTOP = {"width": 1280, "height": 800}
BOT = {"Authorization": f"Bot {defaults.BOT_TOKEN}"}


def post(emulator, channel_id: str, content: str) -> None:
    requests.post(
        f"{emulator.api_base}/channels/{channel_id}/messages",
        json={"content": content},
        headers=BOT,
        timeout=5,
    ).raise_for_status()


def test_a_new_message_appears_without_reloading(discord_emulator, new_page, screenshot):
    # given a member who accepted an invite, looking at #welcome in the browser
    member = discord_emulator.accept_invite(discord_emulator.create_invite().code)
    name = discord_emulator.world.users[member.user_id].username
    page = new_page(DESKTOP)
    page.goto(
        f"{discord_emulator.base_url}/channels/{defaults.WELCOME_CHANNEL_ID}?as={member.user_id}"
    )
    page.evaluate("window.stillTheSamePage = true")
    general = page.locator(f"nav a[data-channel='{defaults.GENERAL_CHANNEL_ID}']")
    assert general.get_attribute("class") in (None, "")

    # when the bot welcomes them there, and posts in #general
    post(discord_emulator, defaults.WELCOME_CHANNEL_ID, f"**Welcome**, <@{member.user_id}>!")
    post(discord_emulator, defaults.GENERAL_CHANNEL_ID, "Giveaway tonight")

    # then the welcome appears rendered, without a reload, and #general is marked as new
    page.locator("#messages strong", has_text="Welcome").wait_for()
    assert page.locator("#messages .mention").inner_text() == f"@{name}"
    page.locator(f"nav a.new[data-channel='{defaults.GENERAL_CHANNEL_ID}']").wait_for()
    assert page.evaluate("window.stillTheSamePage === true")
    screenshot(page, "local-discord-live")

    # and opening #general clears its mark
    general.click()
    page.locator("#messages", has_text="Giveaway tonight").wait_for()
    page.locator(f"nav a.current[data-channel='{defaults.GENERAL_CHANNEL_ID}']").wait_for()
    assert "new" not in (general.get_attribute("class") or "")


def test_a_button_press_answers_in_place(discord_emulator, new_page):
    # given a bot message with a button no bot answers, seen by a member in the browser
    discord_emulator.world.interaction_timeout = 0.2
    requests.post(
        f"{discord_emulator.api_base}/channels/{defaults.WELCOME_CHANNEL_ID}/messages",
        json={
            "content": "Press **Start**",
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "Start", "custom_id": "go"}],
                }
            ],
        },
        headers=BOT,
        timeout=5,
    ).raise_for_status()
    member = discord_emulator.accept_invite(discord_emulator.create_invite().code)
    page = new_page(DESKTOP)
    page.goto(
        f"{discord_emulator.base_url}/channels/{defaults.WELCOME_CHANNEL_ID}?as={member.user_id}"
    )
    page.evaluate("window.stillTheSamePage = true")

    # when they press it
    page.get_by_role("button", name="Start").click()

    # then, as on Discord, the interaction failed — said on the same page
    page.locator("#notice", has_text="This interaction failed").wait_for()
    assert page.evaluate("window.stillTheSamePage === true")
    assert discord_emulator.interaction_failures[0]["custom_id"] == "go"
