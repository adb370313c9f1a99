"""`manage.py simulate`: the whole product under synthetic load, scored against ground truth.

`run_simulation(options)` starts a fresh database, the web app and the local Discord in this
process and the bot in a process of its own, as production runs it (Celery tasks run eagerly, as
on the embedded defaults), creates campaigns and links, drives visitors through the funnel and
returns the report as a dict (see `report.py`). Modules: `environment` (the deployment),
`botrunner` and `botchild` (the bot's process), `world` (campaigns and links), `visitors` (the
driver), `metrics` and `report` (figures and scoring).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from .botrunner import BotRunner, EventBoard
from .environment import Environment
from .metrics import Recorder, summarise
from .options import DropOff, SimulationOptions
from .report import (
    Progress,
    database_counts,
    discord_section,
    link_credit,
    render_table,
    restart_section,
    score_attribution,
)
from .visitors import Driver, plan
from .world import LinkInfo, create_world

__all__ = ["DropOff", "SimulationOptions", "render_table", "run_simulation"]

log = logging.getLogger("botworker.simulation")


def run_simulation(options: SimulationOptions) -> dict[str, Any]:
    """Run once and return the report. Everything started here is stopped here."""
    options.validate()
    started = time.monotonic()
    env = Environment(
        options.database_url,
        options.keep_db,
        emulator_options={"latency_ms": options.discord_latency_ms, "roles_in": options.roles_in},
    )
    bot: BotRunner | None = None
    try:
        env.start()
        join_method = "both" if options.oauth_share > 0 else "invite"
        links = create_world(
            options.links,
            options.campaigns,
            join_method,
            invite_max_age=options.invite_max_age,
            referral_roles=options.referral_roles,
        )
        board = EventBoard()
        bot = BotRunner(board)
        bot.start(timeout=60)
        _inject_faults(env, options)
        recorder = Recorder()
        driver = Driver(env, bot, board, options, recorder)
        visitors = plan(options, links)
        if options.progress:
            with Progress(recorder, options.visitors):
                driver.run(visitors)
        else:
            driver.run(visitors)
        wall = time.monotonic() - started
        return _report(env, bot, board, driver, recorder, options, links, wall)
    finally:
        if bot is not None:
            bot.shutdown()
        env.stop()


def _inject_faults(env: Environment, options: SimulationOptions) -> None:
    """Faults for the whole run, set once the bot is up (its login is not what is tested)."""
    emu = env.emulator
    assert emu is not None
    if options.fault_5xx:
        emu.call(
            emu.emulator.faults.inject_failure,
            "*",
            status=500,
            count=None,
            probability=options.fault_5xx,
        )
    if options.fault_429 and not options.burst:
        emu.call(emu.emulator.faults.inject_rate_limit, "*", count=options.fault_429)


def _report(
    env: Environment,
    bot: BotRunner,
    board: EventBoard,
    driver: Driver,
    recorder: Recorder,
    options: SimulationOptions,
    links: list[LinkInfo],
    wall: float,
) -> dict[str, Any]:
    emu = env.emulator
    assert emu is not None
    truth = emu.ground_truth()
    attribution, decisions = score_attribution(truth, driver.oauth_links)
    codes = [(link.code, link.link_id) for link in links]
    attribution["link_credit"] = link_credit(truth, codes, driver.oauth_links)
    errors = dict(recorder.errors)
    if welcomed_twice := board.repeated("welcome"):
        errors["welcomed_more_than_once"] = welcomed_twice
    # Read on the emulator's loop: its records change while its thread serves.
    failures = emu.call(lambda: len(emu.emulator.world.interaction_failures))
    if failures:
        errors["interaction_failed_on_discord"] = failures
    calls = emu.call(lambda: dict(emu.emulator.faults.calls))
    refusals = emu.call(lambda: dict(emu.emulator.faults.refusals))
    report: dict[str, Any] = {
        "options": options.as_dict(),
        "wall_seconds": round(wall, 1),
        "database_label": env.database_label,
        "funnel": dict(recorder.funnel),
        "database": database_counts(),
        "attribution": attribution,
        "restart": None,
        "latency_ms": summarise(recorder.samples),
        "discord_calls": discord_section(calls, refusals, recorder.funnel["joined"]),
        "bursts": driver.bursts,
        "errors": dict(sorted(errors.items())),
    }
    if options.restart_bot_at:
        report["restart"] = restart_section(decisions, driver.join_times, bot.down_periods)
    return report
