from django.urls import path

from referrals import api, views

app_name = "referrals"

urlpatterns = [
    path("r/<str:code>", views.landing, name="landing"),
    path("r/<str:code>/", views.landing_slash, name="landing-slash"),
    path("r/<str:code>/join", views.join, name="join"),
    path("r/<str:code>/join/oauth", views.join_oauth, name="join-oauth"),
    path("discord/oauth/callback", views.oauth_callback, name="discord-oauth-callback"),
    path("api/referral/<str:code>", api.track_click, name="api-track-click"),
    path("api/referral/<str:code>/campaign", api.campaign_data, name="api-campaign"),
    path("api/discord/create-managed-invite", api.create_managed_invite, name="api-create-invite"),
]
