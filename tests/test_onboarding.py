"""The onboarding form as modal steps: validation, stored answers, one start, completion."""

import logging
from datetime import UTC, datetime

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings

from analytics import onboarding
from analytics.joins import record_join
from analytics.models import Conversion, OnboardingResponse, ReferralEvent
from campaigns.models import OnboardingField

MEMBER = "1300000000000006666"
T = OnboardingField.FieldType


@pytest.fixture
def session_id(bob_link):
    outcome = record_join(
        guild_id=bob_link.campaign.guild_id,
        member_id=MEMBER,
        username="newbie",
        joined_at=datetime(2026, 11, 24, tzinfo=UTC),
        decision="exact",
        link_id=str(bob_link.pk),
    )
    return outcome.welcome.session_id


@pytest.fixture
def six_fields(campaign):
    campaign.fields.all().delete()
    specs = [
        ("name", T.SHORT_TEXT, {}),
        ("email", T.EMAIL, {}),
        ("age", T.NUMBER, {}),
        ("site", T.URL, {"required": False}),
        ("level", T.CHOICE, {"choices": ["Beginner", "Pro"]}),
        ("bio", T.PARAGRAPH, {"max_length": 20}),
    ]
    for order, (key, kind, extra) in enumerate(specs):
        OnboardingField.objects.create(
            campaign=campaign, key=key, label=key.title(), field_type=kind, order=order, **extra
        )


def test_the_button_opens_the_first_step_and_records_one_start(session_id):
    first = onboarding.begin(session_id, MEMBER)
    onboarding.begin(session_id, MEMBER)
    assert first.status == "step"
    assert [f.key for f in first.step.fields] == ["game"]
    assert ReferralEvent.objects.filter(event_type="onboarding_start").count() == 1


def test_only_the_sessions_member_can_use_it(session_id):
    assert onboarding.begin(session_id, "1300000000000000001").status == "not_yours"
    assert onboarding.submit(session_id, "1300000000000000001", 0, {"game": "x"}).status == (
        "not_yours"
    )
    assert OnboardingResponse.objects.count() == 0
    assert not ReferralEvent.objects.filter(event_type="onboarding_start").exists()


def test_an_unknown_session_gets_a_plain_answer(db):
    assert onboarding.begin("x" * 16, MEMBER).status == "unknown"
    assert onboarding.begin("../../etc", MEMBER).status == "unknown"


def test_six_fields_become_two_steps_with_one_mistake_corrected(
    six_fields, session_id, discord_emulator, django_capture_on_commit_callbacks, eager_celery
):
    step = onboarding.begin(session_id, MEMBER).step
    assert (step.index, step.total, len(step.fields)) == (0, 2, 5)

    wrong = onboarding.submit(
        session_id,
        MEMBER,
        0,
        {"name": "Ann", "email": "not-an-email", "age": "30", "site": "", "level": "pro"},
    )
    assert wrong.status == "invalid"
    assert set(wrong.errors) == {"email"}
    assert "Email" in wrong.message
    assert {f.key: f.value for f in wrong.step.fields}["email"] == "not-an-email"
    assert set(OnboardingResponse.objects.values_list("field_key", flat=True)) == {
        "name",
        "age",
        "level",
    }  # valid answers are kept at once
    assert OnboardingResponse.objects.get(field_key="level").value == "Pro"

    fixed = onboarding.submit(
        session_id,
        MEMBER,
        0,
        {"name": "Ann", "email": "ann@example.com", "age": "30", "site": "", "level": "Pro"},
    )
    assert fixed.status == "step" and fixed.step.index == 1

    with django_capture_on_commit_callbacks(execute=True):
        done = onboarding.submit(session_id, MEMBER, 1, {"bio": "Plays a lot"})
    assert done.status == "done"
    assert Conversion.objects.count() == 1  # eager Celery on the embedded defaults
    assert onboarding.begin(session_id, MEMBER).status == "completed"


@pytest.mark.parametrize(
    ("kind", "extra", "raw", "ok"),
    [
        (T.EMAIL, {}, "a@b.co", True),
        (T.EMAIL, {}, "a@", False),
        (T.NUMBER, {}, "1,200.5", True),
        (T.NUMBER, {}, "twelve", False),
        (T.NUMBER, {}, "1,5", False),  # a decimal comma is not fifteen
        (T.NUMBER, {}, "\u0661\u0662\u0663", False),  # digits 0-9 only
        (T.SHORT_TEXT, {}, "a\x00b", True),
        (T.URL, {}, "https://example.com", True),
        (T.URL, {}, "javascript:alert(1)", False),
        (T.CHOICE, {"choices": ["Yes", "No"]}, "yes", True),
        (T.CHOICE, {"choices": ["Yes", "No"]}, "maybe", False),
        (T.SHORT_TEXT, {"min_length": 3}, "ab", False),
        (T.SHORT_TEXT, {"max_length": 3}, "abcd", False),
        (T.SHORT_TEXT, {}, "   ", False),
    ],
)
def test_each_answer_is_checked_by_its_type(campaign, kind, extra, raw, ok):
    spec = OnboardingField(campaign=campaign, key="k", label="K", field_type=kind, **extra)
    value, error = onboarding.clean_answer(spec, raw)
    assert (error == "") is ok
    assert "\x00" not in value  # PostgreSQL's text cannot hold it


def test_a_number_with_thousands_separators_is_stored_without_them(campaign):
    spec = OnboardingField(campaign=campaign, key="k", label="K", field_type=T.NUMBER)
    assert onboarding.clean_answer(spec, "-1,200,000.5") == ("-1200000.5", "")


def test_continue_opens_exactly_the_step_it_names(six_fields, session_id):
    second = onboarding.step_at(session_id, MEMBER, 1)
    assert (second.status, second.step.index, [f.key for f in second.step.fields]) == (
        "step",
        1,
        ["bio"],
    )
    assert onboarding.step_at(session_id, MEMBER, 2).status == "unknown"
    assert onboarding.step_at(session_id, "1300000000000000001", 0).status == "not_yours"


STEP_ONE = {"name": "Ann", "email": "ann@example.com", "age": "30", "site": "", "level": "Pro"}


def test_it_does_not_complete_while_an_earlier_step_lacks_required_answers(
    six_fields, session_id, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        skipped = onboarding.submit(session_id, MEMBER, 1, {"bio": "Plays a lot"})

    assert skipped.status == "step" and skipped.step.index == 0
    assert "Step 1 of 2 still needs answers" in skipped.message
    assert Conversion.objects.count() == 0
    assert onboarding.begin(session_id, MEMBER).status == "step"  # not completed


def test_it_completes_once_every_step_is_answered_in_any_order(
    six_fields, session_id, discord_emulator, django_capture_on_commit_callbacks, eager_celery
):
    with django_capture_on_commit_callbacks(execute=True):
        onboarding.submit(session_id, MEMBER, 1, {"bio": "Plays a lot"})
        onboarding.submit(session_id, MEMBER, 0, STEP_ONE)
        done = onboarding.submit(session_id, MEMBER, 1, {"bio": "Plays a lot"})

    assert done.status == "done"
    assert Conversion.objects.count() == 1


@pytest.mark.parametrize("index", [-2, -1, 2, 99])
def test_it_refuses_a_step_outside_the_form_with_a_clear_message(six_fields, session_id, index):
    outcome = onboarding.submit(session_id, MEMBER, index, {**STEP_ONE, "bio": "x"})

    assert outcome.status == "unknown"
    assert "This form has no step" in outcome.message and "(it has 2)" in outcome.message
    assert OnboardingResponse.objects.count() == 0
    assert onboarding.step_at(session_id, MEMBER, index).status == "unknown"


def test_members_read_the_campaigns_public_title_not_its_internal_name(
    campaign, session_id, django_capture_on_commit_callbacks
):
    campaign.fields.all().delete()
    OnboardingField.objects.create(campaign=campaign, key="name", label="Name", order=0)
    campaign.public_title = "Summer Drop"
    campaign.save(update_fields=["public_title"])

    step = onboarding.begin(session_id, MEMBER).step
    with django_capture_on_commit_callbacks(execute=True):
        done = onboarding.submit(session_id, MEMBER, 0, {"name": "Ann"})

    assert step.title == "Summer Drop"
    assert done.message == "You're all set — thanks for joining Summer Drop!"


def test_a_choice_answer_cannot_hold_a_nul_character(campaign):
    field = OnboardingField(
        campaign=campaign, key="k", label="K", field_type=T.CHOICE, choices=["ok", "a\x00b"]
    )
    with pytest.raises(ValidationError, match="no NUL characters"):
        field.clean()


def test_a_member_can_clear_an_optional_answer_given_before(six_fields, session_id):
    first = {"name": "Ann", "email": "ann@example.com", "age": "30", "level": "Pro"}
    onboarding.submit(session_id, MEMBER, 0, {**first, "site": "https://ann.example"})

    onboarding.submit(session_id, MEMBER, 0, {**first, "site": ""})

    stored = dict(OnboardingResponse.objects.values_list("field_key", "value"))
    assert "site" not in stored
    assert stored["name"] == "Ann"


UNREACHABLE_CACHE = {
    "default": {
        "BACKEND": "config.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
        "OPTIONS": {"socket_connect_timeout": 0.5},
    }
}


def test_a_cache_that_does_not_answer_costs_the_draft_not_the_step(six_fields, session_id, caplog):
    from botworker.exts.onboarding._logic import open_step, submit_step

    bad = {"name": "Ann", "email": "not-an-email", "age": "30", "level": "Pro"}
    with override_settings(CACHES=UNREACHABLE_CACHE), caplog.at_level(logging.WARNING):
        invalid = submit_step(session_id, MEMBER, 0, bad, None)
        again = open_step(session_id, MEMBER, 0, None)

    assert invalid.status == "invalid" and "email" in invalid.errors
    assert again.status == "step" and again.step.index == 0
    assert "onboarding draft not set (cache unavailable)" in caplog.text
