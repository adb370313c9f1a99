"""The onboarding extension's units of work: plain sync functions over `analytics.onboarding`.

The cog calls each through `botworker.sync.run_sync` (thread-sensitive `sync_to_async`, stale
connections closed around it) exactly once per interaction, so a button can be answered with a
modal well inside Discord's 3 seconds.

Drafts: when a step comes back invalid, what the member typed (right and wrong) is kept in the
cache for a while, so "Fix my answers" reopens the step exactly as they left it — also from
another bot process after a restart when the cache is Redis. Valid answers are in the database
already; a lost draft only means the invalid ones are not prefilled.
"""

from __future__ import annotations

import dataclasses
import logging

from django.core.cache import cache

from analytics import onboarding
from analytics.onboarding import Outcome, Step

log = logging.getLogger(__name__)

DRAFT_SECONDS = 15 * 60  # as long as Discord lets the member answer the interaction
ReplyTo = tuple[str, str]  # (application id, interaction token): never logged


def open_step(
    session_id: str, member_id: str, index: int | None, reply_to: ReplyTo | None
) -> Outcome:
    """The step to show for "Start onboarding" (index None), "Continue" or "Fix my answers".

    "Start onboarding" goes through `begin`, which records `onboarding_start` once and picks the
    first step still missing answers; "Continue" and "Fix my answers" open exactly the step they
    name, with the member's draft (what they typed last time) laid over it.
    """
    if index is None:
        outcome = onboarding.begin(session_id, member_id, reply_to=reply_to)
    else:
        outcome = onboarding.step_at(session_id, member_id, index)
    step = outcome.step if outcome.status == "step" else None
    if step is not None and index is not None:
        draft = _draft_cache("get", _draft_key(session_id, index))
        if isinstance(draft, dict):
            outcome = dataclasses.replace(outcome, step=_prefilled(step, draft))
    log.info(
        "onboarding open session=%s member=%s asked=%s status=%s step=%s",
        session_id,
        member_id,
        index,
        outcome.status,
        outcome.step.index if outcome.step else None,
    )
    return outcome


def submit_step(
    session_id: str,
    member_id: str,
    index: int,
    values: dict[str, str],
    reply_to: ReplyTo | None,
) -> Outcome:
    """Store one submitted step; keep an invalid one's typed values as the member's draft."""
    outcome = onboarding.submit(session_id, member_id, index, values, reply_to=reply_to)
    if outcome.status == "invalid" and outcome.step is not None:
        draft = {f.key: f.value for f in outcome.step.fields}
        _draft_cache("set", _draft_key(session_id, index), draft, DRAFT_SECONDS)
    elif outcome.status in ("step", "done"):
        _draft_cache("delete", _draft_key(session_id, index))
    log.info(
        "onboarding submit session=%s member=%s step=%s status=%s invalid=%s",
        session_id,
        member_id,
        index,
        outcome.status,
        sorted(outcome.errors),
    )
    return outcome


def _prefilled(step: Step, draft: dict[str, object]) -> Step:
    fields = tuple(
        dataclasses.replace(f, value=str(draft[f.key])[: onboarding.MAX_VALUE])
        if isinstance(draft.get(f.key), str)
        else f
        for f in step.fields
    )
    return dataclasses.replace(step, fields=fields)


def _draft_key(session_id: str, index: int) -> str:
    return f"onboarding:draft:{session_id}:{index}"


def _draft_cache(operation: str, *args: object) -> object:
    """A draft is a convenience: a cache that does not answer (Redis down) costs the member
    their typed values, never the step. Logged, and None."""
    try:
        return getattr(cache, operation)(*args)
    except Exception as exc:
        log.warning("onboarding draft not %s (cache unavailable): %r", operation, exc)
        return None
