"""Webhooks in the admin: a campaign's endpoints (and why one was switched off), every delivery
with its attempt log, and "send again"."""

import json

from django import forms
from django.contrib import admin, messages
from django.db import transaction
from django.urls import reverse
from django.utils.html import format_html

from analytics.admin import NoWritesMixin
from analytics.webhooks import delivery as sending
from analytics.webhooks.models import EventKind, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from analytics.webhooks.tasks import queue_deliveries


class EndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        choices=EventKind.choices,
        widget=forms.CheckboxSelectMultiple,
        help_text="Each chosen event is POSTed as signed JSON. Onboarding answers are included "
        "in conversions only when the campaign lets influencers see answers (its setting for "
        "sharing answers beyond managers); otherwise only their count.",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ["campaign", "url", "description", "events", "secret", "is_active"]


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = EndpointForm
    list_display = ["url", "campaign", "event_list", "is_active", "health", "deliveries_link"]
    list_filter = ["is_active", ("campaign", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["url", "description", "campaign__campaign_name"]
    list_select_related = ["campaign"]
    autocomplete_fields = ["campaign"]
    readonly_fields = ["health", "failing_since", "disabled_at", "disabled_reason", "created_at"]

    @admin.display(description="events")
    def event_list(self, obj: WebhookEndpoint) -> str:
        return ", ".join(obj.events) if isinstance(obj.events, list) else ""

    @admin.display(description="health")
    def health(self, obj: WebhookEndpoint) -> str:
        if obj.disabled_reason and not obj.is_active:
            return obj.disabled_reason
        if obj.failing_since:
            return f"Failing since {obj.failing_since:%Y-%m-%d %H:%M} UTC (retrying)"
        return "OK" if obj.pk else "—"

    @admin.display(description="deliveries")
    def deliveries_link(self, obj: WebhookEndpoint) -> str:
        url = (
            reverse("admin:webhooks_webhookdelivery_changelist") + f"?endpoint__id__exact={obj.pk}"
        )
        return format_html('<a href="{}">log</a>', url)


class AttemptInline(NoWritesMixin, admin.TabularInline):
    model = WebhookAttempt
    extra = 0
    can_delete = False
    fields = ["attempted_at", "status_code", "succeeded", "latency_ms", "error", "response_excerpt"]
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(NoWritesMixin, admin.ModelAdmin):
    """The delivery log: what each receiver was sent, and every attempt. It is a record, so it
    cannot be edited or deleted here; an endpoint's deletion takes its deliveries with it."""

    list_display = [
        "created_at",
        "kind",
        "endpoint",
        "campaign",
        "status",
        "attempts",
        "last_status_code",
        "last_error",
        "next_attempt_at",
    ]
    list_filter = ["status", "kind", ("endpoint__campaign", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["endpoint__url", "event__discord_user_id", "event__id"]
    list_select_related = ["endpoint__campaign"]
    date_hierarchy = "created_at"
    inlines = [AttemptInline]
    actions = ["send_again"]
    fields = [
        "endpoint",
        "kind",
        "event",
        "status",
        "attempts",
        "next_attempt_at",
        "retry_until",
        "last_attempt_at",
        "last_status_code",
        "last_error",
        "delivered_at",
        "created_at",
        "pretty_body",
    ]
    readonly_fields = fields

    @admin.display(description="campaign")
    def campaign(self, obj: WebhookDelivery):
        return obj.endpoint.campaign

    @admin.display(description="body")
    def pretty_body(self, obj: WebhookDelivery) -> str:
        if not obj.body:
            return "Built at the first attempt."
        try:
            text = json.dumps(json.loads(obj.body), indent=2, ensure_ascii=False)
        except ValueError:
            text = obj.body
        return format_html("<pre>{}</pre>", text)

    def has_resend_permission(self, request) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Send again", permissions=["resend"])
    def send_again(self, request, queryset) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        with transaction.atomic():
            ids = sending.send_again(chosen)
            transaction.on_commit(lambda: queue_deliveries(ids))
        if ids:
            self.message_user(request, f"{len(ids)} deliver{'y' if len(ids) == 1 else 'ies'} "
                              "queued to be sent again.", messages.SUCCESS)  # fmt: skip
        skipped = len(chosen) - len(ids)
        if skipped:
            self.message_user(
                request,
                f"{skipped} not sent: their endpoint is switched off. Switch it on first.",
                messages.WARNING,
            )
