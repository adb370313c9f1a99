"""`manage.py simulate`: synthetic visitors through the real web app, bot, Celery and the local
Discord; attribution scored against the emulator's ground truth. Thin: options in, the
report out (table on stdout, JSON with --json), exit status 1 when any join was credited to
the wrong link. The work is in `botworker.simulation`.
"""

import json
import logging
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import OperationalError

from botworker.management.devonly import require

try:
    from botworker.simulation import DropOff, SimulationOptions, render_table, run_simulation
except ModuleNotFoundError:  # installed from the wheel, which leaves the simulator out
    DropOff = SimulationOptions = render_table = run_simulation = None


class Command(BaseCommand):
    help = (
        "Run the web app, the bot, Celery (eager) and the local Discord together on a fresh "
        "database and drive synthetic visitors through click → join → onboarding → conversion. "
        "Prints the funnel, attribution accuracy (against the emulator's ground truth), "
        "latencies and Discord calls; exits 1 when any join was credited to the wrong link, or "
        "when invite-join recall is below --min-recall."
    )
    # The command replaces the database settings before its first query: no start-up checks
    # that would open a connection to the configured database first.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        a = parser.add_argument
        a("--visitors", type=int, default=100, help="synthetic visitors (default 100)")
        a("--concurrency", type=int, default=8, help="visitors in flight at once (default 8)")
        a("--links", type=int, default=10, help="referral links to spread visitors over")
        a("--campaigns", type=int, default=1, help="campaigns the links belong to (one guild)")
        a("--drop-landing", type=float, default=0.10, help="P(leave after the landing page)")
        a("--drop-invite", type=float, default=0.05, help="P(get an invite, never join)")
        a("--drop-welcome", type=float, default=0.10, help="P(join, never start onboarding)")
        a("--drop-form", type=float, default=0.05, help="P(open the form, never submit it)")
        a("--join-rate", type=float, default=20.0, help="joins per second outside bursts")
        a(
            "--arrivals",
            choices=("poisson", "even"),
            default="poisson",
            help="paced joins arrive with exponential gaps of mean 1/--join-rate (poisson, "
            "seeded) or evenly spaced",
        )
        a(
            "--popularity",
            choices=("zipf", "uniform"),
            default="zipf",
            help="which link each visitor comes through: zipf (weight 1/rank^1.1, a few links "
            "carry most visitors; seeded) or uniform",
        )
        a(
            "--burst",
            type=int,
            default=0,
            help="release joins in bursts of N, all within about one second (0: paced)",
        )
        a(
            "--restart-bot-at",
            type=int,
            default=None,
            metavar="N",
            help="stop the bot gracefully after the N-th join; joins go on while it is down",
        )
        a(
            "--burst-every",
            type=float,
            default=5.0,
            metavar="S",
            help="seconds from one burst's start to the next one's, at least (default 5)",
        )
        a("--bot-downtime", type=float, default=2.0, help="seconds the bot stays down")
        a(
            "--fault-429",
            type=int,
            default=0,
            metavar="N",
            help="answer the next N Discord REST calls with 429, at each burst (or at start)",
        )
        a(
            "--fault-5xx",
            type=float,
            default=0.0,
            metavar="P",
            help="answer each Discord REST call with a 500 with probability P",
        )
        a(
            "--drop-gateway",
            type=int,
            default=0,
            metavar="N",
            help="drop the bot's gateway connection N times, spread over the joins",
        )
        a(
            "--oauth-share",
            type=float,
            default=0.0,
            metavar="SHARE",
            help='share of visitors (0–1, default 0) who join with "Join with Discord" (OAuth2 '
            "guilds.join) instead of an invite, chosen with --seed; the campaigns then offer "
            "both (join_method both) and these joins are scored like the rest",
        )
        a(
            "--invite-max-age",
            type=int,
            default=600,
            metavar="SECONDS",
            help="lifetime of the campaigns' invites (60 s to 7 days, default 600): abandoned "
            "invites can expire within a run",
        )
        a(
            "--referral-roles",
            choices=("on", "off"),
            default="on",
            help="give each link its own Discord role carried by its invites (campaign "
            "referral_roles per_link) or not (off)",
        )
        a(
            "--roles-in",
            choices=("add", "update"),
            default="update",
            help="where the local Discord puts a role invite's roles: already in "
            "GUILD_MEMBER_ADD, or in a GUILD_MEMBER_UPDATE just after it (default)",
        )
        a(
            "--discord-latency-ms",
            type=float,
            default=80.0,
            metavar="MS",
            help="network latency of the local Discord: every REST answer and gateway event "
            "arrives this much later (default 80)",
        )
        a("--seed", type=int, default=1, help="random seed: who drops off where, which link")
        a(
            "--database-url",
            default="",
            help="server to run on, e.g. postgres://user@127.0.0.1:5432/name (the run uses a "
            "fresh <name>_simulate database); default: a throwaway SQLite file in var/",
        )
        a("--keep-db", action="store_true", help="keep the run's database afterwards")
        a("--step-timeout", type=float, default=30.0, help="longest wait for one bot action (s)")
        a("--json", dest="json_path", default="", metavar="PATH", help="write the report here")
        a(
            "--min-recall",
            type=float,
            default=None,
            metavar="R",
            help="also exit 1 when the invite joins' recall is below R (0–1), e.g. in CI",
        )
        a("--no-progress", action="store_true", help="no progress bar")

    def handle(self, *args, **o) -> None:
        require(run_simulation, "simulate")
        # Request and bot logs would bury the table; warnings still show.
        for name in ("referrals", "analytics", "botworker", "celery", "django"):
            logging.getLogger(name).setLevel(logging.WARNING)
        # No voice support, memory broker unused in eager mode: nothing an operator acts on.
        for name in ("nextcord", "kombu"):
            logging.getLogger(name).setLevel(logging.ERROR)
        options = SimulationOptions(
            visitors=o["visitors"],
            concurrency=o["concurrency"],
            links=o["links"],
            campaigns=o["campaigns"],
            drop=DropOff(o["drop_landing"], o["drop_invite"], o["drop_welcome"], o["drop_form"]),
            join_rate=o["join_rate"],
            arrivals=o["arrivals"],
            popularity=o["popularity"],
            burst=o["burst"],
            burst_every=o["burst_every"],
            restart_bot_at=o["restart_bot_at"],
            bot_downtime=o["bot_downtime"],
            fault_429=o["fault_429"],
            fault_5xx=o["fault_5xx"],
            drop_gateway=o["drop_gateway"],
            oauth_share=o["oauth_share"],
            invite_max_age=o["invite_max_age"],
            referral_roles=o["referral_roles"],
            roles_in=o["roles_in"],
            discord_latency_ms=o["discord_latency_ms"],
            seed=o["seed"],
            database_url=o["database_url"],
            keep_db=o["keep_db"],
            step_timeout=o["step_timeout"],
            progress=not o["no_progress"],
        )
        if o["min_recall"] is not None and not 0 <= o["min_recall"] <= 1:
            raise CommandError("--min-recall is a share between 0 and 1")
        try:
            options.validate()
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        try:
            report = run_simulation(options)
        except OperationalError as exc:
            first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise CommandError(f"--database-url: the database did not answer ({first})") from None
        self.stdout.write(render_table(report))
        if o["json_path"]:
            path = Path(o["json_path"])
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(report, indent=2) + "\n")
            self.stdout.write(f"report written to {path}")
        if report["attribution"]["wrong"]:
            raise CommandError(
                f"{report['attribution']['wrong']} join(s) credited to a link other than the "
                "one used"
            )
        recall = report["attribution"]["by_source"]["invite"]["recall"]
        floor = o["min_recall"]
        if floor is not None and (recall is None or recall < floor):
            raise CommandError(f"invite-join recall {recall} is below --min-recall {floor}")
