"""CSV exports of events, conversions and onboarding responses, streamed.

Rows are read with `.iterator(chunk_size=…)` and written as they come, so a million rows
neither time out nor fill memory. Each export honours the dashboard's filters and the viewer's
scope, and answers get one column per onboarding field.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from itertools import batched, groupby

from django.db.models import QuerySet
from django.http import HttpRequest, StreamingHttpResponse

from analytics.models import Conversion, OnboardingResponse, ReferralEvent
from analytics.reports import Filters
from campaigns.discord_directory import describe_roles
from campaigns.models import OnboardingField
from campaigns.scoping import is_influencer, scope, scope_answers

CHUNK = 2000


class _Echo:
    """csv.writer wants a file; this one hands each line back instead of storing it."""

    def write(self, value: str) -> str:
        return value


def stream_csv(rows: Iterable[list], filename: str) -> StreamingHttpResponse:
    writer = csv.writer(_Echo())
    response = StreamingHttpResponse(
        (writer.writerow([_safe(v) for v in row]) for row in rows), content_type="text/csv"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# A cell starting with one of these is a formula to a spreadsheet (tab and carriage return
# too: some programs drop them and read what follows), so a member's answer could run there.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> str:
    """Text a spreadsheet will not run: such a cell gets a leading apostrophe."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def narrow(qs: QuerySet, user, filters: Filters, *, link: str, campaign: str, date: str):
    """`qs` by the dashboard filters and the viewer's scope. `link`/`campaign`/`date` name the
    model's path to its link, its campaign field and its timestamp."""
    qs = qs.filter(**{f"{date}__date__gte": filters.start, f"{date}__date__lte": filters.end})
    if filters.campaign_id:
        qs = qs.filter(**{campaign: filters.campaign_id})
    if filters.influencer_id:
        qs = qs.filter(**{f"{link}__influencer_id": filters.influencer_id})
    if filters.link_id:
        qs = qs.filter(**{link: filters.link_id})
    if filters.platform:
        qs = qs.filter(**{f"{link}__platform": filters.platform})
    return scope(qs, user, f"{link}__influencer")


EVENT_COLUMNS = [
    ("created_at", "created_at"),
    ("event_type", "event_type"),
    ("campaign", "campaign__campaign_name"),
    ("referral_code", "link__referral_code"),
    ("influencer", "link__influencer__username"),
    ("platform", "link__platform"),
    ("is_unique", "is_unique"),
    ("device_type", "device_type"),
    ("browser", "browser"),
    ("os", "os"),
    ("referrer", "referrer"),
    ("discord_user_id", "discord_user_id"),
    ("metadata", "metadata"),
]
UTM = ("utm_source", "utm_medium", "utm_campaign")


def events_csv(request: HttpRequest, filters: Filters) -> StreamingHttpResponse:
    qs = narrow(
        ReferralEvent.objects.order_by("created_at", "id"),
        request.user,
        filters,
        link="link",
        campaign="campaign_id",
        date="created_at",
    )
    paths = [path for _, path in EVENT_COLUMNS]
    header = [name for name, _ in EVENT_COLUMNS[:-1]] + [*UTM, "decision"]

    def rows() -> Iterator[list]:
        yield header
        for values in qs.values_list(*paths).iterator(chunk_size=CHUNK):
            meta = values[-1] if isinstance(values[-1], dict) else {}
            utm = meta.get("utm") if isinstance(meta.get("utm"), dict) else {}
            yield [*values[:-1], *(utm.get(k, "") for k in UTM), meta.get("decision", "")]

    return stream_csv(rows(), f"events-{filters.start}-{filters.end}.csv")


def field_keys(campaign_ids: QuerySet | list) -> list[str]:
    """One column per onboarding field key, in form order, across the campaigns exported."""
    keys: list[str] = []
    for key in (
        OnboardingField.objects.filter(campaign_id__in=campaign_ids)
        .order_by("campaign__created_at", "order", "id")
        .values_list("key", flat=True)
    ):
        if key not in keys:
            keys.append(key)
    return keys


def conversions_csv(request: HttpRequest, filters: Filters) -> StreamingHttpResponse:
    qs = narrow(
        Conversion.objects.order_by("created_at", "id"),
        request.user,
        filters,
        link="link",
        campaign="campaign_id",
        date="created_at",
    )
    # Answer columns only for campaigns whose answers the viewer may read.
    readable = scope_answers(qs, request.user)
    keys = field_keys(readable.values("campaign_id"))
    private = is_influencer(request.user)
    columns = [
        "created_at",
        "campaign__campaign_name",
        "referral_code",
        "link__influencer__username",
        "link__platform",
        "discord_user_id",
        "discord_username",
        "roles_assigned",
        "campaign__guild_id",
        "campaign_id",
    ]

    def rows() -> Iterator[list]:
        yield ["converted_at", "campaign", "referral_code", "influencer", "platform"] + [
            "discord_user_id",
            "discord_username",
            "roles_assigned",
            *keys,
        ]
        # The answers are fetched per chunk of conversions: one query per CHUNK rows.
        for chunk in batched(qs.values_list(*columns).iterator(chunk_size=CHUNK), CHUNK):
            answers: dict[tuple, dict[str, str]] = {}
            members = {c[5] for c in chunk}
            found = OnboardingResponse.objects.filter(
                campaign_id__in={c[-1] for c in chunk}, discord_user_id__in=members
            )
            if private:
                found = scope_answers(found, request.user)
            for campaign_id, member, key, value in found.values_list(
                "campaign_id", "discord_user_id", "field_key", "value"
            ):
                answers.setdefault((campaign_id, member), {})[key] = value
            for c in chunk:
                given = answers.get((c[-1], c[5]), {})
                roles = describe_roles(c[8], c[7])
                yield [*c[:7], roles, *(given.get(k, "") for k in keys)]

    return stream_csv(rows(), f"conversions-{filters.start}-{filters.end}.csv")


def responses_csv(request: HttpRequest, filters: Filters) -> StreamingHttpResponse:
    """One row per member (and campaign): their answers side by side (for an influencer, only
    of campaigns that share answers with influencers)."""
    qs = narrow(
        OnboardingResponse.objects.order_by("campaign_id", "discord_user_id", "field_key"),
        request.user,
        filters,
        link="link",
        campaign="campaign_id",
        date="updated_at",
    )
    qs = scope_answers(qs, request.user)
    keys = field_keys(qs.values("campaign_id"))
    columns = [
        "campaign_id",
        "discord_user_id",
        "campaign__campaign_name",
        "link__referral_code",
        "link__influencer__username",
        "field_key",
        "value",
        "updated_at",
    ]

    def rows() -> Iterator[list]:
        yield ["campaign", "referral_code", "influencer", "discord_user_id", "answered_at", *keys]
        # Ordered by (campaign, member), so each member's answers arrive together.
        values = qs.values_list(*columns).iterator(chunk_size=CHUNK)
        for (_, member), group in groupby(values, key=lambda r: (r[0], r[1])):
            answers = list(group)
            given = {r[5]: r[6] for r in answers}
            first = answers[0]
            latest = max(r[7] for r in answers)
            yield [first[2], first[3], first[4], member, latest, *(given.get(k, "") for k in keys)]

    return stream_csv(rows(), f"responses-{filters.start}-{filters.end}.csv")
