"""The onboarding cog: the welcome for an attributed member, then the form as modal steps.

Interactions are handled by one `on_interaction` listener rather than per-message views: every
custom_id names its onboarding session (see `_views`), so a button on a message posted before a
restart is answered exactly like a fresh one, and the database decides who may use it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import nextcord
from nextcord.ext import commands

from analytics.joins import JoinOutcome
from botworker.sync import run_sync

from . import _logic, _views, _welcome
from ._logic import Outcome

log = logging.getLogger(__name__)

MAX_CONTENT = 2000
BROKEN = "This button no longer works. Ask a moderator for help."
FAILED = "Something went wrong on our side; your answers so far are kept. Try again in a minute."
# How long a stopping bot lets welcomes being posted and buttons being answered finish.
SHUTDOWN_GRACE_SECONDS = 10.0


class OnboardingCog(commands.Cog):
    """Welcome attributed members and walk them through their campaign's onboarding form."""

    def __init__(self, bot: commands.Bot) -> None:
        self.bot = bot
        self._in_flight: set[asyncio.Task] = set()
        hooks = getattr(bot, "shutdown_hooks", None)
        if hooks is not None:
            hooks.append(self.shutdown)

    @contextmanager
    def _tracked(self) -> Iterator[None]:
        """This handler's task is waited for by `shutdown`."""
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            yield
        finally:
            self._in_flight.discard(task)  # type: ignore[arg-type]

    async def shutdown(self) -> None:
        """Let the welcomes being posted and the buttons being answered finish (for up to
        SHUTDOWN_GRACE_SECONDS) before the bot's HTTP session closes under them: a welcome cut
        off leaves a member without their button. Runs after the invite tracker's hook, so the
        welcomes of the joins it recorded while stopping are among them."""
        # Handlers dispatched just before (the tracker's last `member_attributed`) start at
        # the loop's next turn and only then count themselves in.
        await asyncio.sleep(0)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SHUTDOWN_GRACE_SECONDS
        while pending := self._in_flight - {asyncio.current_task()}:
            left = deadline - loop.time()
            if left <= 0:
                log.warning("stopping with %d welcome(s) or answer(s) unfinished", len(pending))
                return
            await asyncio.wait(pending, timeout=left)

    @commands.Cog.listener()
    async def on_member_attributed(self, member: nextcord.Member, outcome: JoinOutcome) -> None:
        """A join was recorded with an onboarding session: post the welcome and its button.

        Dispatched by the invite-tracking extension after the join is stored, so the session the
        button points at exists. No welcome (rejoin, no campaign, already completed) → nothing.
        Announces `welcome_sent(member, welcome, where)` — where is a channel id, "DM" or None
        when nothing worked — for whoever reports on delivery (and for tests to wait on).
        """
        if outcome.welcome is None:
            return
        with self._tracked():
            where = await _welcome.deliver(member, outcome.welcome)
        self.bot.dispatch("welcome_sent", member, outcome.welcome, where)

    @commands.Cog.listener()
    async def on_interaction(self, interaction: nextcord.Interaction) -> None:
        """Route our buttons and modal submits; anything else belongs to someone else.

        A malformed `onb:` id still gets an answer: an unanswered click shows the member
        "This interaction failed", which tells them nothing. Once answered, announces
        `onboarding_answered(interaction, action, outcome)` (for metrics, and tests to wait on;
        action None: malformed id, outcome None: it failed and the member was told so).
        """
        data = interaction.data if isinstance(interaction.data, dict) else {}
        raw = data.get("custom_id")
        kind = interaction.type
        if not _views.ours(raw) or kind not in (
            nextcord.InteractionType.component,
            nextcord.InteractionType.modal_submit,
        ):
            return
        with self._tracked():
            await self._answer(interaction, raw, kind)

    async def _answer(
        self, interaction: nextcord.Interaction, raw: object, kind: nextcord.InteractionType
    ) -> None:
        action = _views.parse(raw)
        is_submit = kind == nextcord.InteractionType.modal_submit
        if action is None or (action.kind == "modal") != is_submit:
            log.warning(
                "onboarding: malformed custom_id %.100r from member=%s", raw, interaction.user.id
            )
            await _reply(interaction, BROKEN)
            self.bot.dispatch("onboarding_answered", interaction, None, None)
            return
        outcome: Outcome | None = None
        try:
            if is_submit:
                outcome = await self._submitted(interaction, action)
            else:
                outcome = await self._pressed(interaction, action)
        except Exception:
            log.exception(
                "onboarding %s failed session=%s member=%s",
                action.kind,
                action.session_id,
                interaction.user.id,
            )
            await _reply(interaction, FAILED)
        self.bot.dispatch("onboarding_answered", interaction, action, outcome)

    async def _pressed(self, interaction: nextcord.Interaction, action: _views.Action) -> Outcome:
        """Start / Continue / Fix my answers: the modal must be the first response, so the step
        is fetched in one database round trip and sent straight away."""
        outcome = await run_sync(
            _logic.open_step,
            action.session_id,
            str(interaction.user.id),
            None if action.kind == "start" else action.index,
            _reply_to(interaction),
        )
        if outcome.status == "step" and outcome.step is not None:
            modal = _views.step_modal(outcome.step)
            await interaction.response.send_modal(modal)
            modal.stop()  # the listener handles its submit, also after a restart
        else:
            await _reply(interaction, outcome.message or BROKEN)
        return outcome

    async def _submitted(self, interaction: nextcord.Interaction, action: _views.Action) -> Outcome:
        """A step's modal: defer first (storing answers may queue or, without a broker, run the
        conversion task inline), then answer with the next move as an ephemeral follow-up."""
        await interaction.response.defer(ephemeral=True, with_message=True)
        outcome = await run_sync(
            _logic.submit_step,
            action.session_id,
            str(interaction.user.id),
            action.index or 0,  # parse() always gives "modal" an index
            _views.submitted_values(interaction.data),
            _reply_to(interaction),
        )
        text, view = _after_submit(action, outcome)
        if view is None:
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.followup.send(text, view=view, ephemeral=True)
        return outcome


def _after_submit(action: _views.Action, outcome: Outcome) -> tuple[str, nextcord.ui.View | None]:
    """What the member reads after submitting a step, and the button that moves them on."""
    index = action.index or 0
    if outcome.status == "step" and outcome.step is not None:
        text = outcome.message or (
            f"Step {index + 1} of {outcome.step.total} saved. Press **Continue** for the next."
        )
        return text, _views.continue_view(action.session_id, outcome.step.index)
    if outcome.status == "invalid":
        text = (
            outcome.message[: MAX_CONTENT - 80]
            + "\nPress **Fix my answers** to correct them; what you typed is kept."
        )
        return text, _views.retry_view(action.session_id, index)
    return (outcome.message or BROKEN)[:MAX_CONTENT], None


def _reply_to(interaction: nextcord.Interaction) -> _logic.ReplyTo:
    return (str(interaction.application_id), interaction.token)


async def _reply(interaction: nextcord.Interaction, text: str) -> None:
    """An ephemeral answer, whether or not the interaction was already acknowledged."""
    try:
        if interaction.response.is_done():
            await interaction.followup.send(text[:MAX_CONTENT], ephemeral=True)
        else:
            await interaction.response.send_message(text[:MAX_CONTENT], ephemeral=True)
    except nextcord.HTTPException as exc:
        log.warning(
            "could not answer interaction=%s member=%s: %s %s",
            interaction.id,
            interaction.user.id,
            exc.status,
            exc.code,
        )
