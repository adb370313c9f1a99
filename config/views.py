import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect

log = logging.getLogger(__name__)


def home(request: HttpRequest) -> HttpResponse:
    return redirect("admin:index")


def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness plus a database round trip, for load balancers and `make demo`: 200 when the
    database answers; 503 saying so when it does not, so a balancer takes the process out of
    rotation instead of reading a server error."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        log.warning("healthz: the database does not answer: %s", exc)
        return JsonResponse({"status": "unavailable", "error": "database unreachable"}, status=503)
    return JsonResponse({"status": "ok"})
