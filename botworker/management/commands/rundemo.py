"""`manage.py rundemo`: the whole product on one machine, for people trying it out.

1. Checks its ports first: when a demo already runs there it says so in one line and exits 1
   (as when another program holds a port), before anything is started or loaded.
2. Starts the local Discord emulator; with `--setup` (what `make demo` uses) then migrates and
   loads the demo data and activity, pointed at it.
3. Starts the web server, the bot and — when REDIS_URL is set — a
   Celery worker with beat, as child processes wired to each other, and prints where to click.
4. Ctrl-C (SIGINT), SIGTERM or SIGHUP stops them in the reverse order — worker, bot, web, local
   Discord — each finishing before the next is asked, so the bot closes its gateway session
   while the local Discord still answers; then it exits 0. The children run in their own
   process groups, so the terminal's Ctrl-C reaches only this supervisor.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from botworker.management.devonly import require
from config.cli import int_between
from referrals.models import ReferralLink

try:
    from botworker.emulator import defaults as discord
except ModuleNotFoundError:  # installed from the wheel, which leaves the local Discord out
    discord = None

HOST = "127.0.0.1"
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
# Seconds a child may take to stop before it is killed: the bot finishes its batch first.
GRACE = {"bot": 20.0}
DEFAULT_GRACE = 10.0


# What child_env sets that this process's own settings must match during --setup.
CHILD_SETTINGS = (
    "PUBLIC_BASE_URL",
    "DISCORD_API_BASE",
    "DISCORD_INVITE_BASE",
    "DISCORD_BOT_TOKEN",
    "DISCORD_CLIENT_ID",
    "DISCORD_CLIENT_SECRET",
)


class Stop(Exception):
    """A stop signal arrived."""


def _stop(*_) -> None:
    raise Stop


# A TCP port to listen on (0 would pick one the demo could not announce).
port_number = int_between(1, 65535, "a port number")


def port_taken(port: int) -> bool:
    with socket.socket() as probe:
        # As the servers bind: a port only in TIME_WAIT after a stopped demo is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return True
    return False


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run the demo: local Discord, web server, bot (and worker with Redis). Ctrl-C stops all."
    # The web server and the bot run the system checks themselves; a refused second demo
    # answers sooner without them.
    requires_system_checks: list[str] = []

    def add_arguments(self, parser) -> None:
        parser.add_argument("--web-port", type=port_number, default=8000)
        parser.add_argument("--discord-port", type=port_number, default=8100)
        parser.add_argument(
            "--setup",
            action="store_true",
            help="migrate and load the demo data and activity first (once the ports are free)",
        )

    def handle(self, *args, web_port: int, discord_port: int, setup: bool, **options) -> None:
        require(discord, "rundemo")
        self.check_ports(web_port, discord_port)
        self.children: list[tuple[str, subprocess.Popen]] = []
        env = self.child_env(web_port, discord_port)
        for sig in STOP_SIGNALS:
            signal.signal(sig, _stop)
        failure: CommandError | None = None
        try:
            self.spawn("local Discord", ["discord_emulator", "--port", str(discord_port)], env)
            self.wait_for(f"http://{HOST}:{discord_port}/", "local Discord")
            if setup:
                self.setup(env)
            self.spawn("web server", ["runserver", f"{HOST}:{web_port}", "--noreload"], env)
            self.wait_for(f"http://{HOST}:{web_port}/healthz", "web server")
            self.spawn("bot", ["runbot"], env)
            if settings.REDIS_URL:
                self.spawn_worker(env)
            self.print_urls(web_port, discord_port)
            self.supervise()
        except (Stop, KeyboardInterrupt):
            pass
        except CommandError as error:
            failure = error
        finally:
            self.stop()
        if failure is not None:
            raise failure
        self.stdout.write("Demo stopped.")

    def check_ports(self, web_port: int, discord_port: int) -> None:
        """One line, before anything starts, when a port is taken (by a demo or anything)."""
        if web_port == discord_port:
            raise CommandError(
                f"--web-port and --discord-port are both {web_port}: give each its own port."
            )
        web, local_discord = port_taken(web_port), port_taken(discord_port)
        if not (web or local_discord):
            return
        if (
            web
            and local_discord
            and answers(f"http://{HOST}:{web_port}/healthz")
            and answers(f"http://{HOST}:{discord_port}/_emulator/state")
        ):
            raise CommandError(
                f"A demo is already running on ports {web_port} (web, http://{HOST}:{web_port}/)"
                f" and {discord_port} (local Discord): use it, or stop it with Ctrl-C first."
            )
        port, option = (web_port, "--web-port") if web else (discord_port, "--discord-port")
        raise CommandError(
            f"Port {port} on {HOST} is in use by another program: stop it, or choose another "
            f"port with {option}."
        )

    def setup(self, env: dict[str, str]) -> None:
        """Migrate and load the demo, with this process wired as the children are (the links'
        URLs on the web port, their referral roles made in the local Discord)."""
        for name in CHILD_SETTINGS:
            if name in env:
                setattr(settings, name, env[name])
        call_command("migrate", "--no-input", verbosity=0)
        call_command("demo_data")
        call_command("demo_activity")

    def child_env(self, web_port: int, discord_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{web_port}")
        # A demo knows it runs the development server: no production warning in its output.
        env.setdefault("DJANGO_RUNSERVER_HIDE_WARNING", "true")
        if not settings.DISCORD_BOT_TOKEN:
            # No real bot configured: point everything Discord-side at the local emulator.
            base = f"http://{HOST}:{discord_port}"
            env.update(
                DISCORD_API_BASE=f"{base}/api/v10",
                DISCORD_INVITE_BASE=f"{base}/invite",
                DISCORD_BOT_TOKEN=discord.BOT_TOKEN,
                DISCORD_CLIENT_ID=discord.APPLICATION_ID,
                DISCORD_CLIENT_SECRET=discord.CLIENT_SECRET,
            )
        return env

    def spawn(self, name: str, command: list[str], env: dict[str, str]) -> None:
        self.start(name, [sys.executable, "manage.py", *command], env)

    def spawn_worker(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"]
        self.start("worker", [*command, "--loglevel", "info", "--concurrency", "1"], env)

    def start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        # Its own process group: the terminal's Ctrl-C reaches only this supervisor, which
        # stops the children in order.
        self.children.append((name, subprocess.Popen(command, env=env, process_group=0)))

    def wait_for(self, url: str, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            if answers(url):
                return
            time.sleep(0.2)
        raise CommandError(f"The {what} did not answer at {url} within {timeout:.0f} s.")

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise CommandError(
                    f"The {name} exited with status {process.returncode} (its lines are above): "
                    "the demo stopped."
                )

    def supervise(self) -> None:
        while True:
            self.check_children()
            time.sleep(0.5)

    def stop(self) -> None:
        """Last started, first stopped; each gets SIGTERM and its grace period, then SIGKILL."""
        for sig in STOP_SIGNALS:  # a second Ctrl-C does not interrupt the orderly stop
            signal.signal(sig, signal.SIG_IGN)
        if self.children:
            names = ", ".join(name for name, _ in reversed(self.children))
            self.stdout.write(f"\nStopping the demo: {names}.")
            self.stdout.flush()
        for name, process in reversed(self.children):
            if process.poll() is None:
                process.terminate()
            try:
                process.wait(timeout=GRACE.get(name, DEFAULT_GRACE))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"The {name} did not stop in time: killed.")
                process.kill()
                process.wait()
        self.children = []

    def print_urls(self, web_port: int, discord_port: int) -> None:
        web = f"http://{HOST}:{web_port}"
        self.stdout.write(self.style.SUCCESS("\nInvitetrail demo is running.\n"))
        self.stdout.write(f"  Admin:          {web}/admin/  (admin / invitetrail-demo)")
        self.stdout.write(f"  Local Discord:  http://{HOST}:{discord_port}/  (accept invites, see")
        self.stdout.write(
            f"                  the welcome in http://{HOST}:{discord_port}/channels/"
            f"{discord.WELCOME_CHANNEL_ID})"
        )
        self.stdout.write("  Landing pages:")
        for link in ReferralLink.objects.select_related("influencer").order_by("title")[:6]:
            self.stdout.write(f"    {web}/r/{link.referral_code}   ({link.title})")
        self.stdout.write("\nPress Ctrl-C to stop.\n")
        self.stdout.flush()
