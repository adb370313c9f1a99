from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    name = "analytics.webhooks"
    label = "webhooks"  # its tables and migrations keep the name they were created with
    verbose_name = "Webhooks"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_save

        from analytics.bulk import events_written
        from analytics.models import ReferralEvent
        from analytics.webhooks.tasks import on_event_recorded, on_events_written

        # Joins, onboarding starts and conversions are ReferralEvent rows: their post_save fires
        # inside the transaction that records them, so the deliveries commit (or roll back) with
        # the event, and nothing in analytics knows webhooks exist.
        post_save.connect(on_event_recorded, sender=ReferralEvent, dispatch_uid="webhooks-events")
        # Events written in one INSERT (analytics.bulk) send no post_save: the same, for a batch.
        events_written.connect(on_events_written, dispatch_uid="webhooks-bulk-events")
