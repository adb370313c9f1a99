"""The site's URLs plus the baseline the landing benchmark compares against."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from config.urls import urlpatterns as site_urlpatterns
from referrals.models import ReferralLink


def baseline(request: HttpRequest, code: str) -> HttpResponse:
    """The floor for a request on this stack: one indexed SELECT (referral_code is unique), no
    template, no write. A landing page can only be some multiple of this."""
    found = ReferralLink.objects.filter(referral_code=code).values_list("pk", flat=True).first()
    return HttpResponse("ok" if found else "missing", content_type="text/plain")


urlpatterns = [path("bench/baseline/<str:code>", baseline), *site_urlpatterns]
