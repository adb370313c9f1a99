"""`/healthz`: what a load balancer reads to keep or drop a web process."""

import json
import subprocess
import sys

from tests.test_settings import CLEAN_ENV, ROOT

ASK = (
    "import django, json; django.setup(); from django.test import Client; "
    "r = Client().get('/healthz'); print(r.status_code, r.content.decode())"
)


def test_it_answers_ok_when_the_database_answers(client, db):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_it_answers_503_not_a_server_error_when_the_database_is_unreachable():
    # Nothing listens on port 1: a real failed connection, in a process of its own.
    env = {
        **CLEAN_ENV,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/invitetrail",
        "DATABASE_POOL_SIZE": "0",
        "ALLOWED_HOSTS": "testserver",
    }
    done = subprocess.run(
        [sys.executable, "-c", ASK], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )

    assert done.returncode == 0, done.stderr
    status, body = done.stdout.strip().split(" ", 1)
    assert status == "503"
    assert json.loads(body) == {"status": "unavailable", "error": "database unreachable"}
    assert "the database does not answer" in done.stderr
