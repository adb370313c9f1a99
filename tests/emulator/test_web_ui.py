"""The web UI and the threaded emulator, driven synchronously with `requests` as Django would:
accept an invite in the browser, see the channel, click a button, authorise OAuth2."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import requests

from botworker.emulator import defaults

BOT = {"Authorization": f"Bot {defaults.BOT_TOKEN}"}


def test_it_serves_the_index_without_an_upgrade_header(emulator_thread):
    page = requests.get(emulator_thread.base_url + "/", timeout=5)

    assert page.status_code == 200 and "text/html" in page.headers["Content-Type"]
    assert defaults.GUILD_NAME in page.text and "#welcome" in page.text


def test_it_lets_a_person_accept_an_invite(emulator_thread):
    # given an invite made by the bot through REST
    invite = requests.post(
        f"{emulator_thread.api_base}/channels/{defaults.INVITE_CHANNEL_ID}/invites",
        json={"max_uses": 1, "unique": True},
        headers=BOT,
        timeout=5,
    ).json()

    # when a person opens it and accepts as a new user
    page = requests.get(emulator_thread.invite_url(invite["code"]), timeout=5)
    accepted = requests.post(
        emulator_thread.invite_url(invite["code"]),
        data={"username": "kim"},
        timeout=5,
        allow_redirects=False,
    )

    # then they joined through that invite and land where the welcome appears (#welcome, the
    # guild's system channel)
    assert defaults.GUILD_NAME in page.text and "Accept Invite" in page.text
    assert accepted.status_code == 303
    assert accepted.headers["Location"].startswith(f"/channels/{defaults.WELCOME_CHANNEL_ID}?as=")
    truth = emulator_thread.ground_truth()[-1]
    assert truth["invite_code"] == invite["code"]
    gone = requests.get(emulator_thread.invite_url(invite["code"]), timeout=5)
    assert gone.status_code == 404


def test_it_lets_a_person_accept_a_role_invite(emulator_thread):
    # given a referral role and a role invite made by the bot through REST
    role = requests.post(
        f"{emulator_thread.api_base}/guilds/{defaults.GUILD_ID}/roles",
        json={"name": "via Link 7"},
        headers=BOT,
        timeout=5,
    ).json()
    invite = requests.post(
        f"{emulator_thread.api_base}/channels/{defaults.INVITE_CHANNEL_ID}/invites",
        json={"max_uses": 1, "unique": True, "role_ids": [role["id"]]},
        headers=BOT,
        timeout=5,
    ).json()

    # when a person opens it and accepts as a new user (roles arriving with the join)
    emulator_thread.set_roles_in("add")
    page = requests.get(emulator_thread.invite_url(invite["code"]), timeout=5)
    accepted = requests.post(
        emulator_thread.invite_url(invite["code"]),
        data={"username": "lee"},
        timeout=5,
        allow_redirects=False,
    )

    # then the page named the role, and they joined through that invite holding it
    assert "@via Link 7" in page.text
    assert accepted.status_code == 303
    truth = emulator_thread.ground_truth()[-1]
    assert (truth["invite_code"], truth["role_ids"]) == (invite["code"], [role["id"]])
    (member,) = [m for m in emulator_thread.members() if m["user"]["id"] == truth["user_id"]]
    assert member["roles"] == [role["id"]]


def test_it_shows_buttons_and_reports_an_unanswered_click(emulator_thread):
    # given a bot message with a button nobody answers, and a member viewing the channel
    emulator_thread.world.interaction_timeout = 0.1
    requests.post(
        f"{emulator_thread.api_base}/channels/{defaults.WELCOME_CHANNEL_ID}/messages",
        json={
            "content": "Welcome!",
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 1, "label": "Start", "custom_id": "start"}],
                }
            ],
        },
        headers=BOT,
        timeout=5,
    )
    member = emulator_thread.accept_invite(emulator_thread.create_invite().code)
    channel = f"{emulator_thread.base_url}/channels/{defaults.WELCOME_CHANNEL_ID}"
    page = requests.get(channel, params={"as": member.user_id}, timeout=5)
    message_id = emulator_thread.messages(defaults.WELCOME_CHANNEL_ID)[0]["id"]

    # when they click it
    clicked = requests.post(
        channel + "/click",
        data={"user_id": member.user_id, "message_id": message_id, "custom_id": "start"},
        timeout=5,
    )

    # then, as on Discord, the interaction failed
    assert "Welcome!" in page.text and "value='start'" in page.text
    assert "This interaction failed" in clicked.text
    assert emulator_thread.interaction_failures[0]["custom_id"] == "start"


def test_it_authorises_oauth_in_the_browser(emulator_thread):
    query = {
        "client_id": defaults.APPLICATION_ID,
        "redirect_uri": "http://127.0.0.1:8000/cb",
        "scope": "identify guilds.join",
        "state": "xyz",
        "response_type": "code",
    }

    page = requests.get(emulator_thread.base_url + "/oauth2/authorize", params=query, timeout=5)
    done = requests.post(
        emulator_thread.base_url + "/oauth2/authorize",
        data={**query, "username": "lee"},
        timeout=5,
        allow_redirects=False,
    )

    assert "guilds.join" in page.text
    assert done.status_code == 302
    location = urlsplit(done.headers["Location"])
    assert location.netloc == "127.0.0.1:8000" and location.path == "/cb"
    assert parse_qs(location.query)["state"] == ["xyz"] and parse_qs(location.query)["code"]


def test_it_renders_markdown_and_mentions_and_never_html(emulator_thread):
    # given a member and a bot message with markdown, mentions and an attempt at markup
    member = emulator_thread.accept_invite(emulator_thread.create_invite().code)
    name = emulator_thread.world.users[member.user_id].username
    content = (
        f"Welcome <@{member.user_id}> to <#{defaults.GENERAL_CHANNEL_ID}>, "
        f"<@&{defaults.MEMBER_ROLE_ID}>! **Read** the __rules__, *then* `**not bold**`. "
        "<script>alert(1)</script> <b onmouseover=x>hi</b>"
    )
    requests.post(
        f"{emulator_thread.api_base}/channels/{defaults.GENERAL_CHANNEL_ID}/messages",
        json={"content": content},
        headers=BOT,
        timeout=5,
    )

    page = requests.get(f"{emulator_thread.base_url}/channels/{defaults.GENERAL_CHANNEL_ID}")

    assert f"<span class=mention>@{name}</span>" in page.text
    assert f"href='/channels/{defaults.GENERAL_CHANNEL_ID}'>#general</a>" in page.text
    assert "<span class=mention>@Member</span>" in page.text
    assert "<strong>Read</strong> the <u>rules</u>, <em>then</em>" in page.text
    assert "<code>**not bold**</code>" in page.text
    assert "<script>alert" not in page.text and "<b onmouseover" not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_its_live_endpoint_brings_new_messages_and_each_channels_latest(emulator_thread):
    # given a member viewing #welcome
    member = emulator_thread.accept_invite(emulator_thread.create_invite().code)
    live = f"{emulator_thread.base_url}/channels/{defaults.WELCOME_CHANNEL_ID}/live"
    before = requests.get(live, params={"as": member.user_id}, timeout=5).json()

    # when the bot posts there and in #general
    for channel, text in (
        (defaults.WELCOME_CHANNEL_ID, "Hi **there**"),
        (defaults.GENERAL_CHANNEL_ID, "News"),
    ):
        requests.post(
            f"{emulator_thread.api_base}/channels/{channel}/messages",
            json={"content": text},
            headers=BOT,
            timeout=5,
        )
    after = requests.get(live, params={"as": member.user_id}, timeout=5).json()

    # then the page's script gets the new message and where the newest messages are
    assert after["version"] != before["version"] and "Hi <strong>there</strong>" in after["html"]
    newest = emulator_thread.messages(defaults.GENERAL_CHANNEL_ID)[-1]["id"]
    assert after["latest"][defaults.GENERAL_CHANNEL_ID] == newest
    assert before["latest"][defaults.GENERAL_CHANNEL_ID] == "0"  # nothing there yet


def test_a_person_can_decline_oauth(emulator_thread):
    query = {
        "client_id": defaults.APPLICATION_ID,
        "redirect_uri": "http://127.0.0.1:8000/cb",
        "scope": "identify guilds.join",
        "state": "xyz",
        "response_type": "code",
    }

    page = requests.get(emulator_thread.base_url + "/oauth2/authorize", params=query, timeout=5)
    declined = requests.post(
        emulator_thread.base_url + "/oauth2/authorize",
        data={**query, "decision": "cancel"},
        timeout=5,
        allow_redirects=False,
    )

    # then, as Discord does, back to the application with error=access_denied and the state
    assert "Cancel" in page.text
    assert declined.status_code == 302
    location = urlsplit(declined.headers["Location"])
    assert location.netloc == "127.0.0.1:8000" and location.path == "/cb"
    assert parse_qs(location.query) == {
        "error": ["access_denied"],
        "error_description": ["The resource owner or authorization server denied the request"],
        "state": ["xyz"],
    }
    assert not emulator_thread.world.auth_codes


def test_declining_oauth_never_redirects_off_loopback(emulator_thread):
    declined = requests.post(
        emulator_thread.base_url + "/oauth2/authorize",
        data={
            "client_id": defaults.APPLICATION_ID,
            "redirect_uri": "https://evil.example/cb",
            "decision": "cancel",
        },
        timeout=5,
        allow_redirects=False,
    )

    assert declined.status_code == 200 and "Invalid &quot;redirect_uri&quot;" in declined.text
