"""The API schema states what the API accepts: Schemathesis sends schema-valid and -invalid
requests to every operation of /api/schema/ and runs all its checks on every answer (no server
error, the status documented, the body and headers as documented, schema-valid requests
accepted, invalid ones refused). It calls the WSGI app in-process: no network at all."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, settings

from config.wsgi import application

TOKEN = "bot-api-token-for-schemathesis"
schema = schemathesis.openapi.from_wsgi("/api/schema/", application)


@pytest.fixture(autouse=True)
def _api(db, settings, bob_link):
    settings.BOT_API_TOKEN = TOKEN
    # As Django's test client does: a request must not close the test's database connection.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_answers_as_its_schema_says(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"})
