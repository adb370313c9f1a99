from django.apps import AppConfig


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = "Referrals"

    def ready(self) -> None:
        from django.contrib.auth import get_user_model
        from django.db.models.signals import post_delete, post_save

        from campaigns.models import Campaign
        from referrals import links
        from referrals.invites import pool_drawn
        from referrals.models import ReferralLink
        from referrals.tasks import on_link_deleted, on_link_saved, on_pool_drawn

        post_save.connect(on_link_saved, sender=ReferralLink, dispatch_uid="referral-role-save")
        post_delete.connect(
            on_link_deleted, sender=ReferralLink, dispatch_uid="referral-role-delete"
        )
        pool_drawn.connect(on_pool_drawn, dispatch_uid="referrals-pool-top-up")
        # The landing pages' cached link lookups forget whatever changed.
        for name, signal in (("save", post_save), ("delete", post_delete)):
            signal.connect(links.on_link_changed, sender=ReferralLink, dispatch_uid=f"link-{name}")
            signal.connect(
                links.on_campaign_changed, sender=Campaign, dispatch_uid=f"campaign-{name}"
            )
        post_save.connect(
            links.on_influencer_changed, sender=get_user_model(), dispatch_uid="link-influencer"
        )
