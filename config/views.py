import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.views.csrf import csrf_failure as django_csrf_failure

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


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A visitor's form came without its security check (cookies blocked, say): a page that
    says what to do and leads back to the landing page, 403 as Django's own. Elsewhere (the
    admin, the APIs) Django's page."""
    if not request.path.startswith("/r/"):
        return django_csrf_failure(request, reason)
    log.warning("CSRF check failed path=%s: %s", request.path, reason)
    landing = request.path.removesuffix("/").removesuffix("/join")
    context = {
        "title": "Please try that again",
        "message": "Your browser didn't send the check this button needs. Allow cookies for "
        "this site, then go back to the page and press the button again.",
        "back_url": landing,
    }
    return render(request, "referrals/unavailable.html", context, status=403)
