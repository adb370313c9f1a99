"""`manage.py discord_emulator`: serve the local Discord (REST, Gateway, OAuth2, control API, UI).

Independent of the database: it only reads flags, so it runs before migrations and beside any
settings. Point the app at it with DISCORD_API_BASE=http://HOST:PORT/api/v10.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from django.core.management.base import BaseCommand, CommandError, CommandParser

from botworker.management.devonly import require

try:
    from botworker.emulator import Emulator, defaults
    from botworker.emulator.faults import parse_rate
except ModuleNotFoundError:  # installed from the wheel, which leaves the local Discord out
    Emulator = defaults = parse_rate = None


class Command(BaseCommand):
    help = (
        "Run the local Discord emulator: REST v10 at /api/v10, the Gateway at ws://HOST:PORT, "
        "OAuth2, the control API at /_emulator/ and a web UI at /. Stop with Ctrl-C."
    )
    requires_system_checks: list[str] = []
    requires_migrations_checks = False

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
        parser.add_argument("--port", type=int, default=8100, help="port to bind (8100; 0: any)")
        parser.add_argument(
            "--token",
            default=defaults.BOT_TOKEN if defaults else "",
            help="the bot token accepted (the default's)",
        )
        parser.add_argument(
            "--no-seed", action="store_true", help="start empty instead of the demo guild"
        )
        parser.add_argument(
            "--strict",
            action="store_true",
            help="record unknown routes, refused bodies, off-spec shapes (/_emulator/violations)",
        )
        parser.add_argument(
            "--rate-limit",
            default="50/1",
            metavar="N/SECONDS",
            help="per-route bucket, e.g. 5/1 ('off' to disable; default 50/1)",
        )
        parser.add_argument(
            "--global-rate-limit", type=int, default=50, help="requests/s per bot (0: off; 50)"
        )
        parser.add_argument(
            "--fail-rate",
            type=float,
            default=0.0,
            help="probability (0–1) that any REST call answers 500 (seeded, see --random-seed)",
        )
        parser.add_argument(
            "--latency-ms",
            type=float,
            default=0.0,
            help="delay added to every REST answer and gateway payload (order kept)",
        )
        parser.add_argument("--random-seed", type=int, default=0, help="seed for injected faults")
        parser.add_argument(
            "--no-members-intent",
            action="store_true",
            help="application without the GUILD_MEMBERS privileged intent (bots asking get 4014)",
        )
        parser.add_argument(
            "--invite-delete-order",
            choices=("before", "after"),
            default="after",
            help="INVITE_DELETE of a consumed invite before or after GUILD_MEMBER_ADD",
        )
        parser.add_argument(
            "--roles-in",
            choices=("add", "update"),
            default="update",
            help="a role invite's roles already in GUILD_MEMBER_ADD, or in a GUILD_MEMBER_UPDATE "
            "just after it",
        )

    def handle(self, *args: object, **options: object) -> None:
        require(defaults, "discord_emulator")
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
        rate = str(options["rate_limit"])
        try:
            route_rate = None if rate.lower() == "off" else parse_rate(rate)
        except ValueError:
            raise CommandError(f"--rate-limit={rate!r}: use N/SECONDS, e.g. 5/1, or off") from None
        if not 0.0 <= float(options["fail_rate"]) <= 1.0:  # type: ignore[arg-type]
            raise CommandError("--fail-rate is a probability between 0 and 1")
        emulator = Emulator(
            host=str(options["host"]),
            port=int(options["port"]),  # type: ignore[arg-type]
            token=str(options["token"]),
            seed=not options["no_seed"],
            strict=bool(options["strict"]),
            members_intent=not options["no_members_intent"],
            route_rate=route_rate,
            global_rate=int(options["global_rate_limit"]) or None,  # type: ignore[arg-type]
            fail_rate=float(options["fail_rate"]),  # type: ignore[arg-type]
            latency_ms=float(options["latency_ms"]),  # type: ignore[arg-type]
            random_seed=int(options["random_seed"]),  # type: ignore[arg-type]
            invite_delete_order=str(options["invite_delete_order"]),
            roles_in=str(options["roles_in"]),
        )
        asyncio.run(self._serve(emulator))

    async def _serve(self, emulator: Emulator) -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await emulator.start()
        except OSError as exc:  # the port is taken: one line, not a traceback
            raise CommandError(
                f"The local Discord cannot listen on {emulator.host}:{emulator.port}: "
                f"{exc.strerror or exc}."
            ) from None
        self.stdout.write(f"Discord emulator UI:  {emulator.base_url}/")
        self.stdout.write(f"REST API base:        {emulator.api_base}")
        self.stdout.write(f"Gateway:              {emulator.ws_url}")
        self.stdout.write(f"Control API:          {emulator.base_url}/_emulator/state")
        self.stdout.flush()
        try:
            await stop.wait()
        finally:
            self.stdout.write("Stopping the Discord emulator.")
            await emulator.stop()
