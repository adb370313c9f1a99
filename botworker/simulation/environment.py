"""The simulated deployment: a fresh database, the web app on a threaded WSGI server, the local
Discord on its own thread, and settings pointing everything at each other (the bot, started by
`botrunner` in a process of its own, is given the same settings).

Everything binds to 127.0.0.1 on a free port. The simulator runs in its own process, so it may
change `django.conf.settings` — but only before the first database or cache connection, which
is why `Environment.start()` is the first thing a run does.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path

import environ
from django.conf import settings
from django.core.cache import caches
from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import ThreadedWSGIServer, WSGIRequestHandler
from django.db import connections

from botworker.emulator import Emulator, EmulatorThread
from botworker.emulator import defaults as discord

log = logging.getLogger("botworker.simulation")

HOST = "127.0.0.1"
SQLITE_FILE = "simulate.sqlite3"


class QuietHandler(WSGIRequestHandler):
    """runserver's handler without a log line per request (thousands of them per run)."""

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
        return None


class WebServer(ThreadedWSGIServer):
    """Django's threaded dev server: it closes each request thread's database connections, so
    a run on PostgreSQL does not leak one connection per request. A deeper listen queue than
    runserver's 10, because `--concurrency` visitors connect at once."""

    request_queue_size = 256


def database_config(url: str) -> dict:
    """DATABASES["default"] for `url` (empty: the throwaway SQLite file under var/).

    The run's database is Django's test database of that configuration (`<name>_simulate` on
    PostgreSQL), created fresh and dropped afterwards: the URL names a server, never a database
    whose rows the simulator would overwrite.
    """
    if not url:
        path = Path(settings.VAR_DIR) / SQLITE_FILE
        path.parent.mkdir(exist_ok=True)
        url = f"sqlite:///{path}"
    try:
        config = environ.Env.db_url_config(url)
    except Exception as exc:  # django-environ raises assorted errors on bad URLs
        raise ValueError(f"--database-url {url!r} could not be read: {exc}") from None
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # Web threads, the bot and tasks share the file: as settings.py configures it.
        config["ENGINE"] = settings.SQLITE_ENGINE
        config.setdefault("OPTIONS", {}).update(settings.SQLITE_OPTIONS)
        config["TEST"] = {"NAME": config["NAME"]}
    elif config["ENGINE"].startswith("django.db.backends.postgresql"):
        config["CONN_MAX_AGE"] = 0
        config["TEST"] = {"NAME": f"{config['NAME']}_simulate"}
    else:
        raise ValueError(
            f"--database-url: unsupported database {config['ENGINE'] or url!r}: use "
            "postgres://user@host:5432/name or sqlite:///path"
        )
    return config


def _reset_handler(handler: object) -> None:
    """Make a connection handler (databases, caches) read its settings again."""
    handler.close_all()  # type: ignore[attr-defined]
    handler.__dict__.pop("settings", None)
    handler._settings = None  # type: ignore[attr-defined]
    from asgiref.local import Local

    handler._connections = Local(handler.thread_critical)  # type: ignore[attr-defined]


@dataclass
class Environment:
    """The running pieces and their addresses; `stop()` takes them down in reverse order."""

    database_url: str = ""
    keep_db: bool = False
    # Emulator constructor arguments (e.g. latency_ms, roles_in).
    emulator_options: dict = field(default_factory=dict)
    emulator: EmulatorThread | None = None
    server: WebServer | None = None
    web_base: str = ""
    _old_db_name: str = ""
    _threads: list[threading.Thread] = field(default_factory=list)

    def start(self) -> Environment:
        """1. settings that let synthetic visitors through (rate limits off, plain HTTP);
        2. a fresh database, migrated; 3. the local Discord; 4. the web app on a free port."""
        self._override_settings()
        self._create_database()
        self.emulator = Emulator.run_in_thread(**self.emulator_options)
        self._point_at_emulator(self.emulator)
        self._start_web()
        return self

    def _override_settings(self) -> None:
        # One address sends every visitor: the per-IP and per-link limits would refuse them.
        settings.JOIN_RATE_LIMIT_PER_IP = (0, 60)
        settings.JOIN_RATE_LIMIT_PER_LINK = (0, 60)
        settings.LANDING_RATE_LIMIT_PER_IP = (0, 60)
        # Plain HTTP on loopback even when the environment says production.
        settings.SECURE_SSL_REDIRECT = False
        settings.CSRF_COOKIE_SECURE = settings.SESSION_COOKIE_SECURE = False
        settings.ALLOWED_HOSTS = [HOST, "localhost"]
        # Embedded defaults for everything shared with other processes: this run's cache,
        # snapshots and tasks must not meet another run's (or CI's) Redis keys.
        settings.REDIS_URL = ""
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "invitetrail-simulate",
            }
        }
        _reset_handler(caches)
        from config.celery import app

        settings.CELERY_TASK_ALWAYS_EAGER = True
        app.conf.task_always_eager = True
        app.conf.task_eager_propagates = True

    def _create_database(self) -> None:
        config = database_config(self.database_url)
        self._old_db_name = config["NAME"]
        settings.DATABASES = {"default": config}
        _reset_handler(connections)
        connections["default"].creation.create_test_db(
            verbosity=0, autoclobber=True, serialize=False, keepdb=False
        )

    def _point_at_emulator(self, emu: EmulatorThread) -> None:
        from botworker import discord_rest

        settings.DISCORD_API_BASE = emu.api_base
        settings.DISCORD_BOT_TOKEN = discord.BOT_TOKEN
        settings.DISCORD_INVITE_BASE = f"{emu.base_url}/invite"
        settings.DISCORD_CLIENT_ID = discord.APPLICATION_ID
        settings.DISCORD_CLIENT_SECRET = discord.CLIENT_SECRET
        discord_rest._client = None  # a client built for another base must not be reused

    def _start_web(self) -> None:
        self.server = WebServer((HOST, 0), QuietHandler, allow_reuse_address=False)
        self.web_base = f"http://{HOST}:{self.server.server_port}"
        settings.PUBLIC_BASE_URL = self.web_base
        settings.CSRF_TRUSTED_ORIGINS = [self.web_base]
        self.server.set_app(WSGIHandler())
        thread = threading.Thread(target=self.server.serve_forever, name="web", daemon=True)
        thread.start()
        self._threads.append(thread)

    @property
    def database_label(self) -> str:
        config = connections["default"].settings_dict
        return f"{config['ENGINE'].rsplit('.', 1)[-1]}:{config['NAME']}"

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
        if self.emulator is not None:
            self.emulator.stop()
        connections.close_all()
        if self._old_db_name:
            connections["default"].creation.destroy_test_db(
                self._old_db_name, verbosity=0, keepdb=self.keep_db
            )
