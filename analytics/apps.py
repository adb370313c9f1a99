from django.apps import AppConfig
from django.db.models.signals import post_migrate, post_save


class AnalyticsConfig(AppConfig):
    name = "analytics"
    verbose_name = "Analytics"

    def ready(self) -> None:
        from analytics import rollups
        from analytics.conversions import side_effects_due
        from analytics.models import ReferralEvent
        from analytics.tasks import on_side_effects_due
        from campaigns import scoping

        post_save.connect(
            rollups.on_event_saved, sender=ReferralEvent, dispatch_uid="analytics-rollups"
        )
        # After every migrate (and every test-database flush): the group must exist for the
        # admin to scope anyone; auth has created the permissions by then.
        post_migrate.connect(
            scoping.ensure_influencers_group, sender=self, dispatch_uid="analytics-influencers"
        )
        side_effects_due.connect(on_side_effects_due, dispatch_uid="analytics-side-effects")
