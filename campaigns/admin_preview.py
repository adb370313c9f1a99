"""Previews on the campaign's admin page: its landing page as a visitor sees it, and its welcome
message as a new member sees it in Discord (markdown and mentions rendered, with its button).

Both show the saved campaign through the code that serves the real thing (the landing template,
`analytics.joins.render_welcome`), with the campaign's first link or a sample one.
"""

from __future__ import annotations

import re

from django.template.loader import render_to_string
from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe

from analytics.joins import render_welcome
from campaigns.discord_directory import guild_directory
from campaigns.models import Campaign
from referrals.models import ReferralLink

SAMPLE_MEMBER_ID = "100000000000000001"
SAMPLE_MEMBER_NAME = "NewMember"
START_LABEL = "Start onboarding"  # the welcome's button (botworker/exts/onboarding/_views.py)

_BOLD = re.compile(r"\*\*(.+?)\*\*", re.S)
_ITALIC = re.compile(r"(?<!\*)\*(?!\*)(.+?)(?<!\*)\*(?!\*)|_(.+?)_", re.S)
_USER = re.compile(r"&lt;@!?(\d{15,20})&gt;")
_ROLE = re.compile(r"&lt;@&amp;(\d{15,20})&gt;")
_CHANNEL = re.compile(r"&lt;#(\d{15,20})&gt;")


def discord_markdown(text: str, *, members: dict[str, str], roles: dict[str, str]) -> SafeString:
    """The subset of Discord's markdown a welcome uses (bold, italics, line breaks, user, role
    and channel mentions), escaped first so a manager's text cannot inject HTML."""
    html = escape(text)
    html = _USER.sub(lambda m: f'<span class="mention">@{members.get(m[1], m[1])}</span>', html)
    html = _ROLE.sub(lambda m: f'<span class="mention">@{roles.get(m[1], m[1])}</span>', html)
    html = _CHANNEL.sub(lambda m: f'<span class="mention">#{m[1]}</span>', html)
    html = _BOLD.sub(r"<strong>\1</strong>", html)
    html = _ITALIC.sub(lambda m: f"<em>{m[1] or m[2]}</em>", html)
    return mark_safe(html.replace("\n", "<br>"))  # every piece of text was escaped above


def _sample_link(campaign: Campaign) -> ReferralLink | None:
    return campaign.links.select_related("influencer").order_by("created_at").first()


def landing_html(campaign: Campaign) -> str:
    """The landing page's HTML for the campaign's first link (or a sample one)."""
    link = _sample_link(campaign)
    influencer = "Your influencer"
    if link is None:
        link = ReferralLink(campaign=campaign, referral_code="preview", title="Preview")
        link.referral_url = link.build_url()
    else:
        influencer = link.influencer.get_full_name() or link.influencer.username
    return render_to_string(
        "referrals/landing.html",
        {
            "link": link,
            "campaign": campaign,
            "influencer_name": influencer,
            "join_url": "#",
            "oauth_url": "#",
            "join_method": campaign.join_method,
            "canonical_url": link.referral_url,
            "og_title": campaign.headline or campaign.display_title,
            "button_text_colour": campaign.button_text_colour,
        },
    )


def welcome_html(campaign: Campaign) -> SafeString:
    """The welcome message as a new member sees it in the welcome channel."""
    directory = guild_directory(campaign.guild_id)
    channels = {c.id: c.name for c in directory.channels}
    where = channels.get(campaign.welcome_channel_id) or (
        f"channel {campaign.welcome_channel_id}"
        if campaign.welcome_channel_id
        else "the server's system channel"
    )
    text = render_welcome(campaign, _sample_link(campaign), SAMPLE_MEMBER_ID)
    body = discord_markdown(
        text, members={SAMPLE_MEMBER_ID: SAMPLE_MEMBER_NAME}, roles=directory.role_names
    )
    return format_html(
        '<div class="welcome-preview" aria-label="Welcome message preview">'
        '<p class="welcome-preview__where">In {}</p>'
        '<div class="welcome-preview__message"><strong class="welcome-preview__author">'
        'Invitetrail</strong> <span class="welcome-preview__tag">APP</span>'
        '<div class="welcome-preview__text">{}</div>'
        '<span class="welcome-preview__button">{}</span></div></div>',
        where,
        body,
        START_LABEL,
    )


def previews(campaign: Campaign | None) -> SafeString:
    """Both previews for the admin page (the saved campaign; unsaved edits show once saved)."""
    if campaign is None or campaign.pk is None or campaign._state.adding:
        return format_html("{}", "Save the campaign to see its landing page and welcome message.")
    return format_html(
        '<div class="campaign-previews">'
        "<figure><figcaption>Landing page</figcaption>"
        '<iframe class="landing-preview" title="Landing page preview" sandbox '
        'srcdoc="{}" loading="lazy"></iframe></figure>'
        "<figure><figcaption>Welcome message in Discord</figcaption>{}</figure></div>",
        escape(landing_html(campaign)),  # rendered HTML (safe), but here an attribute's value
        welcome_html(campaign),
    )
