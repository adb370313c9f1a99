"""A malformed setting stops start-up with one line that names it; production is locked down."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CLEAN_ENV = {
    k: v
    for k, v in os.environ.items()
    if not k.startswith(("DJANGO_", "DATABASE_", "REDIS_", "DISCORD_", "SECRET_", "SECURE_"))
}


def manage(*args, **env):
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**CLEAN_ENV, **env},
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        ("DJANGO_DEBUG", "maybe", "DJANGO_DEBUG='maybe' is not a boolean"),
        ("DATABASE_URL", "mysql://x@y/z", "DATABASE_URL='mysql://x@y/z' is not supported"),
        ("REDIS_URL", "localhost:6379", "REDIS_URL='localhost:6379' is not a URL"),
        (
            "REDIS_URL",
            "redis://127.0.0.1:abc",
            "REDIS_URL='redis://127.0.0.1:abc' has no valid port",
        ),
        ("TIME_ZONE", "Mars/Base", "TIME_ZONE='Mars/Base' is not a time zone"),
        ("CLICK_DEDUPE_SECONDS", "an hour", "CLICK_DEDUPE_SECONDS='an hour' is not a whole number"),
        ("IP_ANONYMIZATION", "raw", "IP_ANONYMIZATION='raw' is not one of: truncate, hash, none"),
        ("DISCORD_API_BASE", "discord.com/api", "DISCORD_API_BASE='discord.com/api' is not a URL"),
        ("DISCORD_CLIENT_ID", "my-app", "DISCORD_CLIENT_ID='my-app' is not a Discord application"),
        ("DISCORD_CHANNEL_URL", "https://x/c", "DISCORD_CHANNEL_URL='https://x/c' is not a"),
        ("DISCORD_OAUTH_STATE_SECONDS", "5", "DISCORD_OAUTH_STATE_SECONDS=5 is too small"),
        ("DISCORD_BOT_RATE_SHARE", "1.5", "DISCORD_BOT_RATE_SHARE=1.5 is too large"),
        ("DISCORD_BOT_RATE_SHARE", "nan", "DISCORD_BOT_RATE_SHARE=nan is too small"),
        ("DISCORD_GLOBAL_RATE", "1", "DISCORD_GLOBAL_RATE=1 is too small"),
        ("DISCORD_OAUTH_AUTHORIZE_URL", "discord.com", "DISCORD_OAUTH_AUTHORIZE_URL='discord"),
        ("LANDING_RATE_LIMIT_PER_IP", "lots", "LANDING_RATE_LIMIT_PER_IP='lots' is not a rate"),
    ],
)
def test_it_stops_with_one_clear_line_on_a_malformed_value(variable, value, says):
    result = manage("check", **{variable: value})
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


POSTGRES = "postgres://app@127.0.0.1:5432/app"
SHOW_DB = (
    "from django.conf import settings; d = settings.DATABASES['default'];"
    "print(d['CONN_MAX_AGE'], d['OPTIONS'].get('pool'))"
)


def test_postgresql_connections_come_from_a_bounded_pool():
    result = manage("shell", "-c", SHOW_DB, DATABASE_URL=POSTGRES, DATABASE_POOL_SIZE="7")
    assert result.returncode == 0, result.stderr
    assert (
        result.stdout.strip().splitlines()[-1]
        == "0 {'min_size': 2, 'max_size': 7, 'timeout': 10.0}"
    )


def test_without_the_pool_connections_are_kept_conn_max_age():
    result = manage("shell", "-c", SHOW_DB, DATABASE_URL=POSTGRES, DATABASE_POOL_SIZE="0")
    assert result.stdout.strip().splitlines()[-1] == "60 None"


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DATABASE_CONN_MAX_AGE": "60"}, "DATABASE_CONN_MAX_AGE=60 cannot be used with the pool"),
        ({"DATABASE_POOL_SIZE": "ten"}, "DATABASE_POOL_SIZE='ten' is not a whole number"),
        ({"DATABASE_POOL_TIMEOUT": "0"}, "DATABASE_POOL_TIMEOUT=0.0 is too small"),
    ],
)
def test_it_refuses_a_pool_configuration_that_cannot_work(env, says):
    result = manage("check", DATABASE_URL=POSTGRES, **env)
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_it_requires_a_secret_key_in_production():
    result = manage("check", DJANGO_DEBUG="false")
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_deploy_check_passes_in_production():
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_DEBUG="false",
        SECRET_KEY="k" * 20 + "-production-secret-key-with-enough-entropy-x9",
        SECURE_HSTS_INCLUDE_SUBDOMAINS="true",
        SECURE_HSTS_PRELOAD="true",
        ALLOWED_HOSTS="invitetrail.example.com",
        IP_ANONYMIZATION="hash",
        IP_HASH_KEY="h" * 40,
        BOT_API_TOKEN="t" * 40,
    )
    assert result.returncode == 0, result.stderr
    assert "System check identified no issues" in result.stdout
    assert "WARNINGS" not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SECURE_HSTS_INCLUDE_SUBDOMAINS": "false"}, "needs SECURE_HSTS_INCLUDE_SUBDOMAINS=true"),
        ({"SECURE_HSTS_SECONDS": "2592000"}, "SECURE_HSTS_SECONDS=2592000 is too small"),
    ],
)
def test_it_refuses_an_hsts_preload_browsers_would_reject(env, says):
    production = {"SECURE_HSTS_INCLUDE_SUBDOMAINS": "true", "SECURE_HSTS_PRELOAD": "true"}
    result = manage("check", **{**PRODUCTION, **production, **env})
    assert result.returncode != 0
    assert says in result.stderr
    assert "Traceback" not in result.stderr


PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "SECRET_KEY": "k" * 20 + "-production-secret-key-with-enough-entropy-x9",
    "ALLOWED_HOSTS": "invitetrail.example.com",
}


def test_hashed_ips_need_their_own_key_in_production():
    result = manage("check", IP_ANONYMIZATION="hash", **PRODUCTION)
    assert result.returncode != 0
    assert "IP_HASH_KEY is not set" in result.stderr
    assert "Traceback" not in result.stderr

    reused = manage(
        "check", IP_ANONYMIZATION="hash", IP_HASH_KEY=PRODUCTION["SECRET_KEY"], **PRODUCTION
    )
    assert "IP_HASH_KEY must not be SECRET_KEY" in reused.stderr

    own = manage("check", IP_ANONYMIZATION="hash", IP_HASH_KEY="h" * 40, **PRODUCTION)
    assert own.returncode == 0, own.stderr


def test_hashed_ips_are_never_keyed_with_the_secret_key():
    script = (
        "import hashlib, hmac; from django.conf import settings; "
        "from analytics.privacy import anonymise_ip; "
        "print(anonymise_ip('203.0.113.9')[1] == "
        "hmac.new(settings.SECRET_KEY.encode(), b'203.0.113.9', hashlib.sha256).hexdigest())"
    )
    result = manage("shell", "-c", script, IP_ANONYMIZATION="hash")
    assert result.stdout.strip().splitlines()[-1] == "False", result.stderr


def test_it_runs_on_the_embedded_defaults_without_any_variable():
    result = manage("check")
    assert result.returncode == 0, result.stderr


def test_a_client_error_is_logged_once_in_one_line(tmp_path):
    # given the development server's logging (DEBUG), a missing page and a view refusing access
    script = (
        "from django.test import Client, RequestFactory\n"
        "from django.core.exceptions import PermissionDenied\n"
        "from django.core.handlers.exception import response_for_exception\n"
        "assert Client(HTTP_HOST='127.0.0.1').get('/no-such-page').status_code == 404\n"
        "request = RequestFactory(HTTP_HOST='127.0.0.1').get('/admin/secret/')\n"
        "assert response_for_exception(request, PermissionDenied()).status_code == 403\n"
    )
    out = manage(
        "shell", "-c", script, DJANGO_DEBUG="true", DATABASE_URL=f"sqlite:///{tmp_path}/db"
    )

    # then each is one line, once, without a traceback
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("Not Found: /no-such-page") == 1, out.stderr
    assert out.stderr.count("Forbidden (Permission denied): /admin/secret/") == 1, out.stderr
    assert "Traceback" not in out.stderr
