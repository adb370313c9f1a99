"""`manage.py simulate`: small runs end to end (burst, bot restart, OAuth), the scoring, the exit
status. The runs are child processes: the command swaps the database settings at start-up, which
must not happen inside the test session."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from analytics.models import ReferralEvent
from botworker.emulator import defaults
from botworker.management.commands import simulate as simulate_command
from botworker.simulation import SimulationOptions, render_table
from botworker.simulation.metrics import FUNNEL_STEPS
from botworker.simulation.report import link_credit, score_attribution
from botworker.simulation.visitors import arrival_gaps, plan
from botworker.simulation.world import LinkInfo, create_world
from campaigns.models import Campaign
from referrals.models import ManagedInvite

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"funnel", "attribution", "latency_ms", "discord_calls", "errors", "database", "options"}
DECISIONS = ("exact", "link", "ambiguous", "organic", "unknown")


def simulate(tmp_path: Path, *args: str) -> tuple[dict, sqlite3.Connection]:
    """Run the command on a SQLite file in tmp_path; (its JSON report, the database it used)."""
    db, out = tmp_path / "sim.sqlite3", tmp_path / "sim.json"
    done = subprocess.run(
        [sys.executable, "manage.py", "simulate", "--database-url", f"sqlite:///{db}"]
        + ["--keep-db", "--no-progress", "--json", str(out), "--links", "8", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "Attribution" in done.stdout and "Latency" in done.stdout
    return json.loads(out.read_text()), sqlite3.connect(db)


def finished_report(wrong: int) -> dict:
    """The smallest report the command can print."""
    latency = {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    return {
        "funnel": dict.fromkeys(FUNNEL_STEPS, 0),
        "database": {},
        "attribution": {
            **dict.fromkeys(DECISIONS, 0),
            "wrong": wrong,
            "missed": 0,
            "precision": 0.0,
            "recall": 0.0,
        },
        "latency_ms": {"landing": latency},
        "discord_calls": {
            "by_route": {},
            "total": 0,
            "rate_limited": {},
            "invite_list_fetches": 0,
            "invite_list_fetches_per_join": None,
        },
        "bursts": [],
        "errors": {},
        "wall_seconds": 1.0,
        "database_label": "sqlite3:test",
    }


def count(db: sqlite3.Connection, event_type: str) -> int:
    sql = "SELECT COUNT(*) FROM referral_analytics WHERE event_type = ?"
    return db.execute(sql, (event_type,)).fetchone()[0]


def test_it_runs_a_burst_of_joins_with_no_wrong_attribution(tmp_path):
    # when 30 visitors go through the funnel, their joins released in one burst
    report, db = simulate(tmp_path, "--visitors", "30", "--burst", "30")

    # then the report has every section, and nothing was credited wrongly or missed
    assert set(report) >= KEYS
    a = report["attribution"]
    assert a["wrong"] == 0 and a["missed"] == 0
    assert sum(a[d] for d in DECISIONS) == report["funnel"]["joined"] > 0
    for name in ("landing", "join_redirect", "join_to_welcome", "submit_to_conversion"):
        assert set(report["latency_ms"][name]) >= {"p50", "p95", "p99"}
    assert report["latency_ms"]["submit_to_conversion"]["n"] == report["funnel"]["converted"]
    # and the burst was one, within a second, and its members were credited by their referral
    # roles: a recall floor, not a fetch count (fewer fetches is no merit in itself)
    (burst,) = report["bursts"]
    assert burst["seconds"] < 1.0
    assert a["by_source"]["invite"]["recall"] >= 0.95
    # and the driver's funnel is what the database recorded
    funnel = report["funnel"]
    assert funnel["landing"] == count(db, "click") == 30
    assert funnel["joined"] == count(db, "discord_join")
    assert funnel["onboarding_started"] == count(db, "onboarding_start")
    assert funnel["converted"] == count(db, "conversion") > 0
    assert report["errors"] == {}


def test_it_reconciles_every_join_made_while_the_bot_restarts(tmp_path):
    # when the bot is stopped after the 5th join and started again a second later
    report, db = simulate(
        tmp_path, "--visitors", "20", "--join-rate", "10", "--restart-bot-at", "5",
        "--bot-downtime", "1", "--step-timeout", "8",
    )  # fmt: skip

    # then the joins made meanwhile are each attributed or ambiguous, none missed or wrong
    restart = report["restart"]
    assert restart["joins_during"] > 0 and restart["missed"] == 0
    assert restart["attributed"] + restart["ambiguous"] == restart["joins_during"]
    assert report["attribution"]["wrong"] == report["attribution"]["missed"] == 0
    # and, their referral roles telling their links, nearly all of them were credited
    assert report["attribution"]["by_source"]["invite"]["recall"] >= 0.9
    assert report["funnel"]["joined"] == count(db, "discord_join")


def test_it_attributes_a_burst_of_oauth_joins_exactly(tmp_path):
    # when 30 visitors on 30 links all "Join with Discord", their joins released in one burst
    report, db = simulate(
        tmp_path, "--visitors", "30", "--links", "30", "--burst", "30", "--oauth-share", "1.0",
        "--drop-landing", "0", "--drop-invite", "0",
    )  # fmt: skip

    # then every join is recorded once, exact, on the visitor's link: nothing wrong or missed
    a = report["attribution"]
    assert (a["recall"], a["precision"], a["wrong"], a["missed"]) == (1.0, 1.0, 0, 0)
    assert a["exact"] == a["real_joins"] == report["funnel"]["joined"] == 30
    oauth = a["by_source"]["oauth"]
    assert (oauth["joins"], oauth["exact"], oauth["recorded_as_oauth"]) == (30, 30, 30)
    assert oauth["recorded_more_than_once"] == a["by_source"]["invite"]["joins"] == 0
    assert report["funnel"]["joined_oauth"] == count(db, "discord_join") == 30
    # and each member was welcomed once (a second welcome would be an error), no invite spent
    assert report["funnel"]["welcomed"] == 30 and report["errors"] == {}
    assert report["database"]["invites_handed_out"] == 0
    assert report["latency_ms"]["oauth_callback"]["n"] == 30
    (burst,) = report["bursts"]
    assert burst["size"] == 30


@pytest.mark.django_db
def test_it_scores_oauth_joins_against_the_link_the_visitor_used(bob_link, charlie_link):
    # given three OAuth joins through bob's link: one credited to bob exactly, one credited to
    # charlie, one never recorded
    ids = ["1400000000000000011", "1400000000000000012", "1400000000000000013"]
    for member, link in zip(ids[:2], (bob_link, charlie_link), strict=True):
        ReferralEvent.objects.create(
            event_type=ReferralEvent.EventType.DISCORD_JOIN,
            link=link,
            discord_user_id=member,
            metadata={"decision": "exact", "source": "oauth", "invite_code": None},
        )
    truth = [{"via": "oauth", "user_id": m, "invite_code": None} for m in ids]

    # when it is scored against the links the visitors pressed "Join with Discord" on
    scored, decisions = score_attribution(truth, dict.fromkeys(ids, str(bob_link.pk)))

    # then one is exact and right, one wrong, one missed, split out under by_source
    assert (scored["exact"], scored["wrong"], scored["missed"]) == (2, 1, 1)
    assert (scored["recall"], scored["precision"], scored["wrong_invite"]) == (0.3333, 0.5, 0)
    oauth = scored["by_source"]["oauth"]
    assert (oauth["joins"], oauth["correct"], oauth["wrong"], oauth["missed"]) == (3, 1, 1, 1)
    assert decisions[ids[2]] == "missed"


@pytest.mark.django_db
def test_it_scores_a_credit_to_another_link_as_wrong(bob_link, charlie_link):
    # given bob's visitor joined through bob's invite, but the join was credited to charlie
    ManagedInvite.objects.create(
        campaign=bob_link.campaign,
        discord_invite_code="bobsInvite1",
        discord_invite_url="http://127.0.0.1/invite/bobsInvite1",
        guild_id=defaults.GUILD_ID,
        channel_id=defaults.INVITE_CHANNEL_ID,
        referral_link=bob_link,
        status=ManagedInvite.Status.USED,
        expires_at=timezone.now(),
    )
    ReferralEvent.objects.create(
        event_type=ReferralEvent.EventType.DISCORD_JOIN,
        link=charlie_link,
        discord_user_id="1400000000000000001",
        metadata={"decision": "exact", "invite_code": "bobsInvite1"},
    )
    truth = [
        {"via": "invite", "user_id": "1400000000000000001", "invite_code": "bobsInvite1"},
        {"via": "invite", "user_id": "1400000000000000002", "invite_code": "bobsInvite1"},
    ]

    # when it is scored against the ground truth
    scored, decisions = score_attribution(truth)

    # then it is wrong, the join with no record is missed, and precision says so
    assert (scored["wrong"], scored["missed"], scored["precision"]) == (1, 1, 0.0)
    assert decisions == {"1400000000000000001": "exact", "1400000000000000002": "missed"}


def test_it_exits_non_zero_when_any_join_was_credited_wrongly(monkeypatch):
    # given a run whose report has one wrong attribution
    report = finished_report(wrong=1)
    monkeypatch.setattr(simulate_command, "run_simulation", lambda options: report)

    # when the command finishes, then it fails, saying why
    with pytest.raises(CommandError, match="1 join\\(s\\) credited to a link other"):
        call_command("simulate", "--no-progress", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_it_refuses_options_that_mean_nothing():
    with pytest.raises(CommandError, match="--campaigns must be between 1 and --links"):
        call_command("simulate", "--links", "2", "--campaigns", "3")
    with pytest.raises(CommandError, match="--oauth-share is a share between 0 and 1"):
        call_command("simulate", "--oauth-share", "1.5")
    with pytest.raises(CommandError, match="--database-url is postgres://user@host:5432/name"):
        call_command("simulate", "--database-url", "garbage://x")


def test_it_refuses_the_new_options_out_of_range_naming_them():
    with pytest.raises(CommandError, match="--invite-max-age must be between 60 and 604800"):
        call_command("simulate", "--invite-max-age", "59")
    with pytest.raises(CommandError, match="--discord-latency-ms must be between 0 and 10000"):
        call_command("simulate", "--discord-latency-ms", "-1")
    for wrong, message in [
        ({"arrivals": "bursty"}, "--arrivals is poisson or even"),
        ({"popularity": "pareto"}, "--popularity is zipf or uniform"),
        ({"referral_roles": "maybe"}, "--referral-roles is on or off"),
        ({"roles_in": "later"}, "--roles-in is add or update"),
    ]:
        with pytest.raises(ValueError, match=message):
            SimulationOptions(**wrong).validate()


def test_it_sends_most_visitors_through_a_few_links_with_zipf():
    # given ten links
    links = [LinkInfo(f"code{n}", str(n), "c") for n in range(10)]

    # when 2000 visitors are planned with each popularity
    zipf = plan(SimulationOptions(visitors=2000, popularity="zipf"), links)
    uniform = plan(SimulationOptions(visitors=2000, popularity="uniform"), links)
    again = plan(SimulationOptions(visitors=2000, popularity="zipf"), links)

    # then with zipf the top three links carry most of them (1/rank^1.1: ~61 %), uniformly
    # about 30 %, and one seed always plans the same visitors
    def top3(visitors) -> float:
        counted = sorted(Counter(v.link.code for v in visitors).values(), reverse=True)
        return sum(counted[:3]) / len(visitors)

    assert 0.55 < top3(zipf) < 0.67
    assert top3(uniform) < 0.36
    assert [v.link.code for v in zipf] == [v.link.code for v in again]
    assert Counter(v.link.code for v in zipf).most_common(1)[0][0] == "code0"


def test_it_spaces_paced_joins_as_a_poisson_process_or_evenly():
    # given a join rate of 20 per second
    poisson = arrival_gaps(SimulationOptions(join_rate=20, arrivals="poisson", seed=7))
    same_seed = arrival_gaps(SimulationOptions(join_rate=20, arrivals="poisson", seed=7))
    even = arrival_gaps(SimulationOptions(join_rate=20, arrivals="even"))

    # when 4000 gaps are drawn
    gaps = [next(poisson) for _ in range(4000)]

    # then their mean is 1/rate, they vary as exponential gaps do (sd = mean), seeded; even
    # gaps are exactly 1/rate
    mean = sum(gaps) / len(gaps)
    sd = (sum((g - mean) ** 2 for g in gaps) / len(gaps)) ** 0.5
    assert abs(mean - 0.05) < 0.004 and abs(sd - 0.05) < 0.006
    assert [next(same_seed) for _ in range(4000)] == gaps
    assert {next(even) for _ in range(10)} == {0.05}


@pytest.mark.django_db
def test_it_sets_invite_age_and_referral_roles_on_the_simulated_campaigns():
    # when the run's world is made with short invites and without referral roles
    create_world(2, 2, invite_max_age=120, referral_roles="off")
    create_world(1, 1)

    # then the campaigns carry both, and the defaults are per-link roles and 600 s invites
    got = sorted(Campaign.objects.values_list("invite_max_age_seconds", "referral_roles"))
    assert got == [(120, "off"), (120, "off"), (600, "per_link")]


@pytest.mark.django_db
def test_it_counts_credits_per_link_against_real_joins(bob_link, charlie_link):
    # given bob's invite used twice and charlie's once, an OAuth join on charlie's link, and
    # three credits to bob (one of them an ambiguous join carrying link-level credit)
    for code, link in (("bobsInvite1", bob_link), ("charliesInv", charlie_link)):
        ManagedInvite.objects.create(
            campaign=link.campaign,
            discord_invite_code=code,
            discord_invite_url=f"http://127.0.0.1/invite/{code}",
            guild_id=defaults.GUILD_ID,
            channel_id=defaults.INVITE_CHANNEL_ID,
            referral_link=link,
            status=ManagedInvite.Status.USED,
            expires_at=timezone.now(),
        )
    truth = [
        {"via": "invite", "user_id": "1", "invite_code": "bobsInvite1"},
        {"via": "invite", "user_id": "2", "invite_code": "bobsInvite1"},
        {"via": "invite", "user_id": "3", "invite_code": "charliesInv"},
        {"via": "oauth", "user_id": "4", "invite_code": None},
        {"via": "seed", "user_id": "5", "invite_code": None},
    ]
    for member, decision in (("1", "exact"), ("2", "link"), ("3", "ambiguous")):
        ReferralEvent.objects.create(
            event_type=ReferralEvent.EventType.DISCORD_JOIN,
            link=bob_link,
            discord_user_id=member,
            metadata={"decision": decision},
        )
    links = [
        (bob_link.referral_code, str(bob_link.pk)),
        (charlie_link.referral_code, str(charlie_link.pk)),
    ]

    # when the credit is counted link by link
    credit = link_credit(truth, links, {"4": str(charlie_link.pk)})

    # then bob is over-credited by one, charlie's two real joins got no credit
    assert credit["per_link"] == [
        {"code": bob_link.referral_code, "credited": 3, "actual": 2},
        {"code": charlie_link.referral_code, "credited": 0, "actual": 2},
    ]
    assert (credit["links"], credit["links_exact"], credit["over_credited"]) == (2, 0, 1)
    assert (credit["credited_total"], credit["actual_total"]) == (3, 4)


def test_it_shows_the_link_credit_in_the_table():
    report = finished_report(wrong=0)
    report["attribution"]["link_credit"] = {
        "links": 10, "links_exact": 7, "credited_total": 40, "actual_total": 42,
        "over_credited": 1, "per_link": [],
    }  # fmt: skip

    table = render_table(report)

    assert "link credit" in table
    assert "7/10 links exact  credited 40  actual 42  over-credited 1" in table


def test_it_runs_with_the_emulator_and_campaign_options_it_was_given(tmp_path):
    # when a small run asks for even arrivals, uniform links, 120 s invites, no referral roles,
    # roles in GUILD_MEMBER_ADD and 20 ms of Discord latency
    report, db = simulate(
        tmp_path, "--visitors", "12", "--arrivals", "even", "--popularity", "uniform",
        "--invite-max-age", "120", "--referral-roles", "off", "--roles-in", "add",
        "--discord-latency-ms", "20",
    )  # fmt: skip

    # then the report echoes them, the campaigns were made with them, and link credit adds up
    options = report["options"]
    assert (options["arrivals"], options["popularity"]) == ("even", "uniform")
    assert (options["invite_max_age"], options["referral_roles"]) == (120, "off")
    assert (options["roles_in"], options["discord_latency_ms"]) == ("add", 20.0)
    campaigns = db.execute(
        "SELECT invite_max_age_seconds, referral_roles FROM discord_guild_campaigns"
    )
    assert set(campaigns.fetchall()) == {(120, "off")}
    credit = report["attribution"]["link_credit"]
    assert credit["links"] == len(credit["per_link"]) == 8
    assert credit["actual_total"] == report["attribution"]["real_joins"]
    assert credit["credited_total"] == count(db, "discord_join") - count_unlinked_joins(db)
    assert report["attribution"]["wrong"] == 0


def count_unlinked_joins(db: sqlite3.Connection) -> int:
    sql = "SELECT COUNT(*) FROM referral_analytics WHERE event_type = ? AND link_id IS NULL"
    return db.execute(sql, ("discord_join",)).fetchone()[0]
