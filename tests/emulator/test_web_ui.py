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

    # then they joined through that invite and are sent to its channel
    assert defaults.GUILD_NAME in page.text and "Accept Invite" in page.text
    assert accepted.status_code == 303
    assert accepted.headers["Location"].startswith(f"/channels/{defaults.INVITE_CHANNEL_ID}?as=")
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
