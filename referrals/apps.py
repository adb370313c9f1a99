from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from referrals.invites import pool_drawn
        from referrals.models import ReferralLink
        from referrals.tasks import on_link_deleted, on_link_saved, on_pool_drawn

        post_save.connect(on_link_saved, sender=ReferralLink, dispatch_uid="referral-role-save")
        post_delete.connect(
            on_link_deleted, sender=ReferralLink, dispatch_uid="referral-role-delete"
        )
        pool_drawn.connect(on_pool_drawn, dispatch_uid="referrals-pool-top-up")
