"""Recording joins and leaves: once per join, credited only as decided, rejoins kept apart."""

from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from analytics.joins import record_join, record_joins, record_leave, recorded_members
from analytics.models import OnboardingSession, ReferralEvent
from analytics.oauth_joins import link_oauth_join, link_offline_oauth_joins, record_oauth_join
from analytics.rollups import aggregate_events
from analytics.webhooks.models import WebhookDelivery, WebhookEndpoint
from referrals.evidence import attribution_inputs
from referrals.models import ManagedInvite, OAuthJoinAttempt
from tests.analytics_support import rollup_table

GUILD = "1300000000000000100"
MEMBER = "1300000000000008888"
WHEN = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


@pytest.fixture
def invite(bob_link):
    return ManagedInvite.objects.create(
        campaign=bob_link.campaign,
        referral_link=bob_link,
        discord_invite_code="BobCode1",
        discord_invite_url="https://discord.gg/BobCode1",
        guild_id=GUILD,
        channel_id=bob_link.campaign.channel_id,
        status=ManagedInvite.Status.ASSIGNED,
    )


def exact(link, invite, member=MEMBER, when=WHEN, **extra):
    return record_join(
        guild_id=GUILD,
        member_id=member,
        username="newbie",
        joined_at=when,
        decision="exact",
        invite_code=invite.discord_invite_code,
        link_id=str(link.pk),
        candidates=(invite.discord_invite_code,),
        **extra,
    )


def test_an_exact_join_is_credited_to_the_link_and_welcomed(bob_link, invite):
    outcome = exact(bob_link, invite)

    event = ReferralEvent.objects.get(event_type="discord_join")
    invite.refresh_from_db()
    assert (event.link, event.discord_user_id, event.metadata["decision"]) == (
        bob_link,
        MEMBER,
        "exact",
    )
    assert (invite.status, invite.used_by_discord_user_id) == ("used", MEMBER)
    assert outcome.created and outcome.welcome is not None
    assert f"<@{MEMBER}>" in outcome.welcome.text
    assert outcome.welcome.channel_ids == (bob_link.campaign.welcome_channel_id,)
    assert OnboardingSession.objects.get().pk == outcome.welcome.session_id


def test_a_duplicate_member_add_changes_nothing(bob_link, invite):
    exact(bob_link, invite)
    again = exact(bob_link, invite)
    assert not again.created
    assert ReferralEvent.objects.filter(event_type="discord_join").count() == 1


def test_an_ambiguous_join_inside_one_campaign_is_welcomed_without_a_link(bob_link, invite):
    outcome = record_join(
        guild_id=GUILD,
        member_id=MEMBER,
        username="x",
        joined_at=WHEN,
        decision="ambiguous",
        candidates=("BobCode1",),
    )
    event = ReferralEvent.objects.get()
    assert event.link is None and event.campaign == bob_link.campaign
    assert outcome.welcome is not None
    assert OnboardingSession.objects.get().link is None


def test_an_organic_join_is_recorded_but_not_welcomed(db):
    outcome = record_join(
        guild_id=GUILD, member_id=MEMBER, username="x", joined_at=WHEN, decision="organic"
    )
    assert outcome.created and outcome.welcome is None
    assert ReferralEvent.objects.get().metadata["decision"] == "organic"


def test_a_rejoin_is_recorded_as_such_and_not_onboarded_again(bob_link, invite):
    exact(bob_link, invite)
    second = exact(bob_link, invite, when=WHEN + timedelta(days=1))
    assert second.created and second.rejoin and second.welcome is None
    assert ReferralEvent.objects.filter(metadata__rejoin=True).count() == 1
    assert OnboardingSession.objects.count() == 1


def test_a_leave_is_credited_to_the_members_link(bob_link, invite):
    exact(bob_link, invite)
    record_leave(guild_id=GUILD, member_id=MEMBER, left_at=WHEN + timedelta(hours=1))
    record_leave(guild_id=GUILD, member_id=MEMBER, left_at=WHEN + timedelta(hours=1))
    leave = ReferralEvent.objects.get(event_type="leave")
    assert leave.link == bob_link


def test_a_leave_discord_announces_twice_is_one_leave(bob_link, invite):
    exact(bob_link, invite)
    for moment in (WHEN + timedelta(hours=1), WHEN + timedelta(hours=1, milliseconds=40)):
        record_leave(guild_id=GUILD, member_id=MEMBER, left_at=moment)

    assert ReferralEvent.objects.filter(event_type="leave").count() == 1


def test_a_second_leave_before_the_rejoin_is_recorded_still_counts(bob_link, invite):
    # leave, rejoin and leave again while the rejoin waits to be decided
    exact(bob_link, invite)
    for moment in (WHEN + timedelta(hours=1), WHEN + timedelta(hours=1, minutes=2)):
        record_leave(guild_id=GUILD, member_id=MEMBER, left_at=moment)

    assert ReferralEvent.objects.filter(event_type="leave").count() == 2


def test_it_tells_the_bot_which_codes_are_managed_and_revoked(bob_link, invite):
    ManagedInvite.objects.create(
        campaign=bob_link.campaign,
        discord_invite_code="Gone1",
        discord_invite_url="https://discord.gg/Gone1",
        guild_id=GUILD,
        channel_id=bob_link.campaign.channel_id,
        status=ManagedInvite.Status.REVOKED,
    )
    bob_link.referral_role_id = "1300000000000000900"
    bob_link.save()
    inputs = attribution_inputs(GUILD)
    assert inputs.managed == {"BobCode1": str(bob_link.pk), "Gone1": None}
    assert inputs.revoked == frozenset({"Gone1"})
    assert inputs.role_links == {"1300000000000000900": str(bob_link.pk)}


def test_it_reads_only_the_invites_a_window_can_show(bob_link, invite):
    # given the guild's invites of a long campaign: one in play, and many long since used
    ManagedInvite.objects.bulk_create(
        ManagedInvite(
            campaign=bob_link.campaign,
            discord_invite_code=f"Old{n}",
            discord_invite_url=f"https://discord.gg/Old{n}",
            guild_id=GUILD,
            channel_id=bob_link.campaign.channel_id,
            status=ManagedInvite.Status.USED,
        )
        for n in range(50)
    )

    # when the bot asks about the codes of its window
    inputs = attribution_inputs(GUILD, {"BobCode1", "Old7", "NotOurs"})

    # then only those of ours are read
    assert inputs.managed == {"BobCode1": str(bob_link.pk), "Old7": None}
    assert len(attribution_inputs(GUILD).managed) == 51


def test_it_lists_members_already_recorded_since_a_time(bob_link, invite):
    exact(bob_link, invite)
    assert recorded_members(GUILD, WHEN - timedelta(days=365)) == {MEMBER}


def test_a_welcome_template_with_stray_braces_still_renders(bob_link, invite):
    bob_link.campaign.welcome_message = "Hi {member} {unknown} {"
    bob_link.campaign.save()
    assert exact(bob_link, invite).welcome.text == f"Hi <@{MEMBER}> {{unknown}} {{"


# -- OAuth joins: the web app and the bot record the same join once, welcome it once ----------


def oauth_attempt(
    link, status=OAuthJoinAttempt.Status.JOINING, joined_at=None, begun=WHEN - timedelta(seconds=2)
):
    """An attempt the web app began at `begun` (just before the member's join, by default)."""
    attempt = OAuthJoinAttempt.objects.create(
        nonce=f"n{OAuthJoinAttempt.objects.count()}",
        link=link,
        guild_id=GUILD,
        discord_user_id=MEMBER,
        status=status,
        joined_at=joined_at,
    )
    OAuthJoinAttempt.objects.filter(pk=attempt.pk).update(created_at=begun)
    return attempt


def bot_sees(when=WHEN):
    return link_oauth_join(guild_id=GUILD, member_id=MEMBER, username="newbie", joined_at=when)


def web_records(link, when=WHEN):
    return record_oauth_join(
        guild_id=GUILD, member_id=MEMBER, username="newbie", joined_at=when, link_id=str(link.pk)
    )


def test_the_bot_leaves_a_member_nobody_is_adding_with_oauth_to_invite_attribution(bob_link):
    assert bot_sees() is None


def test_the_bot_records_an_oauth_join_it_hears_of_first_and_the_web_app_adds_nothing(
    bob_link,
):
    # given the web app is adding the member (Discord has not answered it yet)
    oauth_attempt(bob_link)

    # when the bot's GUILD_MEMBER_ADD comes first, then the web app records the 201
    by_bot = bot_sees()
    by_web = web_records(bob_link)

    # then one exact/oauth join for bob's link, welcomed by the bot
    event = ReferralEvent.objects.get(event_type="discord_join")
    assert (event.link, event.metadata["source"], event.metadata["decision"]) == (
        bob_link,
        "oauth",
        "exact",
    )
    assert by_bot.created and by_bot.welcome is not None
    assert not by_web.created


def test_the_bot_welcomes_an_oauth_join_the_web_app_recorded_first_once(bob_link):
    # given the web app added the member and recorded the join
    oauth_attempt(bob_link, OAuthJoinAttempt.Status.JOINED, WHEN)
    web_records(bob_link)

    # when the bot hears GUILD_MEMBER_ADD, twice (Discord may repeat it)
    first, second = bot_sees(), bot_sees()

    # then the join is still recorded once, and welcomed once
    assert ReferralEvent.objects.filter(event_type="discord_join").count() == 1
    assert not first.created and first.welcome is not None
    assert first.link_id == str(bob_link.pk)
    assert first.welcome.session_id == OnboardingSession.objects.get().pk
    assert second is not None and second.welcome is None


def test_an_old_oauth_join_never_claims_a_later_invite_rejoin(bob_link):
    # given a member who joined with Discord, and later joins again
    oauth_attempt(bob_link, OAuthJoinAttempt.Status.JOINED, WHEN)

    # then the later join is left to invite attribution
    assert bot_sees(WHEN + timedelta(hours=1)) is None


def test_a_stale_joining_attempt_stops_claiming_joins_after_the_bound(bob_link, settings):
    # given an attempt Discord never answered (left `joining`), begun 10 minutes before a join
    settings.OAUTH_JOIN_MATCH_SECONDS = 300
    oauth_attempt(bob_link, begun=WHEN - timedelta(minutes=10))

    # then that join is left to invite attribution
    assert bot_sees() is None
    # while a join within the bound is the attempt's
    assert bot_sees(WHEN - timedelta(minutes=6)).created


def test_an_oauth_join_without_a_join_time_is_still_linked_not_left_to_invites(bob_link):
    # given the web app added the member, but Discord's answer had no usable joined_at
    oauth_attempt(bob_link, OAuthJoinAttempt.Status.JOINED, begun=timezone.now())

    # when the bot sees the member without a join time either
    outcome = link_oauth_join(guild_id=GUILD, member_id=MEMBER, username="n", joined_at=None)

    # then the join is the OAuth one: exact, for bob's link, welcomed
    assert outcome.created and outcome.welcome is not None
    event = ReferralEvent.objects.get(event_type="discord_join")
    assert (event.link, event.metadata["source"]) == (bob_link, "oauth")


def test_offline_oauth_joins_are_linked_and_welcomed_once_across_restarts(bob_link):
    # given an OAuth join the web app recorded while the bot was away (nobody welcomed it)
    oauth_attempt(bob_link, OAuthJoinAttempt.Status.JOINED, WHEN)
    web_records(bob_link)
    others = [("1300000000000007777", "other", WHEN)]

    # when the bot starts and reconciles, twice
    first = link_offline_oauth_joins(GUILD, [(MEMBER, "newbie", WHEN), *others])
    second = link_offline_oauth_joins(GUILD, [(MEMBER, "newbie", WHEN), *others])

    # then only the OAuth member is taken out of invite attribution, welcomed the first time
    assert set(first) == set(second) == {MEMBER}
    assert first[MEMBER].welcome is not None and second[MEMBER].welcome is None
    assert ReferralEvent.objects.filter(event_type="discord_join").count() == 1


def test_a_batch_records_exactly_what_recording_its_joins_one_by_one_does(
    bob_link, charlie_link, invite
):
    """The bot records a burst's joins together (`record_joins`, a few statements for the
    batch); the database must end up as if each had been recorded alone, in order: events,
    decisions, link credit, rejoins, used invites, sessions, rollups and webhook deliveries."""
    campaign = bob_link.campaign
    WebhookEndpoint.objects.create(campaign=campaign, url="https://hooks.example.com/in")
    ManagedInvite.objects.create(
        campaign=campaign,
        referral_link=charlie_link,
        discord_invite_code="CharlieC1",
        discord_invite_url="https://discord.gg/CharlieC1",
        guild_id=GUILD,
        channel_id=campaign.channel_id,
        status=ManagedInvite.Status.ASSIGNED,
    )
    exact(bob_link, invite, member="1300000000000000001", when=WHEN - timedelta(days=3))
    OnboardingSession.objects.create(
        campaign=campaign, discord_user_id="1300000000000000002", guild_id=GUILD
    )

    def row(member, decision, minutes, **extra):
        return {
            "guild_id": GUILD,
            "member_id": member,
            "username": f"user{member[-2:]}",
            "joined_at": WHEN + timedelta(minutes=minutes),
            "decision": decision,
            **extra,
        }

    both = ("BobCode1", "CharlieC1")
    batch = [
        row("1300000000000000001", "exact", 0, invite_code="BobCode1", link_id=str(bob_link.pk),
            candidates=("BobCode1",)),  # a rejoin: joined three days ago
        row("1300000000000000002", "link", 1, link_id=str(charlie_link.pk),
            candidates=("CharlieC1",)),  # already has a session
        row("1300000000000000003", "ambiguous", 2, candidates=both),
        row("1300000000000000004", "ambiguous", 3, candidates=both,
            credit_link_id=str(charlie_link.pk)),
        row("1300000000000000005", "organic", 4),
        row("1300000000000000006", "exact", 5, invite_code="CharlieC1",
            link_id=str(charlie_link.pk), candidates=("CharlieC1",)),
        row("1300000000000000006", "exact", 6, invite_code="CharlieC1",
            link_id=str(charlie_link.pk), candidates=("CharlieC1",)),  # left and came back
        row("1300000000000000003", "ambiguous", 2, candidates=both),  # a repeated member add
    ]  # fmt: skip

    def recorded(write) -> tuple[list, dict]:
        with transaction.atomic():
            outcomes = write()
            state = {
                "events": sorted(
                    (e.discord_user_id, e.link_id, e.campaign_id, e.dedupe_key, e.metadata)
                    for e in ReferralEvent.objects.filter(event_type="discord_join")
                ),
                "sessions": sorted(
                    (s.discord_user_id, s.link_id, s.referral_code, s.discord_username, s.status)
                    for s in OnboardingSession.objects.all()
                ),
                "invites": sorted(
                    ManagedInvite.objects.values_list(
                        "discord_invite_code", "status", "used_by_discord_user_id"
                    )
                ),
                "rollups": aggregate_events() == rollup_table(),
                "deliveries": sorted(
                    WebhookDelivery.objects.values_list("event__discord_user_id", "kind")
                ),
                "sessions_named": [
                    o.welcome.session_id
                    == OnboardingSession.objects.get(
                        campaign=campaign, discord_user_id=r["member_id"]
                    ).pk
                    for o, r in zip(outcomes, batch, strict=True)
                    if o.welcome is not None
                ],
            }
            transaction.set_rollback(True)
        shown = [
            (o.created, o.rejoin, o.decision, o.campaign_id, o.link_id, o.candidates,
             o.welcome and (o.welcome.text, o.welcome.channel_ids))
            for o in outcomes
        ]  # fmt: skip
        return shown, state

    alone = recorded(lambda: [record_join(**r) for r in batch])
    together = recorded(lambda: record_joins(batch))

    assert together == alone
    outcomes, state = together
    assert [o[0] for o in outcomes] == [True] * 7 + [False]  # the repeat records nothing
    assert [o[1] for o in outcomes][:2] == [True, False]  # three days ago: a rejoin
    assert outcomes[6][1] is True  # came back within the batch: a rejoin
    assert state["rollups"] is True and all(state["sessions_named"])
    assert ("CharlieC1", "used", "1300000000000000006") in state["invites"]
    # Every new join with a campaign (not the organic one), and the one three days ago.
    assert len(state["deliveries"]) == 7


def test_a_bigger_burst_costs_the_same_statements_as_a_small_one(bob_link):
    """The bot's recorder writes a burst in one short transaction: its statement count does not
    grow with the number of joins (on SQLite every statement is time the write lock is held)."""

    def burst(first: int, size: int) -> list[dict]:
        return [
            {
                "guild_id": GUILD,
                "member_id": str(1300000000000010000 + first + i),
                "username": "newbie",
                "joined_at": WHEN,
                "decision": "link",
                "link_id": str(bob_link.pk),
                "candidates": (),
            }
            for i in range(size)
        ]

    counts = []
    for first, size in ((0, 2), (100, 20)):
        with CaptureQueriesContext(connection) as queries:
            outcomes = record_joins(burst(first, size))
        assert all(o.created and o.welcome is not None for o in outcomes)
        counts.append(len(queries))
    assert counts[0] == counts[1]
    assert OnboardingSession.objects.count() == 22
