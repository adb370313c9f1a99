"""Invitetrail settings: one module, read from the environment (and `.env` when present).

Without any variable set, a fresh checkout runs on SQLite under `var/`, with Celery tasks run
eagerly and a local-memory cache. `.env.example` lists every variable with its default.
"""

import sys
from datetime import timedelta
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured

from config.env import (
    env_bool,
    env_choice,
    env_database,
    env_float,
    env_int,
    env_list,
    env_rate,
    env_str,
    env_time_zone,
    env_url,
)
from config.logs import logging_config

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def _shipped(folder: str) -> Path:
    """`templates/` or `static/`: beside manage.py in a checkout; from an installed wheel, where
    pip put its data files (`<sys.prefix>/share/invitetrail/<folder>`, see pyproject.toml)."""
    beside = BASE_DIR / folder
    return beside if beside.is_dir() else Path(sys.prefix) / "share" / "invitetrail" / folder


# A .env file beside manage.py is read when present; real environment variables win.
if (BASE_DIR / ".env").is_file():
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core -------------------------------------------------------------------------------------
DEBUG = env_bool("DJANGO_DEBUG", True)
_DEV_SECRET = "insecure-development-key-do-not-use-in-production"
SECRET_KEY = env_str("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY is not set: it is required when DJANGO_DEBUG=false.")
    SECRET_KEY = _DEV_SECRET
elif len(SECRET_KEY) < 32:
    raise ImproperlyConfigured("SECRET_KEY is too short: use at least 50 random characters.")

PUBLIC_BASE_URL = env_url("PUBLIC_BASE_URL", "http://127.0.0.1:8000")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [PUBLIC_BASE_URL])
CSRF_FAILURE_VIEW = "config.views.csrf_failure"

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    # Staff login lockouts; listed after the auth apps it extends.
    "axes",
    "rest_framework",
    "drf_spectacular",
    "campaigns",
    "referrals",
    "analytics",
    "analytics.webhooks",
    "botworker",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last: turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [_shipped("templates")],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database ---------------------------------------------------------------------------------
# SQLite: several processes (web, bot, worker) share the file in the demo, so a connection waits
# for the write lock instead of failing, takes it when its transaction begins, and the file uses
# write-ahead logging, where readers never hold up the one writer (with a rollback journal each
# reader delays every commit, and the bot's join records queue behind page views). The engine is
# Django's with a fair wait for that lock (config/sqlite/base.py says why).
SQLITE_ENGINE = "config.sqlite"
SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL;",
}
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{VAR_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    VAR_DIR.mkdir(exist_ok=True)
    DATABASES["default"]["ENGINE"] = SQLITE_ENGINE
    DATABASES["default"].setdefault("OPTIONS", {}).update(SQLITE_OPTIONS)
    # The test database is a file too: an in-memory one shares its cache between threads and
    # fails at once on table locks instead of waiting, and the bot works on several threads.
    DATABASES["default"].setdefault("TEST", {}).setdefault("NAME", str(VAR_DIR / "test.sqlite3"))
else:
    # Each process (a gunicorn worker, runserver, a Celery child, the bot) keeps at most
    # DATABASE_POOL_SIZE connections in psycopg's pool and makes a request wait up to
    # DATABASE_POOL_TIMEOUT seconds for a free one, so the server's connections are bounded by
    # processes × DATABASE_POOL_SIZE however many threads serve requests. 0 turns the pool off
    # (one connection per thread, kept DATABASE_CONN_MAX_AGE seconds).
    DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 10, min_value=0, max_value=200)
    DATABASE_POOL_TIMEOUT = env_float("DATABASE_POOL_TIMEOUT", 10.0, min_value=0.5)
    _conn_max_age = env_int("DATABASE_CONN_MAX_AGE", 0 if DATABASE_POOL_SIZE else 60, min_value=0)
    if DATABASE_POOL_SIZE:
        if _conn_max_age:
            raise ImproperlyConfigured(
                f"DATABASE_CONN_MAX_AGE={_conn_max_age} cannot be used with the pool "
                "(DATABASE_POOL_SIZE > 0), which keeps connections itself: unset it, or set "
                "DATABASE_POOL_SIZE=0 to keep one connection per thread instead."
            )
        DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
            "min_size": min(2, DATABASE_POOL_SIZE),
            "max_size": DATABASE_POOL_SIZE,
            "timeout": DATABASE_POOL_TIMEOUT,
        }
    DATABASES["default"]["CONN_MAX_AGE"] = _conn_max_age
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # Django binds parameters client-side, and such statements are never prepared; a threshold
    # no statement reaches lets the Join claim prepare its own explicitly (its planning cost
    # more than running it: referrals/invites/_handout.py) and nothing else.
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault("prepare_threshold", 2**31 - 1)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache, Celery ---------------------------------------------------------------------
REDIS_URL = env_url("REDIS_URL", "", schemes=("redis", "rediss", "unix"))
if REDIS_URL:
    CACHES = {
        "default": {
            # Django's, with one client per connection pool and one-round-trip rate limits.
            "BACKEND": "config.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "invitetrail",
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# memory:// with a host name: kombu warns "No hostname was supplied" for a bare memory://.
CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_RESULT_BACKEND = REDIS_URL or None
# No broker configured: run tasks in-process, so the embedded defaults need no Redis.
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_WORKER_HIJACK_ROOT_LOGGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    "top-up-invite-pools": {"task": "referrals.tasks.top_up_all_pools_task", "schedule": 60.0},
    # Often enough to revoke an unused invite in the minute before it expires (see below).
    "retire-invites": {"task": "referrals.tasks.retire_invites_task", "schedule": 20.0},
    "referral-roles": {"task": "referrals.tasks.ensure_all_referral_roles_task", "schedule": 300.0},
    # Conversions are written with the onboarding; this finishes roles and messages that a lost
    # task or an unreachable Discord left undone.
    "sweep-conversions": {"task": "analytics.tasks.sweep_conversions_task", "schedule": 60.0},
    # Webhook retries (exponential backoff, the shortest is 30 s) and first attempts a lost task
    # never made.
    "send-due-webhooks": {
        "task": "analytics.webhooks.tasks.send_due_webhooks_task",
        "schedule": 15.0,
    },
}

# Landing-page clicks go into a Redis stream that Celery drains into the database every
# CLICK_DRAIN_SECONDS, CLICK_DRAIN_BATCH events per transaction (analytics.clicks). On by
# default with REDIS_URL; off writes every click as it happens, as the embedded defaults do.
CLICK_BUFFER = env_bool("CLICK_BUFFER", bool(REDIS_URL))
if CLICK_BUFFER and not REDIS_URL:
    raise ImproperlyConfigured("CLICK_BUFFER=true needs REDIS_URL: the buffer is a Redis stream.")
CLICK_DRAIN_SECONDS = env_float("CLICK_DRAIN_SECONDS", 1.0, min_value=0.1)
CLICK_DRAIN_BATCH = env_int("CLICK_DRAIN_BATCH", 500, min_value=1, max_value=5000)
if CLICK_BUFFER:
    CELERY_BEAT_SCHEDULE["drain-clicks"] = {
        "task": "analytics.tasks.drain_clicks_task",
        "schedule": CLICK_DRAIN_SECONDS,
        # Drains queued while no worker ran are redundant: the next one moves everything.
        "options": {"expires": max(10.0, CLICK_DRAIN_SECONDS * 10)},
    }
# Seconds a landing page's link and campaign stay cached (saving either forgets them at once).
LINK_CACHE_SECONDS = env_int("LINK_CACHE_SECONDS", 300, min_value=0, max_value=86400)
# How long each web process keeps the copies it read on top (no cache round trip for a link
# being clicked); another process's save shows here within this time. 0: always ask the cache.
LINK_LOCAL_CACHE_SECONDS = env_float("LINK_LOCAL_CACHE_SECONDS", 1.0, min_value=0.0, max_value=60.0)

# --- Webhooks ---------------------------------------------------------------------------------
# Endpoints must be https. Plain http is accepted only to a loopback address (localhost,
# 127.0.0.0/8, ::1) and only when this is on: development (the default follows DJANGO_DEBUG)
# and tests. Checked when an endpoint is saved and again before every request.
WEBHOOK_ALLOW_HTTP_LOOPBACK = env_bool("WEBHOOK_ALLOW_HTTP_LOOPBACK", DEBUG)
# Seconds a receiver has to answer one request.
WEBHOOK_TIMEOUT_SECONDS = env_float("WEBHOOK_TIMEOUT_SECONDS", 10.0, min_value=1.0)
# A delivery is retried (exponential backoff from 30 s, capped at 2 h) for this many hours.
WEBHOOK_RETRY_HOURS = env_int("WEBHOOK_RETRY_HOURS", 24, min_value=1, max_value=168)
# An endpoint whose every attempt failed for this many hours is switched off (the reason shows
# in the admin); a manager switches it on again.
WEBHOOK_DISABLE_AFTER_HOURS = env_int("WEBHOOK_DISABLE_AFTER_HOURS", 24, min_value=1, max_value=168)

# --- Discord ----------------------------------------------------------------------------------
DISCORD_BOT_TOKEN = env_str("DISCORD_BOT_TOKEN", "")
DISCORD_API_BASE = env_url("DISCORD_API_BASE", "https://discord.com/api/v10")
DISCORD_CLIENT_ID = env_str("DISCORD_CLIENT_ID", "")
DISCORD_CLIENT_SECRET = env_str("DISCORD_CLIENT_SECRET", "")
# Where a visitor is sent for an invite code; the local emulator serves its own /invite/<code>.
DISCORD_INVITE_BASE = env_url("DISCORD_INVITE_BASE", "https://discord.gg")
DISCORD_REQUEST_TIMEOUT = env_float("DISCORD_REQUEST_TIMEOUT", 5.0, min_value=0.1)
# Requests per second the bot token may make in all (Discord's global rate limit: 50, unless
# Discord raised it for the bot), and the share of it the bot process keeps; the web app's and
# Celery's calls share the rest (through Redis when REDIS_URL is set). See
# botworker/discord_rest/pacing.py.
DISCORD_GLOBAL_RATE = env_int("DISCORD_GLOBAL_RATE", 50, min_value=2, max_value=10000)
DISCORD_BOT_RATE_SHARE = env_float("DISCORD_BOT_RATE_SHARE", 0.6, min_value=0.05, max_value=0.95)
# How long the campaign form keeps the bot's view of a guild (its channels and roles) before
# asking Discord again; "Refresh from Discord" in the form asks at once.
DISCORD_DIRECTORY_CACHE_SECONDS = env_int(
    "DISCORD_DIRECTORY_CACHE_SECONDS", 120, min_value=0, max_value=86400
)
# "Join with Discord" (OAuth2 guilds.join). Both URLs are derived from DISCORD_API_BASE when
# empty (Discord: https://discord.com/oauth2/authorize and https://discord.com/channels/…; the
# local emulator: its own authorise page and channel view), so pointing the API base at the
# emulator is enough. The channel URL is a template: {guild_id}, {channel_id}, {user_id}.
DISCORD_OAUTH_AUTHORIZE_URL = env_url("DISCORD_OAUTH_AUTHORIZE_URL", "")
DISCORD_CHANNEL_URL = env_str("DISCORD_CHANNEL_URL", "")
if DISCORD_CHANNEL_URL and (
    "{channel_id}" not in DISCORD_CHANNEL_URL
    or not DISCORD_CHANNEL_URL.startswith(("http://", "https://"))
):
    raise ImproperlyConfigured(
        f"DISCORD_CHANNEL_URL={DISCORD_CHANNEL_URL!r} is not a channel URL template: "
        "expected https://host/…{channel_id}…"
    )
# Seconds a visitor has between "Join with Discord" and coming back from Discord's consent page.
DISCORD_OAUTH_STATE_SECONDS = env_int(
    "DISCORD_OAUTH_STATE_SECONDS", 600, min_value=30, max_value=3600
)
# One time budget for all of the "Join with Discord" callback's Discord calls: well under the
# web server's worker timeout (gunicorn: 30 s by default); past it the visitor gets a page.
DISCORD_OAUTH_CALLBACK_SECONDS = env_float("DISCORD_OAUTH_CALLBACK_SECONDS", 12.0, min_value=1.0)
if DISCORD_OAUTH_CALLBACK_SECONDS > 25:
    raise ImproperlyConfigured(
        f"DISCORD_OAUTH_CALLBACK_SECONDS={DISCORD_OAUTH_CALLBACK_SECONDS} is too large: keep it "
        "under 25 (the web server's worker timeout is 30 s by default)."
    )
# An OAuth join attempt Discord has not answered for ("joining") claims the member's join only
# if the join happened within this many seconds of it; later joins are invite joins.
OAUTH_JOIN_MATCH_SECONDS = env_int("OAUTH_JOIN_MATCH_SECONDS", 300, min_value=30, max_value=3600)
if DISCORD_CLIENT_ID and not DISCORD_CLIENT_ID.isdigit():
    raise ImproperlyConfigured(
        f"DISCORD_CLIENT_ID={DISCORD_CLIENT_ID!r} is not a Discord application id (digits only)."
    )

# Token that bots other than ours present to the bot-facing API (Authorization: Bearer <token>).
BOT_API_TOKEN = env_str("BOT_API_TOKEN", "")
# Failed authentications per client address (COUNT/SECONDS) before the bot API answers 429.
BOT_API_AUTH_FAILURE_LIMIT = env_rate("BOT_API_AUTH_FAILURE_LIMIT", "10/300")

# --- Tracking and privacy ---------------------------------------------------------------------
# How visitor IP addresses are stored: "truncate" (IPv4 /24, IPv6 /48), "hash" (keyed HMAC,
# not reversible) or "none" (not stored at all). Never raw.
IP_ANONYMIZATION = env_choice("IP_ANONYMIZATION", "truncate", ("truncate", "hash", "none"))
# The HMAC key for "hash": its own secret, so rotating SECRET_KEY (sessions, signed state) does
# not change every visitor's hash, and leaking one does not reveal the other.
IP_HASH_KEY = env_str("IP_HASH_KEY", "")
if IP_ANONYMIZATION == "hash":
    if not IP_HASH_KEY:
        if not DEBUG:
            raise ImproperlyConfigured(
                "IP_HASH_KEY is not set: it is required when IP_ANONYMIZATION=hash and "
                "DJANGO_DEBUG=false (use at least 32 random characters, not SECRET_KEY)."
            )
        IP_HASH_KEY = "insecure-development-ip-hash-key"
    elif len(IP_HASH_KEY) < 32:
        raise ImproperlyConfigured("IP_HASH_KEY is too short: use at least 32 random characters.")
    elif IP_HASH_KEY == SECRET_KEY:
        raise ImproperlyConfigured("IP_HASH_KEY must not be SECRET_KEY: give it its own value.")
# Proxies in front of the app that append to X-Forwarded-For (0: use the socket address).
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0, min_value=0, max_value=10)
# A repeat visit by the same visitor within this many seconds is recorded but not counted.
CLICK_DEDUPE_SECONDS = env_int("CLICK_DEDUPE_SECONDS", 3600, min_value=0)
# How long a visitor waits for a fresh invite when the pool is empty before the fallback.
INVITE_POOL_WAIT_SECONDS = env_float("INVITE_POOL_WAIT_SECONDS", 3.0, min_value=0.0)

# Managed invites per guild we allow ourselves (Discord's limit is about 1000 per guild).
GUILD_INVITE_CAP = env_int("GUILD_INVITE_CAP", 800, min_value=1, max_value=950)
# An invite handed to a visitor and not used is revoked this long before it expires (at most a
# quarter of its lifetime), so that its expiry never looks like a use to the bot.
INVITE_REVOKE_LEAD_SECONDS = env_int("INVITE_REVOKE_LEAD_SECONDS", 90, min_value=10, max_value=3600)
# Referral roles (Campaign.referral_roles): Discord allows 250 roles per guild; links get a role
# only while the guild keeps this many free for its own use. Links beyond it are attributed by
# the invite diff alone, and the campaign's admin page says so.
REFERRAL_ROLE_HEADROOM = env_int("REFERRAL_ROLE_HEADROOM", 50, min_value=0, max_value=240)
# Invites kept ready per role-tagged link clicked within LINK_POOL_ACTIVE_SECONDS (an invite's
# roles are fixed at creation, so these links cannot share the campaign's pool).
LINK_POOL_SIZE = env_int("LINK_POOL_SIZE", 2, min_value=0, max_value=10)
LINK_POOL_ACTIVE_SECONDS = env_int("LINK_POOL_ACTIVE_SECONDS", 900, min_value=60)
# Threads the bot runs database work on (a slow unit never holds up a join decision).
BOT_DB_THREADS = env_int("BOT_DB_THREADS", 4, min_value=1, max_value=32)
# A join the bot decided while the database was down is kept and recorded when it is back:
# first retry after this many seconds, doubling up to a minute.
BOT_RECORD_RETRY_SECONDS = env_float("BOT_RECORD_RETRY_SECONDS", 5.0, min_value=0.01)
# Abuse limits on handing out invites (COUNT/SECONDS): per client address and per link.
JOIN_RATE_LIMIT_PER_IP = env_rate("JOIN_RATE_LIMIT_PER_IP", "10/60")
JOIN_RATE_LIMIT_PER_LINK = env_rate("JOIN_RATE_LIMIT_PER_LINK", "300/60")
# Landing pages and the click API (HEAD/GET /api/referral/<code>…) per client address: far above
# what a person (or a household, or a carrier's shared address) sends, low enough to stop a
# script from inflating clicks or enumerating codes.
LANDING_RATE_LIMIT_PER_IP = env_rate("LANDING_RATE_LIMIT_PER_IP", "300/60")

# --- Security ---------------------------------------------------------------------------------
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", False)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", False)
# Browsers' HSTS preload list accepts only a max-age of a year or more with includeSubDomains.
_HSTS_PRELOAD_SECONDS = 31_536_000
SECURE_HSTS_SECONDS = env_int(
    "SECURE_HSTS_SECONDS",
    0 if DEBUG else (_HSTS_PRELOAD_SECONDS if SECURE_HSTS_PRELOAD else 2_592_000),
    min_value=0,
)
if SECURE_HSTS_PRELOAD and not DEBUG:
    if not SECURE_HSTS_INCLUDE_SUBDOMAINS:
        raise ImproperlyConfigured(
            "SECURE_HSTS_PRELOAD=true needs SECURE_HSTS_INCLUDE_SUBDOMAINS=true: "
            "the browsers' preload list requires both."
        )
    if SECURE_HSTS_SECONDS < _HSTS_PRELOAD_SECONDS:
        raise ImproperlyConfigured(
            f"SECURE_HSTS_SECONDS={SECURE_HSTS_SECONDS} is too small for SECURE_HSTS_PRELOAD=true:"
            f" the browsers' preload list requires at least {_HSTS_PRELOAD_SECONDS} (one year)."
        )
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
X_FRAME_OPTIONS = "DENY"

# Staff logins (managers and influencers) lock after STAFF_LOGIN_FAILURE_LIMIT wrong passwords
# for the same username from the same network (IPv4 /24, IPv6 /48), for
# STAFF_LOGIN_LOCKOUT_MINUTES (0: until an admin lifts it). An admin lifts a lockout by deleting
# its row under Admin → Axes → Access attempts, or with `manage.py axes_reset_username NAME`.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("STAFF_LOGIN_FAILURE_LIMIT", 5, min_value=1, max_value=100)
_LOCKOUT_MINUTES = env_int("STAFF_LOGIN_LOCKOUT_MINUTES", 30, min_value=0)
AXES_COOLOFF_TIME = timedelta(minutes=_LOCKOUT_MINUTES) if _LOCKOUT_MINUTES else None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_CLIENT_IP_CALLABLE = "referrals.http.staff_login_ip"
AXES_CLIENT_STR_CALLABLE = "referrals.http.staff_login_client"
AXES_HTTP_RESPONSE_CODE = 429

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# --- I18n, static -----------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = env_time_zone("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [_shipped("static")]
# Where `collectstatic` gathers them for whitenoise; set it for an installed wheel.
STATIC_ROOT = Path(env_str("STATIC_ROOT", "") or VAR_DIR / "staticfiles")
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

# --- API --------------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_AUTHENTICATION_CLASSES": [],
    "DEFAULT_PERMISSION_CLASSES": [],
    "UNAUTHENTICATED_USER": None,
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": ["rest_framework.parsers.JSONParser"],
    "EXCEPTION_HANDLER": "referrals.api.exception_handler",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Invitetrail API",
    "DESCRIPTION": "Referral tracking, managed Discord invites and bot onboarding.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
}

# --- Logging ----------------------------------------------------------------------------------
LOG_LEVEL = env_choice("LOG_LEVEL", "info", ("debug", "info", "warning", "error")).upper()
LOGGING = logging_config(LOG_LEVEL)
