"""Visitor-facing pages. The landing page proper (tracking, invites) arrives with issue 5."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from referrals.codes import is_valid_code
from referrals.models import ReferralLink


def landing(request: HttpRequest, code: str) -> HttpResponse:
    if not is_valid_code(code):
        raise Http404("No such referral link.")
    link = (
        ReferralLink.objects.select_related("campaign", "influencer")
        .filter(referral_code=code)
        .first()
    )
    if link is None:
        raise Http404("No such referral link.")
    return render(request, "referrals/landing.html", {"link": link, "campaign": link.campaign})
