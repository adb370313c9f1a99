"""Analytics dashboards in the admin: overview, campaign page, link page and their JSON.

Plain function views, mounted by `DashboardAdmin.get_urls()` behind the admin's login; each
one checks `analytics.view_dashboard` and reads through `campaigns.scoping.scope`.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Max
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.utils import timezone

from analytics import charts, clicks, exports, reports
from analytics import funnel as fm
from analytics.models import OnboardingResponse, OnboardingSession, ReferralEvent
from campaigns.models import Campaign
from campaigns.scoping import is_influencer, scope, scope_answers
from referrals.models import ReferralLink

RANGES = [
    ("7", "Last 7 days"),
    ("30", "Last 30 days"),
    ("90", "Last 90 days"),
    ("custom", "Custom"),
]
MAX_RANGE_DAYS = 366
PAGE_SIZE = 50


class FilterForm(forms.Form):
    range = forms.ChoiceField(choices=RANGES, required=False, initial="30")
    start = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    end = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    campaign = forms.ModelChoiceField(Campaign.objects.none(), required=False)
    influencer = forms.ModelChoiceField(get_user_model().objects.none(), required=False)
    link = forms.ModelChoiceField(ReferralLink.objects.none(), required=False)
    platform = forms.ChoiceField(required=False)

    def __init__(self, data, user, *, fixed: dict | None = None):
        super().__init__(data)
        self.user = user
        self.fixed = fixed or {}
        links = scope(ReferralLink.objects.select_related("influencer"), user, "influencer")
        self.fields["link"].queryset = links
        self.fields["campaign"].queryset = (
            Campaign.objects.filter(pk__in=links.values("campaign_id"))
            if is_influencer(user)
            else Campaign.objects.all()
        )
        self.fields["influencer"].queryset = get_user_model().objects.filter(
            pk__in=links.values("influencer_id")
        )
        self.fields["platform"].choices = [("", "All platforms"), *ReferralLink.Platform.choices]
        if is_influencer(user):
            # An influencer's numbers are already theirs alone: the choice would be noise.
            del self.fields["influencer"]
        for name in self.fixed:
            self.fields.pop(name, None)

    def clean(self):
        data = super().clean()
        if data.get("range") == "custom":
            start, end = data.get("start"), data.get("end")
            if not (start and end):
                raise forms.ValidationError("A custom range needs a start and an end date.")
            if end < start:
                raise forms.ValidationError("The end date is before the start date.")
            if (end - start).days >= MAX_RANGE_DAYS:
                raise forms.ValidationError(f"Pick at most {MAX_RANGE_DAYS} days.")
        return data

    def filters(self) -> reports.Filters:
        """What was asked for; an invalid form falls back to the last 30 days, unfiltered (the
        errors are shown above the numbers)."""
        data = self.cleaned_data if self.is_valid() else {}
        today = timezone.localdate()
        if data.get("range") == "custom":
            start, end = data["start"], data["end"]
        else:
            days = int(data.get("range") or 30)
            start, end = today - timedelta(days=days - 1), today

        def pk(name):
            value = data.get(name)
            return value.pk if value is not None else None

        return reports.Filters(
            start=start,
            end=end,
            campaign_id=self.fixed.get("campaign") or pk("campaign"),
            influencer_id=pk("influencer"),
            link_id=self.fixed.get("link") or pk("link"),
            platform=data.get("platform") or None,
        )


def _check(request: HttpRequest) -> None:
    if not request.user.has_perm("analytics.view_dashboard"):
        raise PermissionDenied


def _context(request: HttpRequest, form: FilterForm, report: reports.Report, **extra) -> dict:
    steps = report.steps
    return {
        **admin.site.each_context(request),
        "form": form,
        "report": report,
        "funnel_chart": charts.hbars(
            [
                (s.label, f"{s.count:,}" + _pct(s.rate, " of previous") + _note(s.note), s.scale)
                for s in steps
            ]
        ),
        "series_chart": charts.lines(report.series, report.days),
        "breakdowns": [
            (key, title, charts.hbars(_share_rows(shares)))
            for key, title, shares in report.breakdowns
        ],
        "attribution_chart": charts.hbars(_share_rows(report.attribution)),
        "query_without_page": _query(request, drop="page"),
        "export_query": _query(request, drop="page", **form.fixed),
        "leaderboards": [
            ("Top influencers", report.leaderboard.influencers, "influencers"),
            ("Top links", report.leaderboard.links, "links"),
        ],
        "scoped": is_influencer(request.user),
        "click_status": clicks.status(),
        "share_links": scope(
            ReferralLink.objects.filter(is_active=True), request.user, "influencer"
        )
        .select_related("influencer")
        .order_by("influencer__username", "title")[:6],
        **extra,
    }


def _query(request: HttpRequest, drop: str, **fixed) -> str:
    query = request.GET.copy()
    query.pop(drop, None)
    for name, value in fixed.items():
        query[name] = str(value)
    return query.urlencode()


def _share_links(user) -> list[ReferralLink]:
    """For the empty states: the links a viewer could share to get numbers."""
    links = scope(ReferralLink.objects.filter(is_active=True), user, "influencer")
    return list(links.select_related("influencer").order_by("influencer__username", "title")[:6])


def _share_rows(shares: list[fm.Share]) -> list[tuple[str, str, float]]:
    return [(s.label, f"{s.count:,} ({s.share:.0%})", s.scale) for s in shares]


def _note(note: str) -> str:
    return f" ({note})" if note else ""


def _pct(value: float | None, suffix: str = "") -> str:
    return "" if value is None else f" · {value:.0%}{suffix}"


def overview(request: HttpRequest) -> HttpResponse:
    _check(request)
    form = FilterForm(request.GET or None, request.user)
    report = reports.report(request.user, form.filters())
    context = _context(request, form, report, title="Analytics overview")
    return render(request, "admin/analytics/overview.html", context)


def overview_json(request: HttpRequest) -> JsonResponse:
    _check(request)
    form = FilterForm(request.GET or None, request.user)
    data = reports.report(request.user, form.filters()).as_json()
    data["click_buffer"] = clicks.status().as_json()
    return JsonResponse(data)


def campaign_page(request: HttpRequest, campaign_id) -> HttpResponse:
    _check(request)
    campaigns = Campaign.objects.all()
    if is_influencer(request.user):
        campaigns = campaigns.filter(links__influencer=request.user).distinct()
    campaign = get_object_or_404(campaigns, pk=campaign_id)
    form = FilterForm(request.GET or None, request.user, fixed={"campaign": campaign.pk})
    report = reports.report(request.user, form.filters())
    fields = list(campaign.fields.all())
    responses = scope(
        OnboardingResponse.objects.filter(campaign=campaign), request.user, "link__influencer"
    )
    started = scope(
        OnboardingSession.objects.filter(campaign=campaign, started_at__isnull=False),
        request.user,
        "link__influencer",
    ).count()
    answered = {
        row["field_key"]: row["n"]
        for row in responses.exclude(value="")
        .order_by()
        .values("field_key")
        .annotate(n=Count("discord_user_id", distinct=True))
    }
    completion = [
        (f, answered.get(f.key, 0), fm.rate(answered.get(f.key, 0), started)) for f in fields
    ]
    # Counts above are progress; what members answered only when the viewer may read it.
    readable = scope_answers(responses, request.user)
    answers_hidden = is_influencer(request.user) and not campaign.influencers_see_answers
    members = (
        readable.order_by()
        .values("discord_user_id")
        .annotate(last=Max("updated_at"))
        .order_by("-last", "discord_user_id")
    )
    page = Paginator(members, PAGE_SIZE).get_page(request.GET.get("page"))
    ids = [m["discord_user_id"] for m in page]
    answers: dict[str, dict[str, str]] = {member: {} for member in ids}
    for r in readable.filter(discord_user_id__in=ids).select_related("link"):
        answers[r.discord_user_id][r.field_key] = r.value
    names = dict(
        OnboardingSession.objects.filter(campaign=campaign, discord_user_id__in=ids)
        .exclude(discord_username="")
        .values_list("discord_user_id", "discord_username")
    )
    rows = [
        ((names.get(member, ""), member), [answers[member].get(f.key, "") for f in fields])
        for member in ids
    ]
    context = _context(
        request,
        form,
        report,
        title=f"Campaign: {campaign.campaign_name}",
        campaign=campaign,
        fields=fields,
        started=started,
        completion=completion,
        rows=rows,
        page=page,
        answers_hidden=answers_hidden,
    )
    return render(request, "admin/analytics/campaign.html", context)


def link_page(request: HttpRequest, link_id) -> HttpResponse:
    _check(request)
    links = scope(
        ReferralLink.objects.select_related("campaign", "influencer"), request.user, "influencer"
    )
    link = get_object_or_404(links, pk=link_id)
    form = FilterForm(request.GET or None, request.user, fixed={"link": link.pk})
    filters = form.filters()
    report = reports.report(request.user, filters)
    events = ReferralEvent.objects.filter(
        link=link, created_at__date__gte=filters.start, created_at__date__lte=filters.end
    ).order_by("-created_at")
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    context = _context(request, form, report, title=f"Link: {link.title}", link=link, page=page)
    return render(request, "admin/analytics/link.html", context)


EXPORTS = {
    "events": exports.events_csv,
    "conversions": exports.conversions_csv,
    "responses": exports.responses_csv,
}


def export(request: HttpRequest, kind: str) -> HttpResponse:
    """events.csv, conversions.csv, responses.csv — with the dashboard's current filters."""
    _check(request)
    if kind not in EXPORTS:
        raise Http404
    form = FilterForm(request.GET or None, request.user)
    if form.is_bound and not form.is_valid():
        # The dashboard shows these above its numbers; an export of some other range would be
        # a file that looks right and is not.
        return HttpResponse(
            "Export refused: " + " ".join(_messages(form)),
            status=400,
            content_type="text/plain; charset=utf-8",
        )
    return EXPORTS[kind](request, form.filters())


def _messages(form: FilterForm) -> list[str]:
    return [str(message) for errors in form.errors.values() for message in errors]
