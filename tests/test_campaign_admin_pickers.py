"""The campaign form picks server, channels and roles by name from the bot's view of the guild
(the local Discord), and still takes typed ids when the bot cannot see it."""

import pytest
from django.urls import reverse

from botworker.emulator import defaults as discord
from campaigns.models import Campaign

CHANNELS_ROUTE = "GET /guilds/{guild_id}/channels"


def change_url(campaign) -> str:
    return reverse("admin:campaigns_campaign_change", args=[campaign.pk])


def form_data(campaign, **changes) -> dict:
    """What the browser sends for the campaign's form, unchanged but for `changes`."""
    data = {
        "campaign_name": campaign.campaign_name,
        "public_title": "",
        "is_active": "on",
        "guild_id": campaign.guild_id,
        "channel_id": campaign.channel_id,
        "welcome_channel_id": campaign.welcome_channel_id,
        "welcome_message": campaign.welcome_message,
        "headline": campaign.headline,
        "brand_color": campaign.brand_color,
        "button_label": campaign.button_label,
        "join_method": campaign.join_method,
        "invite_max_age_seconds": campaign.invite_max_age_seconds,
        "invite_pool_size": campaign.invite_pool_size,
        "referral_roles": campaign.referral_roles,
        "referral_role_name": campaign.referral_role_name,
        "auto_role_assignment": "on",
        "target_role_ids": campaign.target_role_ids,
        "fields-TOTAL_FORMS": "0",
        "fields-INITIAL_FORMS": "0",
        "fields-MIN_NUM_FORMS": "0",
        "fields-MAX_NUM_FORMS": "1000",
    }
    data.update(changes)
    return data


def test_it_lists_the_servers_channels_and_roles_the_bot_sees(
    client, alice, campaign, discord_emulator
):
    client.force_login(alice)

    page = client.get(change_url(campaign)).content.decode()

    # the server by name, chosen
    assert f'<option value="{discord.GUILD_ID}" selected>{discord.GUILD_NAME}</option>' in page
    # the channels by name, the saved ones chosen
    assert f'<option value="{discord.INVITE_CHANNEL_ID}" selected>#start-here</option>' in page
    assert f'<option value="{discord.WELCOME_CHANNEL_ID}" selected>#welcome</option>' in page
    assert f'<option value="{discord.GENERAL_CHANNEL_ID}">#general</option>' in page
    # the roles as boxes, the saved target role ticked; no @everyone, no bot-managed role
    assert (
        f'<input type="checkbox" name="target_role_ids" value="{discord.MEMBER_ROLE_ID}" checked>'
        " Member" in page
    )
    assert f'name="join_role_ids" value="{discord.PARTICIPANT_ROLE_ID}">' in page
    assert f'value="{discord.GUILD_ID}">' not in page.split('name="join_role_ids"', 1)[1]
    assert f'value="{discord.BOT_ROLE_ID}"' not in page
    # a role above the bot's own is marked: Discord would refuse to give it
    assert (
        f'value="{discord.ADMIN_ROLE_ID}"> Admin (above the bot&#x27;s highest role: it cannot '
        "give it)</label>" in page
    )
    assert "3 channels and 3 roles in this server." in page


def test_choosing_a_channel_and_roles_saves_their_ids(client, alice, campaign, discord_emulator):
    client.force_login(alice)

    response = client.post(
        change_url(campaign),
        form_data(
            campaign,
            channel_id=discord.GENERAL_CHANNEL_ID,
            welcome_channel_id="",
            join_role_ids=[discord.PARTICIPANT_ROLE_ID],
            target_role_ids=[discord.MEMBER_ROLE_ID, discord.PARTICIPANT_ROLE_ID],
        ),
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    campaign.refresh_from_db()
    assert campaign.channel_id == discord.GENERAL_CHANNEL_ID
    assert campaign.welcome_channel_id == ""
    assert campaign.join_role_ids == [discord.PARTICIPANT_ROLE_ID]
    assert campaign.target_role_ids == [discord.MEMBER_ROLE_ID, discord.PARTICIPANT_ROLE_ID]


def test_a_typed_id_wins_over_the_list(client, alice, campaign, discord_emulator):
    client.force_login(alice)

    response = client.post(
        change_url(campaign),
        form_data(
            campaign,
            channel_id=discord.INVITE_CHANNEL_ID,
            channel_id_typed="1300000000000000999",
            target_role_ids=[discord.MEMBER_ROLE_ID],
            target_role_ids_typed="1300000000000000998, 1300000000000000997",
        ),
    )

    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.channel_id == "1300000000000000999"
    assert campaign.target_role_ids == [
        discord.MEMBER_ROLE_ID,
        "1300000000000000998",
        "1300000000000000997",
    ]
    # shown back as not visible to the bot, still chosen
    page = client.get(change_url(campaign)).content.decode()
    assert "1300000000000000999 (not visible to the bot)" in page


def test_a_typed_id_that_is_not_a_snowflake_is_refused_and_nothing_saved(
    client, alice, campaign, discord_emulator
):
    client.force_login(alice)

    response = client.post(
        change_url(campaign), form_data(campaign, target_role_ids_typed="Member, 42")
    )

    assert response.status_code == 200
    assert "&#x27;Member&#x27; is not a Discord id" in response.content.decode()
    campaign.refresh_from_db()
    assert campaign.target_role_ids == [discord.MEMBER_ROLE_ID]


def test_without_a_bot_token_the_form_says_so_and_takes_typed_ids(
    client, alice, campaign, settings
):
    settings.DISCORD_BOT_TOKEN = ""
    client.force_login(alice)

    page = client.get(change_url(campaign)).content.decode()
    assert "The bot has no token (DISCORD_BOT_TOKEN is empty)" in page
    assert '<select name="guild_id"' not in page
    assert f'name="guild_id_typed" id="id_guild_id_typed" value="{discord.GUILD_ID}"' in page

    response = client.post(
        change_url(campaign),
        form_data(
            campaign,
            guild_id="",
            guild_id_typed=discord.GUILD_ID,
            channel_id="",
            channel_id_typed=discord.GENERAL_CHANNEL_ID,
            target_role_ids=[],
            target_role_ids_typed=f"{discord.PARTICIPANT_ROLE_ID}",
        ),
    )
    assert response.status_code == 302
    campaign.refresh_from_db()
    assert campaign.channel_id == discord.GENERAL_CHANNEL_ID
    assert campaign.target_role_ids == [discord.PARTICIPANT_ROLE_ID]


def test_when_discord_fails_the_form_says_so_and_keeps_the_typed_ids(
    client, alice, campaign, discord_emulator
):
    discord_emulator.call(
        discord_emulator.faults.inject_failure, "GET /guilds/*/channels", status=500, count=None
    )
    client.force_login(alice)

    page = client.get(change_url(campaign)).content.decode()

    assert "Discord did not answer for server" in page
    assert (
        f'name="channel_id_typed" id="id_channel_id_typed" value="{discord.INVITE_CHANNEL_ID}"'
        in page
    )
    # a reload does not wait on the failing Discord again; asking to refresh does
    asked = discord_emulator.calls[CHANNELS_ROUTE]
    assert "Discord did not answer" in client.get(change_url(campaign)).content.decode()
    assert discord_emulator.calls[CHANNELS_ROUTE] == asked
    client.get(change_url(campaign), {"refresh_directory": "1"})
    assert discord_emulator.calls[CHANNELS_ROUTE] > asked


def test_it_caches_the_bots_view_and_refreshes_on_demand(client, alice, campaign, discord_emulator):
    client.force_login(alice)
    client.get(change_url(campaign))
    asked = discord_emulator.calls[CHANNELS_ROUTE]
    discord_emulator.create_role("Raid leaders")

    cached = client.get(change_url(campaign)).content.decode()
    assert discord_emulator.calls[CHANNELS_ROUTE] == asked
    assert "Raid leaders" not in cached

    fresh = client.get(change_url(campaign), {"refresh_directory": "1"}).content.decode()
    assert discord_emulator.calls[CHANNELS_ROUTE] == asked + 1
    assert "Raid leaders" in fresh


def test_the_form_script_reads_another_servers_lists(client, alice, discord_emulator):
    client.force_login(alice)
    url = reverse("admin:campaigns_campaign_discord_directory")

    found = client.get(url, {"guild_id": discord.GUILD_ID}).json()
    assert {"id": discord.GENERAL_CHANNEL_ID, "name": "#general", "note": ""} in found["channels"]
    assert {"id": discord.MEMBER_ROLE_ID, "name": "Member", "note": ""} in found["roles"]
    assert found["error"] == ""

    unknown = client.get(url, {"guild_id": "1300000000000000777"}).json()
    assert unknown["channels"] == [] and unknown["error"]


def test_the_directory_is_for_staff_only(client, discord_emulator):
    url = reverse("admin:campaigns_campaign_discord_directory")
    assert client.get(url, {"guild_id": discord.GUILD_ID}).status_code == 302


def test_a_new_campaign_starts_on_the_bots_only_server(client, alice, discord_emulator):
    client.force_login(alice)

    page = client.get(reverse("admin:campaigns_campaign_add")).content.decode()

    assert f'<option value="{discord.GUILD_ID}" selected>{discord.GUILD_NAME}</option>' in page
    assert '<option value="" selected>The server&#x27;s system channel</option>' in page
    assert "#start-here" in page
    assert Campaign.objects.count() == 0


@pytest.mark.parametrize("user", ["bob"])
def test_an_influencer_cannot_read_the_directory(client, influencers, discord_emulator, user):
    bob, _ = influencers
    client.force_login(bob)
    url = reverse("admin:campaigns_campaign_discord_directory")
    assert client.get(url, {"guild_id": discord.GUILD_ID}).status_code == 403
