"""Managed invites against the local Discord: the pool, assignment, failures, clean-up."""

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from botworker.emulator import defaults as discord
from referrals.invites import retire_invites, top_up_pool
from referrals.models import ManagedInvite, UntrackedHandout
from tests.test_classify import WINDOWS_CHROME

CREATE_ROUTE = "POST /channels/*/invites"
CREATE_ROUTE_NAME = "POST /channels/{channel_id}/invites"


@pytest.fixture(autouse=True)
def _shared_pool(campaign):
    """These tests are about the campaign's shared pool: links without referral roles
    (tests/test_referral_roles.py covers role-tagged links and their own pools)."""
    campaign.referral_roles = "off"
    campaign.save()


def join(client, link, **extra):
    return client.post(f"/r/{link.referral_code}/join", HTTP_USER_AGENT=WINDOWS_CHROME, **extra)


def discord_invites(emulator):
    return {invite["code"]: invite for invite in emulator.invites(discord.GUILD_ID)}


def test_the_visitor_is_sent_to_a_single_use_invite_bound_to_the_link(
    client, bob_link, discord_emulator
):
    # Given the landing page was visited
    assert (
        client.get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME).status_code
        == 200
    )

    # When the visitor presses "Join Discord"
    response = join(client, bob_link)

    # Then they are redirected to an invite that Discord holds as single-use,
    # and discord_invite_links binds it to bob's link and this visitor
    assert response.status_code == 302
    code = response["Location"].rsplit("/", 1)[-1]
    assert response["Location"] == f"{discord_emulator.base_url}/invite/{code}"
    held = discord_invites(discord_emulator)[code]
    assert (held["max_uses"], held["uses"]) == (1, 0)
    assert held["channel"]["id"] == discord.INVITE_CHANNEL_ID
    invite = ManagedInvite.objects.get(discord_invite_code=code)
    assert invite.referral_link == bob_link
    assert invite.status == ManagedInvite.Status.ASSIGNED
    assert invite.visitor_id == client.cookies["it_vid"].value


def test_it_fills_the_pool_to_the_campaigns_size(campaign, discord_emulator):
    campaign.invite_pool_size = 4
    campaign.save()

    assert top_up_pool(campaign.pk) == 4
    assert top_up_pool(campaign.pk) == 0  # already full

    pooled = ManagedInvite.objects.filter(status="pooled")
    assert pooled.count() == 4
    assert set(pooled.values_list("discord_invite_code", flat=True)) <= set(
        discord_invites(discord_emulator)
    )


def calls_since(emulator, before: dict[str, int]) -> dict[str, int]:
    """The local Discord's REST calls by route since `before` (one of its `calls` readings)."""
    now = emulator.calls
    return {
        route: n - before.get(route, 0) for route, n in now.items() if n != before.get(route, 0)
    }


def test_a_pooled_invite_is_handed_out_without_calling_discord(
    client, bob_link, discord_emulator, django_capture_on_commit_callbacks, eager_celery
):
    # Given a full pool
    top_up_pool(bob_link.campaign_id)
    pooled = set(ManagedInvite.objects.filter(status="pooled").values_list("pk", flat=True))
    before = discord_emulator.calls

    # When a visitor presses "Join Discord", and then what it queued after commit runs too
    with django_capture_on_commit_callbacks(execute=False) as after_commit:
        response = join(client, bob_link)
    during_the_request = calls_since(discord_emulator, before)
    for callback in after_commit:
        callback()

    # Then the visitor got one of the pooled invites without a single Discord call
    assert response.status_code == 302 and during_the_request == {}
    handed = ManagedInvite.objects.get(status="assigned", referral_link=bob_link)
    assert handed.pk in pooled and response["Location"] == handed.discord_invite_url
    # and after commit the only Discord call is the top-up replacing the invite it took
    assert calls_since(discord_emulator, before) == {CREATE_ROUTE_NAME: 1}
    assert ManagedInvite.objects.filter(status="pooled").count() == len(pooled)
    assert UntrackedHandout.objects.count() == 0


def test_two_visitors_never_get_the_same_invite(client, bob_link, charlie_link, discord_emulator):
    from django.test import Client

    first = join(client, bob_link)["Location"]
    second = join(Client(), charlie_link)["Location"]
    assert first != second
    assert ManagedInvite.objects.filter(status="assigned").count() == 2


@pytest.mark.parametrize("fault", ["5xx", "429", "timeout"])
def test_when_discord_fails_the_visitor_still_gets_the_fallback_invite(
    client, bob_link, discord_emulator, settings, caplog, fault
):
    # Given an empty pool and a Discord that cannot create invites
    settings.INVITE_POOL_WAIT_SECONDS = 0.5
    bob_link.campaign.fallback_invite_url = "https://discord.gg/launch-lobby"
    bob_link.campaign.save()
    faults = discord_emulator.faults
    if fault == "5xx":
        discord_emulator.call(faults.inject_failure, CREATE_ROUTE, status=503, count=None)
    elif fault == "429":
        discord_emulator.call(faults.inject_rate_limit, CREATE_ROUTE, count=100, retry_after=5)
    else:
        discord_emulator.call(faults.set_latency, CREATE_ROUTE, 2.0)

    # When the visitor joins
    with caplog.at_level(logging.WARNING, logger="referrals.invites"):
        response = join(client, bob_link)

    # Then they reach Discord anyway, the miss is recorded and logged once with ids
    assert response.status_code == 302
    assert response["Location"] == "https://discord.gg/launch-lobby"
    handout = UntrackedHandout.objects.get()
    assert handout.link == bob_link
    warnings = [r for r in caplog.records if r.name == "referrals.invites"]
    assert len(warnings) == 1
    assert bob_link.referral_code in warnings[0].getMessage()
    assert str(bob_link.campaign_id) in warnings[0].getMessage()
    assert ManagedInvite.objects.filter(status="assigned").count() == 0


def test_without_a_fallback_the_visitor_is_told_to_retry(
    client, bob_link, discord_emulator, settings
):
    settings.INVITE_POOL_WAIT_SECONDS = 0.5
    discord_emulator.call(discord_emulator.faults.inject_failure, CREATE_ROUTE, count=None)

    response = join(client, bob_link)

    assert response.status_code == 503
    assert "try again in a minute" in response.content.decode()
    assert UntrackedHandout.objects.count() == 0


def test_an_ip_over_its_limit_gets_429_and_when_to_retry(
    client, bob_link, discord_emulator, settings
):
    # Given two visitors behind one address have each taken an invite
    settings.JOIN_RATE_LIMIT_PER_IP = (2, 60)
    assert join(client, bob_link).status_code == 302
    client.cookies.clear()
    assert join(client, bob_link).status_code == 302
    client.cookies.clear()

    # When a third asks from the same address
    response = join(client, bob_link)

    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert "Please try again in" in response.content.decode()
    assert ManagedInvite.objects.filter(status="assigned").count() == 2


def test_a_link_over_its_limit_gets_429_from_the_api(client, bob_link, discord_emulator, settings):
    settings.JOIN_RATE_LIMIT_PER_LINK = (1, 60)
    body = {"referral_code": bob_link.referral_code}
    first = client.post("/api/discord/create-managed-invite", body, content_type="application/json")
    second = client.post(
        "/api/discord/create-managed-invite", body, content_type="application/json"
    )
    assert first.status_code == 200
    assert first.json()["invite_url"].startswith(discord_emulator.base_url)
    assert second.status_code == 429
    assert second.json()["success"] is False
    assert "Retry-After" in second


def test_a_visitor_pressing_join_again_gets_the_same_invite(client, bob_link, discord_emulator):
    # Given a visitor who pressed "Join Discord" once
    first = join(client, bob_link)
    pooled = ManagedInvite.objects.filter(status="pooled").count()

    # When they press it again, twice
    again = [join(client, bob_link), join(client, bob_link)]

    # Then they are sent to the same invite, and nothing more is taken from the pool or Discord
    assert first.status_code == 302
    assert [r["Location"] for r in again] == [first["Location"]] * 2
    assigned = ManagedInvite.objects.get(status="assigned")
    assert assigned.discord_invite_url == first["Location"]
    assert assigned.visitor_id == client.cookies["it_vid"].value
    assert ManagedInvite.objects.filter(status="pooled").count() == pooled


def test_the_api_gives_a_visitor_their_invite_again(client, bob_link, discord_emulator):
    body = {"referral_code": bob_link.referral_code}

    def ask():
        return client.post(
            "/api/discord/create-managed-invite", body, content_type="application/json"
        )

    first, second = ask(), ask()

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json()["success"] is True
    assert second.json() == first.json()
    assert ManagedInvite.objects.filter(status="assigned").count() == 1
    # and the page's Join button hands the same visitor the same invite
    assert join(client, bob_link)["Location"] == first.json()["invite_url"]


def test_a_visitor_gets_a_fresh_invite_when_theirs_is_about_to_be_revoked(
    client, bob_link, discord_emulator
):
    # Given a visitor whose invite is revoked in less than a minute (INVITE_REVOKE_LEAD_SECONDS)
    first = join(client, bob_link)["Location"]
    soon = timezone.now() + timedelta(seconds=120)
    ManagedInvite.objects.filter(discord_invite_url=first).update(expires_at=soon)

    # When they press "Join Discord" again
    second = join(client, bob_link)["Location"]

    # Then they get one they have time to accept
    assert second != first
    fresh = ManagedInvite.objects.get(discord_invite_url=second)
    assert fresh.visitor_id == client.cookies["it_vid"].value
    assert fresh.expires_at > soon


@pytest.mark.parametrize("then", ["used", "other-link"])
def test_a_visitor_gets_a_new_invite_for_a_used_one_or_another_link(
    client, bob_link, charlie_link, discord_emulator, then
):
    first = join(client, bob_link)["Location"]
    link = bob_link
    if then == "used":
        ManagedInvite.objects.filter(discord_invite_url=first).update(status="used")
    else:
        link = charlie_link

    second = join(client, link)["Location"]

    assert second != first
    assert ManagedInvite.objects.get(discord_invite_url=second).referral_link == link


def test_it_retires_expired_and_stale_invites(campaign, discord_emulator):
    # Given a pool of three: one long expired, one about to expire, one fresh
    campaign.invite_pool_size = 3
    campaign.save()
    top_up_pool(campaign.pk)
    expired, stale, fresh = ManagedInvite.objects.order_by("created_at")
    now = timezone.now()
    ManagedInvite.objects.filter(pk=expired.pk).update(expires_at=now - timedelta(seconds=1))
    ManagedInvite.objects.filter(pk=stale.pk).update(expires_at=now + timedelta(seconds=30))

    counts = retire_invites(now)

    assert counts == {"expired": 1, "revoked": 1}
    states = dict(ManagedInvite.objects.values_list("pk", "status"))
    assert states == {expired.pk: "expired", stale.pk: "revoked", fresh.pk: "pooled"}
    assert stale.discord_invite_code not in discord_invites(discord_emulator)
    assert fresh.discord_invite_code in discord_invites(discord_emulator)


def test_it_revokes_the_pool_of_a_campaign_that_ended(campaign, discord_emulator):
    top_up_pool(campaign.pk)
    campaign.is_active = False
    campaign.save()

    retire_invites()

    assert not ManagedInvite.objects.filter(status="pooled").exists()
    assert discord_invites(discord_emulator) == {}


def test_it_stays_under_the_guild_invite_cap(campaign, discord_emulator, settings):
    settings.GUILD_INVITE_CAP = 2
    campaign.invite_pool_size = 5
    campaign.save()

    assert top_up_pool(campaign.pk) == 2
    assert len(discord_invites(discord_emulator)) == 2


@pytest.mark.parametrize("cookie", ["short", "<script>alert(1)</script>-padding-padding", "x" * 65])
def test_a_malformed_visitor_cookie_gets_a_new_identity_not_an_error(
    client, bob_link, discord_emulator, cookie
):
    client.cookies["it_vid"] = cookie

    response = join(client, bob_link)

    assert response.status_code == 302
    fresh = client.cookies["it_vid"].value
    assert fresh != cookie
    assert ManagedInvite.objects.get(status="assigned").visitor_id == fresh


def test_a_press_that_got_no_tracked_invite_does_not_hold_up_the_next(
    client, bob_link, discord_emulator, settings
):
    import time

    # Given a visitor from the page whose press got the fallback while Discord failed
    settings.INVITE_POOL_WAIT_SECONDS = 0.5
    bob_link.campaign.fallback_invite_url = "https://discord.gg/launch-lobby"
    bob_link.campaign.save()
    client.get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
    faults = discord_emulator.faults
    discord_emulator.call(faults.inject_failure, CREATE_ROUTE, status=503, count=None)
    assert join(client, bob_link)["Location"] == "https://discord.gg/launch-lobby"

    # When Discord is back and they press again at once
    discord_emulator.call(faults.clear)
    started = time.monotonic()
    again = join(client, bob_link)

    # Then they get a tracked invite without waiting out the first press's mark
    assert again["Location"].startswith(discord_emulator.base_url)
    assert time.monotonic() - started < 2
    assert ManagedInvite.objects.get(status="assigned").visitor_id == client.cookies["it_vid"].value


def test_the_claim_is_planned_once_per_connection_on_postgresql(client, bob_link, discord_emulator):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("prepared statements are PostgreSQL's")
    # Given a full pool
    top_up_pool(bob_link.campaign_id)

    # When two visitors press Join
    for _ in range(2):
        client.cookies.clear()
        client.get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)
        assert join(client, bob_link).status_code == 302

    # Then both got an invite, and the session holds the claim as a prepared statement
    assert ManagedInvite.objects.filter(status="assigned").count() == 2
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert [s for s in prepared if "FOR UPDATE SKIP LOCKED" in s]


def test_a_visitors_first_press_is_one_statement_on_postgresql(client, bob_link, discord_emulator):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    # Given a full pool and a visitor from the page
    top_up_pool(bob_link.campaign_id)
    client.get(f"/r/{bob_link.referral_code}", HTTP_USER_AGENT=WINDOWS_CHROME)

    # When they press Join, and again
    with CaptureQueriesContext(connection) as first:
        invite_url = join(client, bob_link)["Location"]
    with CaptureQueriesContext(connection) as again:
        assert join(client, bob_link)["Location"] == invite_url

    # Then each press is one statement (held invite or claim) on PostgreSQL; SQLite, which has
    # no UPDATE inside WITH, looks for a held invite first
    writes = [q["sql"] for q in first.captured_queries if q["sql"].lstrip().startswith("UPDATE")]
    if connection.vendor == "postgresql":
        assert (len(first), len(again)) == (1, 1)
    else:
        assert (len(first), len(again)) == (2, 1)
    assert len(writes) == (0 if connection.vendor == "postgresql" else 1)
    assert ManagedInvite.objects.get(status="assigned").discord_invite_url == invite_url


def test_a_burst_of_handouts_queues_one_top_up_until_it_has_run(
    bob_link, discord_emulator, monkeypatch, django_capture_on_commit_callbacks
):
    from django.test import Client

    from referrals import tasks
    from referrals.invites import _pool

    # Given a full pool, and the top-up task's queue watched (no worker runs it)
    top_up_pool(bob_link.campaign_id)
    queued = []
    monkeypatch.setattr(tasks.top_up_pool_task, "delay", queued.append)
    monkeypatch.setattr(_pool, "TOP_UP_ASK_SECONDS", 0)  # every handout asks the cache

    def handout():
        with django_capture_on_commit_callbacks(execute=True):
            assert Client().post(f"/r/{bob_link.referral_code}/join").status_code == 302

    # When three visitors each take an invite
    for _ in range(3):
        handout()

    # Then one top-up is queued for the campaign, not three
    assert queued == [str(bob_link.campaign_id)]
    # and once it has run, the next handout queues the next one
    top_up_pool(bob_link.campaign_id)
    handout()
    assert queued == [str(bob_link.campaign_id)] * 2
