"""`manage.py rundemo`: the whole product on one machine, for people trying it out.

Starts the local Discord emulator, the web server, the bot and — when REDIS_URL is set — a Celery
worker with beat, as child processes wired to each other; prints where to click; and stops them
all on Ctrl-C (or SIGTERM). Without Redis, tasks run eagerly inside the web and bot processes.
"""

import os
import signal
import subprocess
import sys
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from botworker.management.devonly import require
from referrals.models import ReferralLink

try:
    from botworker.emulator import defaults as discord
except ModuleNotFoundError:  # installed from the wheel, which leaves the local Discord out
    discord = None

HOST = "127.0.0.1"


def _interrupt(*_) -> None:
    """SIGTERM stops the demo exactly as Ctrl-C does."""
    raise KeyboardInterrupt


class Command(BaseCommand):
    help = "Run the demo: local Discord, web server, bot (and worker with Redis). Ctrl-C stops all."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--web-port", type=int, default=8000)
        parser.add_argument("--discord-port", type=int, default=8100)

    def handle(self, *args, web_port: int, discord_port: int, **options) -> None:
        require(discord, "rundemo")
        self.children: list[tuple[str, subprocess.Popen]] = []
        env = self.child_env(web_port, discord_port)
        signal.signal(signal.SIGTERM, _interrupt)
        try:
            self.spawn("discord", ["discord_emulator", "--port", str(discord_port)], env)
            self.spawn("web", ["runserver", f"{HOST}:{web_port}", "--noreload"], env)
            self.wait_for(f"http://{HOST}:{discord_port}/", "local Discord")
            self.wait_for(f"http://{HOST}:{web_port}/healthz", "web server")
            self.spawn("bot", ["runbot"], env)
            if settings.REDIS_URL:
                self.spawn_worker(env)
            self.print_urls(web_port, discord_port)
            self.supervise()
        except KeyboardInterrupt:
            pass
        finally:
            self.stop()

    def child_env(self, web_port: int, discord_port: int) -> dict[str, str]:
        env = dict(os.environ)
        env.setdefault("PUBLIC_BASE_URL", f"http://{HOST}:{web_port}")
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
        process = subprocess.Popen([sys.executable, "manage.py", *command], env=env)
        self.children.append((name, process))

    def spawn_worker(self, env: dict[str, str]) -> None:
        command = [sys.executable, "-m", "celery", "-A", "config", "worker", "--beat"]
        command += ["--loglevel", "info", "--concurrency", "1"]
        self.children.append(("worker", subprocess.Popen(command, env=env)))

    def wait_for(self, url: str, what: str, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.check_children()
            try:
                with urllib.request.urlopen(url, timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise CommandError(f"The {what} did not answer at {url} within {timeout:.0f} s.")

    def check_children(self) -> None:
        for name, process in self.children:
            if process.poll() is not None:
                raise CommandError(f"The {name} process exited with status {process.returncode}.")

    def supervise(self) -> None:
        while True:
            self.check_children()
            time.sleep(0.5)

    def stop(self) -> None:
        for _, process in self.children:
            if process.poll() is None:
                process.terminate()
        for _, process in self.children:
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
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
