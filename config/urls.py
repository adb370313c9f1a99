from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

from analytics import api as analytics_api
from config import views

admin.site.site_header = "Invitetrail"
admin.site.site_title = "Invitetrail admin"
admin.site.index_title = "Campaigns, links and analytics"

urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/discord-bot/onboarding", analytics_api.onboarding_session, name="api-bot-onboarding"),
    path("", include("referrals.urls")),
]
