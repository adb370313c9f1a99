"""Onboarding: a campaign's form as Discord modal steps, validated answers, completion.

Plain functions over the database; the bot's onboarding extension turns their results into
modals and messages. Only the member a session belongs to can use it.
"""

import logging
import math
import re
from dataclasses import dataclass, field
from functools import partial

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator, validate_email
from django.db import transaction
from django.utils import timezone

from analytics import bulk, conversions
from analytics.models import OnboardingResponse, OnboardingSession, ReferralEvent
from campaigns.models import OnboardingField

log = logging.getLogger(__name__)

FIELDS_PER_MODAL = 5  # Discord: at most 5 action rows (text inputs) in a modal
MAX_VALUE = 4000  # Discord: a text input's value is at most 4000 characters
Session = OnboardingSession
Type = OnboardingField.FieldType


@dataclass(frozen=True)
class FieldSpec:
    """One modal text input."""

    key: str
    label: str
    paragraph: bool
    required: bool
    placeholder: str
    min_length: int | None
    max_length: int | None
    value: str = ""  # the member's earlier answer, to prefill


@dataclass(frozen=True)
class Step:
    session_id: str
    index: int  # 0-based
    total: int
    title: str  # ≤ 45 characters
    fields: tuple[FieldSpec, ...]


@dataclass(frozen=True)
class Outcome:
    """What the bot should show. status: step | invalid | done | completed | not_yours | unknown."""

    status: str
    message: str = ""
    step: Step | None = None
    errors: dict[str, str] = field(default_factory=dict)


def begin(session_id: str, member_id: str, reply_to: tuple[str, str] | None = None) -> Outcome:
    """The "Start onboarding" button: record `onboarding_start` once and give the first step
    the member has not finished (all steps answered → complete now)."""
    session, refusal = _usable_session(session_id, member_id)
    if refusal:
        return refusal
    _record_start(session)
    steps = _steps(session)
    if not steps:
        return _complete(session, reply_to)
    return Outcome("step", step=_first_unanswered(steps) or steps[-1])


def step_at(session_id: str, member_id: str, index: int) -> Outcome:
    """Step `index` exactly ("Continue" to the next step, "Fix my answers" for this one),
    prefilled with the member's stored answers."""
    session, refusal = _usable_session(session_id, member_id)
    if refusal:
        return refusal
    steps = _steps(session)
    if not isinstance(index, int) or not 0 <= index < len(steps):
        return _no_such_step(index, len(steps))
    return Outcome("step", step=steps[index])


def submit(
    session_id: str,
    member_id: str,
    index: int,
    values: dict[str, str],
    reply_to: tuple[str, str] | None = None,
) -> Outcome:
    """A modal step submitted: store every valid answer at once, then the next step, the same
    step again with what was wrong, or completion.

    `reply_to` is (application id, interaction token): kept server-side (never in a task
    argument) so the conversion's side effects can tell the member about roles not given.
    """
    session, refusal = _usable_session(session_id, member_id)
    if refusal:
        return refusal
    fields = list(session.campaign.fields.all())
    steps = _steps(session)
    if not isinstance(index, int) or not 0 <= index < len(steps):
        return _no_such_step(index, len(steps))
    chunk = fields[index * FIELDS_PER_MODAL : (index + 1) * FIELDS_PER_MODAL]
    errors: dict[str, str] = {}
    store: dict[str, str] = {}  # field key -> the answer, "" for an optional one emptied
    for spec in chunk:
        raw = values.get(spec.key, "")
        value, error = clean_answer(spec, raw if isinstance(raw, str) else "")
        if error:
            errors[spec.key] = error
        elif value or spec.key in values:
            store[spec.key] = value
    _store_answers(session, member_id, store)
    if errors:
        names = ", ".join(f"**{_label(fields, key)}**: {msg}" for key, msg in errors.items())
        return Outcome(
            "invalid",
            f"Please fix: {names}",
            step=_with_values(steps[index], values),
            errors=errors,
        )
    if index + 1 < len(steps):
        return Outcome("step", step=_steps(session)[index + 1])
    return _complete(session, reply_to)


def _store_answers(session: OnboardingSession, member_id: str, store: dict[str, str]) -> None:
    """Write a step's checked answers ("" = an optional answer emptied: the stored one goes).

    What is stored is read first, so only real changes take the write lock (SQLite's is the
    whole database, and the bot's join records wait for it), all in one statement each: one
    upsert, one delete, and none of either when nothing changed. A failure stores nothing.
    """
    if not store:
        return
    mine = OnboardingResponse.objects.filter(
        campaign=session.campaign, discord_user_id=member_id, field_key__in=list(store)
    )
    stored = {
        key: (value, link) for key, value, link in mine.values_list("field_key", "value", "link_id")
    }
    link_id = session.link_id
    changed = [
        OnboardingResponse(
            campaign=session.campaign,
            discord_user_id=member_id,
            field_key=key,
            value=value,
            link_id=link_id,
        )
        for key, value in store.items()
        if value and stored.get(key) != (value, link_id)
    ]
    emptied = [key for key, value in store.items() if not value and key in stored]
    if not changed and not emptied:
        return
    with transaction.atomic():
        if changed:
            OnboardingResponse.objects.bulk_create(
                changed,
                update_conflicts=True,
                unique_fields=["campaign", "discord_user_id", "field_key"],
                update_fields=["value", "link", "updated_at"],
            )
        if emptied:
            mine.filter(field_key__in=emptied).delete()


def clean_answer(spec: OnboardingField, raw: str) -> tuple[str, str]:
    """(normalised value, "") or ("", why it is not acceptable) for one field."""
    value = raw.replace("\x00", "").strip()[:MAX_VALUE]  # PostgreSQL text holds no NUL
    if not value:
        return ("", "this answer is required") if spec.required else ("", "")
    if spec.min_length and len(value) < spec.min_length:
        return "", f"at least {spec.min_length} characters"
    if spec.max_length and len(value) > spec.max_length:
        return "", f"at most {spec.max_length} characters"
    if spec.field_type == Type.EMAIL:
        try:
            validate_email(value)
        except ValidationError:
            return "", "that is not an email address"
    elif spec.field_type == Type.NUMBER:
        # Digits 0-9; commas only between thousands ("1,5" is not fifteen): "." for decimals.
        if not re.fullmatch(r"-?(\d{1,3}(,\d{3})+|\d+)(\.\d+)?", value, re.ASCII):
            return "", "please enter a number (digits, with . for decimals)"
        if not math.isfinite(float(value.replace(",", ""))):
            return "", "please enter a number"
        value = value.replace(",", "")
    elif spec.field_type == Type.URL:
        try:
            URLValidator(schemes=["http", "https"])(value)
        except ValidationError:
            return "", "please enter a web address starting with https://"
    elif spec.field_type == Type.CHOICE:
        by_fold = {c.casefold(): c for c in spec.choices}
        if value.casefold() not in by_fold:
            return "", "choose one of: " + ", ".join(spec.choices)
        value = by_fold[value.casefold()]
    return value, ""


def _complete(session: OnboardingSession, reply_to: tuple[str, str] | None = None) -> Outcome:
    """Complete the session and record its conversion in one transaction; only the side
    effects (roles, the member's note) are queued, after commit.

    Refused, with the first step still missing a required answer, until every required field
    of every step is answered — modals can arrive in any order, or be replayed.
    """
    with transaction.atomic():
        missing = _first_unanswered(_steps(session))
        if missing is not None:
            return Outcome(
                "step",
                f"Step {missing.index + 1} of {missing.total} still needs answers: "
                "press **Continue** to finish it.",
                step=missing,
            )
        claimed = (
            Session.objects.filter(pk=session.pk)
            .exclude(status=Session.Status.COMPLETED)
            .update(status=Session.Status.COMPLETED, completed_at=timezone.now())
        )
        if claimed:
            conversion, _ = conversions.convert(session)
            transaction.on_commit(partial(_after_completion, conversion.pk, reply_to))
    log.info("onboarding completed session=%s member=%s", session.pk, session.discord_user_id)
    return Outcome("done", f"You're all set — thanks for joining {session.campaign.display_title}!")


def _after_completion(conversion_id: int, reply_to: tuple[str, str] | None) -> None:
    conversions.remember_reply(conversion_id, reply_to)
    conversions.queue_side_effects(conversion_id)


def _first_unanswered(steps: list[Step]) -> Step | None:
    return next((s for s in steps if any(f.required and not f.value for f in s.fields)), None)


def _no_such_step(index: object, total: int) -> Outcome:
    shown = index + 1 if isinstance(index, int) else index
    return Outcome(
        "unknown",
        f"This form has no step {shown} (it has {total}). Press **Start onboarding** again.",
    )


def _record_start(session: OnboardingSession) -> None:
    """`onboarding_start` once per session, in one short write (a pressed-again button, whose
    session has already started, writes nothing and takes no write lock)."""
    if session.status != Session.Status.WELCOMED:
        return
    now = timezone.now()
    event = ReferralEvent(
        event_type=ReferralEvent.EventType.ONBOARDING_START,
        link_id=session.link_id,
        campaign_id=session.campaign_id,
        discord_user_id=session.discord_user_id,
        dedupe_key=f"onboarding_start:{session.campaign_id}:{session.discord_user_id}",
        metadata={"guild_id": session.guild_id, "session": session.pk},
        created_at=now,
    )
    with transaction.atomic():
        updated = Session.objects.filter(pk=session.pk, status=Session.Status.WELCOMED).update(
            status=Session.Status.STARTED, started_at=now
        )
        if updated:
            bulk.write_events([event])


def _steps(session: OnboardingSession) -> list[Step]:
    fields = list(session.campaign.fields.all())
    answers = _answers(session)
    total = math.ceil(len(fields) / FIELDS_PER_MODAL)
    steps = []
    for i in range(total):
        chunk = fields[i * FIELDS_PER_MODAL : (i + 1) * FIELDS_PER_MODAL]
        title = session.campaign.display_title[:30] + (f" ({i + 1}/{total})" if total > 1 else "")
        specs = tuple(
            FieldSpec(
                key=f.key,
                label=f.label[:45],
                paragraph=f.field_type == Type.PARAGRAPH,
                required=f.required,
                placeholder=(f.placeholder or _choice_hint(f))[:100],
                min_length=f.min_length,
                max_length=f.max_length,
                value=answers.get(f.key, ""),
            )
            for f in chunk
        )
        steps.append(Step(session.pk, i, total, title[:45], specs))
    return steps


def _with_values(step: Step, values: dict[str, str]) -> Step:
    """The same step, prefilled with what the member just typed (valid or not)."""
    fields = tuple(
        FieldSpec(**{**f.__dict__, "value": str(values.get(f.key, f.value))[:MAX_VALUE]})
        for f in step.fields
    )
    return Step(step.session_id, step.index, step.total, step.title, fields)


def _choice_hint(spec: OnboardingField) -> str:
    return " / ".join(spec.choices) if spec.field_type == Type.CHOICE else ""


def _label(fields: list[OnboardingField], key: str) -> str:
    return next((f.label for f in fields if f.key == key), key)


def _answers(session: OnboardingSession) -> dict[str, str]:
    return dict(
        OnboardingResponse.objects.filter(
            campaign_id=session.campaign_id, discord_user_id=session.discord_user_id
        ).values_list("field_key", "value")
    )


def _usable_session(
    session_id: str, member_id: str
) -> tuple[OnboardingSession | None, Outcome | None]:
    """The session, or why this member cannot use it (unknown, someone else's, completed)."""
    session = _session(session_id)
    if session is None:
        return None, Outcome("unknown", "This onboarding has expired. Ask a moderator for help.")
    if session.discord_user_id != member_id:
        return None, Outcome("not_yours", "This button belongs to another member's onboarding.")
    if session.status == Session.Status.COMPLETED:
        return None, Outcome("completed", "You've already completed onboarding. Welcome aboard!")
    return session, None


def _session(session_id: str) -> OnboardingSession | None:
    if not isinstance(session_id, str) or not 8 <= len(session_id) <= 24:
        return None
    return Session.objects.select_related("campaign").filter(pk=session_id).first()
