"""Campaign managers can reach every model in the admin."""

import pytest
from django.urls import reverse

from analytics.models import ReferralEvent

MODELS = [
    "campaigns_campaign",
    "referrals_referrallink",
    "referrals_managedinvite",
    "analytics_referralevent",
    "analytics_onboardingresponse",
    "analytics_conversion",
    "referrals_untrackedhandout",
    "analytics_onboardingsession",
    "botworker_invitesnapshot",
    "referrals_oauthjoinattempt",
]


@pytest.mark.parametrize("model", MODELS)
def test_it_lists_every_model(client, alice, bob_link, model):
    client.force_login(alice)
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


def test_it_shows_the_full_copyable_referral_url(client, alice, bob_link):
    client.force_login(alice)
    response = client.get(reverse("admin:referrals_referrallink_change", args=[bob_link.pk]))
    assert response.status_code == 200
    assert f'value="{bob_link.referral_url}"' in response.content.decode()


def test_it_edits_onboarding_fields_inline_on_the_campaign(client, alice, campaign):
    client.force_login(alice)
    response = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    assert 'name="fields-0-key"' in response.content.decode()


def test_it_does_not_let_anyone_edit_the_event_log(client, alice, bob_link):
    event = ReferralEvent.objects.create(link=bob_link, event_type="click")
    client.force_login(alice)
    response = client.post(
        reverse("admin:analytics_referralevent_delete", args=[event.pk]), {"post": "yes"}
    )
    assert response.status_code == 403
    assert ReferralEvent.objects.filter(pk=event.pk).exists()


def test_it_searches_links_by_code(client, alice, bob_link, charlie_link):
    client.force_login(alice)
    url = reverse("admin:referrals_referrallink_changelist")
    response = client.get(url, {"q": bob_link.referral_code})
    body = response.content.decode()
    assert "Bob on YouTube" in body
    assert "Charlie on X" not in body


def test_it_says_how_many_links_are_role_tagged_and_why_not_all(
    client, alice, campaign, bob_link, charlie_link
):
    # given one of the campaign's two links has its referral role
    bob_link.referral_role_id = "1300000000000000901"
    bob_link.save()
    client.force_login(alice)

    # when the manager opens the campaign
    page = client.get(f"/admin/campaigns/campaign/{campaign.pk}/change/").content.decode()

    # then the page says so, and what the other link needs
    assert "1 of 2 link(s) role-tagged." in page
    assert "Manage Roles" in page and "REFERRAL_ROLE_HEADROOM" in page


def test_the_sidebar_names_oauth_join_attempts_as_people_write_them(client, alice):
    client.force_login(alice)
    page = client.get(reverse("admin:index")).content.decode()
    assert ">OAuth join attempts<" in page
    assert "O auth" not in page


@pytest.mark.parametrize("model", ["campaigns_campaign", "referrals_referrallink"])
def test_deleting_what_has_recorded_activity_says_why_it_cannot_and_what_to_do(
    client, alice, bob_link, model
):
    ReferralEvent.objects.create(link=bob_link, campaign=bob_link.campaign, event_type="click")
    target = bob_link.campaign if model == "campaigns_campaign" else bob_link
    client.force_login(alice)

    page = client.get(reverse(f"admin:{model}_delete", args=[target.pk])).content.decode()
    refused = client.post(reverse(f"admin:{model}_delete", args=[target.pk]), {"post": "yes"})

    assert "1 recorded referral event — the history is kept, so switch the" in page
    assert "off instead" in page
    assert "doesn't have permission" not in page
    assert refused.status_code in (200, 403)
    assert type(target).objects.filter(pk=target.pk).exists()


@pytest.mark.parametrize(
    "url",
    [
        "/admin/referrals/referrallink/add/?campaign=abc",
        "/admin/referrals/referrallink/add/?influencer=99999999999999999999999",
        "/admin/referrals/referrallink/add/?expires_at=garbage",
        "/admin/campaigns/campaign/add/?starts_at=2026-01-01",
        "/admin/webhooks/webhookendpoint/add/?campaign=zzz",
    ],
)
def test_a_prefill_no_form_would_send_opens_the_form_without_it(client, alice, bob_link, url):
    client.force_login(alice)
    assert client.get(url).status_code == 200


@pytest.mark.parametrize("influencer", ["abc", "99999999999999999999999"])
def test_a_related_id_that_is_not_one_is_a_form_error(client, alice, bob_link, influencer):
    client.force_login(alice)
    response = client.post(
        reverse("admin:referrals_referrallink_add"),
        {"campaign": str(bob_link.campaign_id), "influencer": influencer, "title": "T"},
    )
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()


@pytest.mark.parametrize(
    ("model", "selected"),
    [
        ("campaigns_campaign", "999999"),
        ("referrals_referrallink", "not-a-uuid"),
        ("auth_user", "abc"),
        ("auth_user", "99999999999999999999999"),
    ],
)
def test_an_action_over_ids_that_are_not_ids_does_nothing_and_says_so(
    client, alice, bob_link, model, selected
):
    client.force_login(alice)
    url = reverse(f"admin:{model}_changelist")
    body = {"action": "delete_selected", "_selected_action": [selected], "index": "0"}

    response = client.post(url, body, follow=True)

    assert response.status_code == 200
    assert "not an item of this list: nothing was done" in response.content.decode()
    assert bob_link.campaign.__class__.objects.filter(pk=bob_link.campaign_id).exists()


def test_an_invite_lifetime_below_discords_floor_is_refused_with_that_floor(
    client, alice, campaign
):
    client.force_login(alice)
    page = client.get(reverse("admin:campaigns_campaign_change", args=[campaign.pk]))
    form = page.context["adminform"].form

    form = type(form)(data={"invite_max_age_seconds": "-5"}, instance=campaign)

    assert not form.is_valid()
    assert form.errors["invite_max_age_seconds"] == [
        "Ensure this value is greater than or equal to 60."
    ]


def test_a_campaign_whose_links_have_no_activity_names_the_links_to_delete_first(
    client, alice, bob_link
):
    client.force_login(alice)
    page = client.get(reverse("admin:campaigns_campaign_delete", args=[bob_link.campaign_id]))

    text = page.content.decode()
    assert "recorded" not in text
    assert "protected related objects" in text and str(bob_link.title) in text
