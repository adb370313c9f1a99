"""The campaign's admin page previews its landing page and its welcome message as a visitor
and a new member will see them."""

import html

from django.urls import reverse

from botworker.emulator import defaults as discord
from campaigns.admin_preview import discord_markdown


def campaign_page(client, campaign) -> str:
    return client.get(
        reverse("admin:campaigns_campaign_change", args=[campaign.pk])
    ).content.decode()


def test_it_previews_the_landing_page_as_a_visitor_sees_it(client, alice, campaign, bob_link):
    # given a campaign with a public title and its own button label
    campaign.public_title = "The Launch"
    campaign.button_label = "Claim my spot"
    campaign.save()
    client.force_login(alice)

    page = campaign_page(client, campaign)

    # then its landing page is in a sandboxed frame: headline, label, the influencer's name
    srcdoc = html.unescape(page.split('srcdoc="', 1)[1].split('"', 1)[0])
    assert "<iframe" in page and " sandbox " in page
    assert '<h1 id="headline" class="headline">Join the launch</h1>' in srcdoc
    assert "Claim my spot" in srcdoc
    assert "Shared by <strong>bob</strong>" in srcdoc
    assert '<meta property="og:site_name" content="The Launch">' in srcdoc


def test_it_previews_the_welcome_as_a_new_member_sees_it(
    client, alice, campaign, bob_link, discord_emulator
):
    campaign.welcome_message = "Hey {member}! **{campaign}** says hi, via {influencer}. <b>x</b>"
    campaign.save()
    client.force_login(alice)

    page = campaign_page(client, campaign)

    assert '<p class="welcome-preview__where">In #welcome</p>' in page
    assert (
        'Hey <span class="mention">@NewMember</span>! <strong>Launch</strong> says hi, via bob.'
        " &lt;b&gt;x&lt;/b&gt;" in page
    )
    assert '<span class="welcome-preview__button">Start onboarding</span>' in page


def test_a_new_campaign_has_nothing_to_preview_yet(client, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:campaigns_campaign_add")).content.decode()
    assert "Save the campaign to see its landing page and welcome message." in page


def test_it_renders_discords_markdown_and_mentions_safely():
    text = f"**Hi** <@42000000000000000> and <@&{discord.MEMBER_ROLE_ID}>\n*new* <script>"
    shown = discord_markdown(
        text, members={"42000000000000000": "Ada"}, roles={discord.MEMBER_ROLE_ID: "Member"}
    )
    assert shown == (
        '<strong>Hi</strong> <span class="mention">@Ada</span> and '
        '<span class="mention">@Member</span><br><em>new</em> &lt;script&gt;'
    )
