""" "Join with Discord" (referrals/oauth.py and its two views) against the local Discord."""

import html
import time
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import signing
from django.test import Client

from analytics.models import OnboardingSession, ReferralEvent
from botworker.emulator import defaults as discord
from campaigns.models import JoinMethod
from referrals import oauth
from referrals.models import ManagedInvite, OAuthJoinAttempt
from tests.oauth_support import consent, join_with_discord, start


@pytest.fixture
def oauth_link(bob_link):
    campaign = bob_link.campaign
    campaign.join_method = JoinMethod.BOTH
    campaign.join_role_ids = [discord.PARTICIPANT_ROLE_ID]
    campaign.invite_pool_size = 0
    campaign.save()
    return bob_link


@pytest.fixture
def hana(discord_emulator):
    return discord_emulator.create_user("hana")


def text(response) -> str:
    return html.unescape(response.content.decode())


def joins() -> list[ReferralEvent]:
    return list(ReferralEvent.objects.filter(event_type=ReferralEvent.EventType.DISCORD_JOIN))


def member_ids(emu) -> set[str]:
    return {m["user"]["id"] for m in emu.members()}


def assert_nothing_recorded(emu, user_id: str) -> None:
    assert joins() == []
    assert not OnboardingSession.objects.exists()
    assert user_id not in member_ids(emu)


# -- the happy path ---------------------------------------------------------------------------


def test_it_adds_the_visitor_with_roles_records_the_join_and_opens_the_channel(
    client, discord_emulator, oauth_link, hana
):
    # given a visitor on the landing page of a campaign offering "Join with Discord"
    landing = client.get(f"/r/{oauth_link.referral_code}").content.decode()
    assert f'href="/r/{oauth_link.referral_code}/join/oauth"' in landing

    # when they press it, authorise the app on Discord and come back
    response = join_with_discord(client, discord_emulator, oauth_link, hana.id)

    # then they are a member of the guild, with the campaign's join roles
    member = next(m for m in discord_emulator.members() if m["user"]["id"] == hana.id)
    assert member["roles"] == [discord.PARTICIPANT_ROLE_ID]
    assert discord_emulator.ground_truth()[-1]["via"] == "oauth"
    # and land in the campaign's channel (the emulator's view of it, as hana)
    assert response.status_code == 302
    assert response["Location"] == (
        f"{discord_emulator.base_url}/channels/{discord.WELCOME_CHANNEL_ID}?as={hana.id}"
    )
    # and the join is recorded once, exact, from OAuth, for bob's link, at Discord's join time
    (event,) = joins()
    assert (event.link_id, event.discord_user_id) == (oauth_link.pk, hana.id)
    assert (event.metadata["decision"], event.metadata["source"]) == ("exact", "oauth")
    assert event.metadata["joined_at"].startswith(member["joined_at"][:19])
    assert OnboardingSession.objects.filter(discord_user_id=hana.id, link=oauth_link).exists()
    # and no invite was spent
    assert not ManagedInvite.objects.exists()
    assert OAuthJoinAttempt.objects.get().status == OAuthJoinAttempt.Status.JOINED


def test_it_asks_discord_for_identify_and_guilds_join_with_a_signed_state(
    client, discord_emulator, oauth_link
):
    query = start(client, oauth_link)

    assert query["scope"] == "identify guilds.join"
    assert query["client_id"] == discord.APPLICATION_ID
    assert query["response_type"] == "code"
    assert query["redirect_uri"] == "http://127.0.0.1:8000/discord/oauth/callback"
    payload = signing.loads(query["state"], salt=oauth.SALT)
    assert payload["l"] == str(oauth_link.pk)
    assert payload["v"] == client.cookies["it_vid"].value


def test_it_uses_discords_own_urls_in_production(settings, oauth_link):
    settings.DISCORD_API_BASE = "https://discord.com/api/v10"
    settings.DISCORD_CLIENT_ID = discord.APPLICATION_ID

    url = oauth.authorize_url(oauth_link, "v" * 20)

    assert url.startswith("https://discord.com/oauth2/authorize?")
    assert oauth.channel_url(oauth_link.campaign, "42") == (
        f"https://discord.com/channels/{discord.GUILD_ID}/{discord.WELCOME_CHANNEL_ID}"
    )


def test_it_sends_a_campaign_without_oauth_back_to_its_page(client, discord_emulator, bob_link):
    response = client.get(f"/r/{bob_link.referral_code}/join/oauth")

    assert response.status_code == 302
    assert response["Location"] == f"/r/{bob_link.referral_code}"


# -- the state --------------------------------------------------------------------------------


def test_it_refuses_an_expired_state(client, discord_emulator, oauth_link, hana, monkeypatch):
    # given a visitor who authorised the app
    back = consent(discord_emulator, start(client, oauth_link), hana.id)

    # when they come back after the state's lifetime
    later = time.time() + 601
    monkeypatch.setattr(signing, "time", SimpleNamespace(time=lambda: later))
    response = client.get(back)

    # then a branded page says so and offers the invite path, and nothing happened
    assert response.status_code == 400
    assert "This sign-in has expired" in text(response)
    assert_nothing_recorded(discord_emulator, hana.id)


def test_it_uses_a_state_only_once(client, discord_emulator, oauth_link, hana):
    # given a visitor who joined with Discord
    back = consent(discord_emulator, start(client, oauth_link), hana.id)
    assert client.get(back).status_code == 302

    # when the same callback URL is opened again
    response = client.get(back)

    # then it is refused, offering the invite path, and the join is still recorded once
    body = text(response)
    assert response.status_code == 400
    assert "already used" in body
    assert f'action="/r/{oauth_link.referral_code}/join"' in body
    assert len(joins()) == 1


@pytest.mark.parametrize("tamper", ["flip", "forge", "missing"])
def test_it_refuses_a_tampered_or_forged_state(client, discord_emulator, oauth_link, hana, tamper):
    # given a callback whose state was altered, signed with another key, or left out
    query = start(client, oauth_link)
    state = query["state"]
    if tamper == "flip":
        state = state[:-2] + ("A" if state[-2] != "A" else "B") + state[-1]
    elif tamper == "forge":
        payload = {"v": client.cookies["it_vid"].value, "l": str(oauth_link.pk), "n": "x" * 22}
        state = signing.dumps(payload, key="not-our-secret-key-" * 3, salt=oauth.SALT)
    else:
        state = ""
    back = consent(discord_emulator, {**query, "state": state or "-"}, hana.id)

    # when the visitor arrives with it
    response = client.get(back)

    # then nothing happens but an explanation
    assert response.status_code == 400
    assert "This sign-in isn't valid" in text(response)
    assert_nothing_recorded(discord_emulator, hana.id)
    assert not OAuthJoinAttempt.objects.exists()


def test_it_refuses_a_state_that_began_in_another_browser(
    client, discord_emulator, oauth_link, hana
):
    back = consent(discord_emulator, start(client, oauth_link), hana.id)

    response = Client().get(back)

    assert response.status_code == 400
    assert "started elsewhere" in text(response)
    assert_nothing_recorded(discord_emulator, hana.id)


# -- Discord says no --------------------------------------------------------------------------


def test_it_explains_a_refused_code_exchange(client, discord_emulator, oauth_link, hana):
    # given a callback carrying a code Discord never issued
    back = consent(discord_emulator, start(client, oauth_link), hana.id)
    parts = urlsplit(back)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}

    response = client.get(parts.path, {"code": "not-a-real-code", "state": query["state"]})

    body = text(response)
    assert response.status_code == 400
    assert "Discord didn't accept the sign-in" in body
    assert f'action="/r/{oauth_link.referral_code}/join"' in body
    assert_nothing_recorded(discord_emulator, hana.id)
    assert OAuthJoinAttempt.objects.get().status == OAuthJoinAttempt.Status.FAILED


def test_it_explains_a_visitor_who_cancelled_on_discord(client, discord_emulator, oauth_link):
    query = start(client, oauth_link)

    response = client.get(
        "/discord/oauth/callback", {"error": "access_denied", "state": query["state"]}
    )

    assert response.status_code == 400
    assert "You didn't authorise the app" in text(response)
    assert joins() == []


def test_it_explains_a_visitor_already_in_100_servers(client, discord_emulator, oauth_link):
    # given a Discord user who is already in 100 servers (error 30001)
    full = discord_emulator.create_user("full", other_guilds=100)

    response = join_with_discord(client, discord_emulator, oauth_link, full.id)

    body = text(response)
    assert response.status_code == 400
    assert "You're in too many servers" in body
    assert "Use an invite link instead" in body
    assert_nothing_recorded(discord_emulator, full.id)


def test_it_credits_nothing_to_a_visitor_already_in_the_server(
    client, discord_emulator, oauth_link, hana
):
    # given hana, who already joined with Discord
    join_with_discord(client, discord_emulator, oauth_link, hana.id)

    # when she goes through "Join with Discord" again (Discord answers 204)
    response = join_with_discord(Client(), discord_emulator, oauth_link, hana.id)

    # then she is told she's in, with the way to her channel, and no second join is credited
    body = text(response)
    assert response.status_code == 200
    assert "already in the server" in body
    assert f"/channels/{discord.WELCOME_CHANNEL_ID}?as={hana.id}" in body
    assert len(joins()) == 1
    latest = OAuthJoinAttempt.objects.order_by("-created_at").first()
    assert latest.status == OAuthJoinAttempt.Status.ALREADY_MEMBER


def test_it_adds_no_one_when_the_campaign_ended_between_click_and_callback(
    client, discord_emulator, oauth_link, hana
):
    # given a visitor who authorised the app
    back = consent(discord_emulator, start(client, oauth_link), hana.id)

    # when the campaign is switched off before they come back
    oauth_link.campaign.is_active = False
    oauth_link.campaign.save()
    response = client.get(back)

    # then a branded page says so, without an invite that could not work either
    body = text(response)
    assert response.status_code == 410
    assert "Campaign over" in body
    assert "Use an invite link instead" not in body
    assert_nothing_recorded(discord_emulator, hana.id)


# -- the token and the time budget ------------------------------------------------------------


def _tokens_of(emu, user_id: str) -> list:
    return emu.call(lambda: [t for t in emu.world.access_tokens.values() if t.user_id == user_id])


def test_it_revokes_the_visitors_access_token_once_the_join_is_done(
    client, discord_emulator, oauth_link, hana
):
    # when a visitor joins with Discord
    response = join_with_discord(client, discord_emulator, oauth_link, hana.id)

    # then they are in, and Discord holds no live token of theirs for our application
    assert response.status_code == 302
    assert hana.id in member_ids(discord_emulator)
    assert _tokens_of(discord_emulator, hana.id) == []


def test_it_stops_waiting_for_a_slow_discord_within_one_callback_budget(
    client, discord_emulator, oauth_link, hana, settings
):
    # given a Discord that takes 3 s to add a member, and a 1 s budget for the callback
    settings.DISCORD_OAUTH_CALLBACK_SECONDS = 1.0
    discord_emulator.call(discord_emulator.faults.set_latency, "PUT /guilds/*/members/*", 3.0)

    # when a visitor comes back from Discord
    started = time.monotonic()
    response = join_with_discord(client, discord_emulator, oauth_link, hana.id)
    elapsed = time.monotonic() - started

    # then they get a page saying Discord is too slow, well before the server's timeout
    assert response.status_code == 504
    assert "Discord is taking too long" in text(response)
    assert elapsed < 2.5
    # and the attempt stays `joining`, for the bot to link if Discord adds them after all
    assert OAuthJoinAttempt.objects.get().status == OAuthJoinAttempt.Status.JOINING
    assert joins() == []
