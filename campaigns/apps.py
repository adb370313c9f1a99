from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "campaigns"
    verbose_name = "Campaigns"

    def ready(self) -> None:
        # The admin's autodiscovery (django.contrib.admin comes first in INSTALLED_APPS) has
        # registered every model by now.
        from django.contrib import admin

        from campaigns.admin_guard import guard_site

        guard_site(admin.site)
