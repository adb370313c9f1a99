"""The campaign form in headless Chromium: channel and roles picked by name from the bot's view
of the guild (the local Discord), saved, and the form fits a 1280 px screen."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from botworker.emulator import defaults as discord

if TYPE_CHECKING:
    from playwright.sync_api import Page

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

DESKTOP = {"width": 1280, "height": 900}


def open_campaign(page: Page, base: str, campaign) -> None:
    page.goto(f"{base}/admin/login/?next=/admin/campaigns/campaign/{campaign.pk}/change/")
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("alice-pw-123")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"**/admin/campaigns/campaign/{campaign.pk}/change/")


def test_a_manager_picks_a_channel_and_roles_by_name_and_saves(
    live_server, alice, campaign, discord_emulator, new_page, screenshot
):
    # given the manager on the campaign's page, the bot seeing the demo server
    page = new_page(DESKTOP)
    open_campaign(page, live_server.url, campaign)
    assert page.locator("#id_guild_id").input_value() == discord.GUILD_ID

    # when they pick #general for invites, Campaign Participant on joining and conversion
    page.locator("#id_channel_id").select_option(label="#general")
    join_roles = page.locator('[data-picker-for="join_role_ids"]')
    join_roles.get_by_label("Campaign Participant").check()
    target_roles = page.locator('[data-picker-for="target_role_ids"]')
    target_roles.get_by_label("Campaign Participant").check()
    screenshot(page, "campaign-form-pickers")
    page.get_by_role("button", name="Save and continue editing").click()
    page.wait_for_load_state()

    # then the ids are saved, and the form shows them chosen again
    assert page.locator(".messagelist .success").is_visible()
    campaign.refresh_from_db()
    assert campaign.channel_id == discord.GENERAL_CHANNEL_ID
    assert campaign.join_role_ids == [discord.PARTICIPANT_ROLE_ID]
    assert campaign.target_role_ids == [discord.PARTICIPANT_ROLE_ID, discord.MEMBER_ROLE_ID]
    assert page.locator("#id_channel_id").input_value() == discord.GENERAL_CHANNEL_ID
    assert target_roles.get_by_label("Member", exact=True).is_checked()


def test_changing_the_server_refills_the_lists(
    live_server, alice, campaign, discord_emulator, new_page
):
    page = new_page(DESKTOP)
    open_campaign(page, live_server.url, campaign)
    channels = page.locator("#id_channel_id option")
    assert channels.count() == 4  # the blank choice and three channels

    # no server chosen: the lists empty out and say why
    page.locator("#id_guild_id").select_option(value="")
    page.locator('[data-picker-for="channel_id"] .picker__error').wait_for()
    assert channels.count() == 1
    assert page.locator('[data-picker-for="join_role_ids"] input[type=checkbox]').count() == 0

    # the server again: its channels and roles are back, by name
    page.locator("#id_guild_id").select_option(value=discord.GUILD_ID)
    page.locator("#id_channel_id option", has_text="#general").wait_for(state="attached")
    assert channels.count() == 4
    assert page.locator('[data-picker-for="channel_id"] .picker__error').count() == 0
    roles = page.locator('[data-picker-for="join_role_ids"]')
    assert roles.get_by_label("Member", exact=True).count() == 1


def test_the_campaign_form_fits_a_1280_px_screen(
    live_server, alice, campaign, discord_emulator, new_page
):
    page = new_page(DESKTOP)
    open_campaign(page, live_server.url, campaign)

    width = page.evaluate("document.documentElement.scrollWidth")

    assert width <= DESKTOP["width"]
