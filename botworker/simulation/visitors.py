"""The synthetic visitors: landing page → "Join Discord" → joining the server → onboarding.

A pipeline of three stages so that bursts never deadlock the thread pools:
1. web stage (`--concurrency` threads): GET the landing page, POST the join form, keep the
   invite code from the 302;
2. one joiner thread: accepts invites on the emulator at `--join-rate` (exponential gaps with
   `--arrivals poisson`, even ones with `even`), or in bursts of
   `--burst` released together; it also plays the scheduled bot restart and gateway drops.
   `--oauth-share` visitors join through "Join with Discord" instead (`oauth.py`): their
   consent and callback run on a pool, so a burst of them reaches the web app at once;
3. onboarding stage (`--concurrency` threads): wait for the bot to record the join and post the
   welcome, press "Start onboarding", submit the modal, wait for the conversion row.
Who stops where, and which link each visitor comes through (`--popularity`), is drawn up front
from `--seed`, so two runs with one seed ask the same things.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any

import requests
from django.db import connections

from .botrunner import BotRunner, EventBoard
from .environment import Environment
from .metrics import Recorder
from .oauth import OAuthFlow
from .options import SimulationOptions
from .world import LinkInfo, conversion_time, form_answers, message_with_button

log = logging.getLogger("botworker.simulation")

CSRF_RE = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
HTTP_TIMEOUT = 30.0
# Visitors are people: with requests' own User-Agent the click classifier (rightly) files
# every visit as a bot's and records no click.
BROWSERS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
    "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:127.0) Gecko/20100101 Firefox/127.0",
)


@dataclass
class Visitor:
    n: int
    link: LinkInfo
    stops_after: str | None  # "landing" | "invite" | "welcome" | "form" | None (converts)
    invite_code: str = ""
    user_id: str = ""
    joined_at: float = 0.0  # monotonic, when the accept request was sent
    queued: bool = False  # handed to the joiner: its journey goes on there
    oauth: bool = False  # joins with "Join with Discord" (OAuth2 guilds.join), not an invite
    consent: dict[str, str] = field(default_factory=dict)  # Discord's authorize URL query
    web: Any = None  # an OAuth visitor's browser session: the callback needs its cookies


ZIPF_EXPONENT = 1.1


def link_weights(options: SimulationOptions, count: int) -> list[float] | None:
    """Zipf popularity: the link of rank r (creation order) weighs 1/r^1.1, so a few links
    carry most visitors, as real referral links do. None: uniform."""
    if options.popularity != "zipf":
        return None
    return [1 / rank**ZIPF_EXPONENT for rank in range(1, count + 1)]


def arrival_gaps(options: SimulationOptions) -> Iterator[float]:
    """Seconds between paced joins: exponential with mean 1/--join-rate (a Poisson process,
    seeded from --seed), or exactly 1/--join-rate with `--arrivals even`."""
    if options.arrivals == "even":
        while True:
            yield 1.0 / options.join_rate
    rng = random.Random(f"arrivals-{options.seed}")
    while True:
        yield rng.expovariate(options.join_rate)


def plan(options: SimulationOptions, links: list[LinkInfo]) -> list[Visitor]:
    rng = random.Random(options.seed)
    weights = link_weights(options, len(links))
    steps = [
        ("landing", options.drop.landing),
        ("invite", options.drop.invite),
        ("welcome", options.drop.welcome),
        ("form", options.drop.form),
    ]
    visitors = []
    for n in range(options.visitors):
        link = rng.choice(links) if weights is None else rng.choices(links, weights)[0]
        stop = next((name for name, p in steps if rng.random() < p), None)
        # Drawn only when asked for: runs without OAuth keep their seed's draws.
        oauth = options.oauth_share > 0 and rng.random() < options.oauth_share
        visitors.append(Visitor(n, link, stop, oauth=oauth))
    return visitors


@dataclass
class Schedule:
    """Join-count triggers: the bot restart and the gateway drops."""

    restart_at: int | None
    drops_at: set[int] = field(default_factory=set)


class Driver:
    def __init__(
        self,
        env: Environment,
        bot: BotRunner,
        board: EventBoard,
        options: SimulationOptions,
        recorder: Recorder,
    ) -> None:
        self.env, self.bot, self.board, self.options, self.rec = env, bot, board, options, recorder
        self.emu_base = env.emulator.base_url if env.emulator else ""
        self.http = requests.Session()  # the emulator's control API: one user agent for all
        self.queue: deque[Visitor] = deque()
        self.queue_changed = threading.Condition()
        self.web_done = False
        self.onboarding: list[Future[None]] = []
        self.onboarding_pool = ThreadPoolExecutor(options.concurrency, "onboarding")
        workers = max(options.concurrency, min(options.burst, 32))
        self.oauth_pool = ThreadPoolExecutor(workers, "oauth")
        # Every thread shares the control session: one kept connection each, not urllib3's 10.
        adapter = requests.adapters.HTTPAdapter(pool_maxsize=workers + options.concurrency + 2)
        self.http.mount("http://", adapter)
        self.oauth = OAuthFlow(env.web_base, self.emu_base, self.http, recorder)
        self.oauth_links: dict[str, str] = {}  # member id → the link an OAuth visitor used
        self.joins = 0
        self.bursts: list[dict[str, float]] = []
        self.restarts: list[threading.Thread] = []
        self.join_times: dict[str, float] = {}

    # -- the run -------------------------------------------------------------------------------

    def run(self, visitors: list[Visitor]) -> None:
        joiners = sum(v.stops_after not in ("landing", "invite") for v in visitors)
        schedule = Schedule(self.options.restart_bot_at)
        n = self.options.drop_gateway
        schedule.drops_at = {max(1, round(i * joiners / (n + 1))) for i in range(1, n + 1)}
        joiner = threading.Thread(target=self._join_loop, args=(schedule,), name="joiner")
        joiner.start()
        with ThreadPoolExecutor(self.options.concurrency, "web") as web:
            for future in [web.submit(self._guard, self._web_stage, v) for v in visitors]:
                future.result()
        with self.queue_changed:
            self.web_done = True
            self.queue_changed.notify_all()
        joiner.join()
        self.oauth_pool.shutdown()
        for thread in self.restarts:
            thread.join()
        wait(self.onboarding)
        self.onboarding_pool.shutdown()

    def _guard(self, fn: Any, visitor: Visitor) -> None:
        """One visitor's failure is a counted error, never the end of the run."""
        try:
            fn(visitor)
        except requests.RequestException as exc:
            self.rec.error(f"http_{type(exc).__name__}")
        except Exception:
            log.exception("visitor %s failed", visitor.n)
            self.rec.error("driver_exception")
        finally:
            connections.close_all()
            if fn == self._onboard or not visitor.queued:
                self.rec.finish()

    # -- stage 1: the web app ------------------------------------------------------------------

    def _web_stage(self, v: Visitor) -> None:
        self.rec.step("visitors")
        web = requests.Session()
        web.headers["User-Agent"] = BROWSERS[v.n % len(BROWSERS)]
        url = f"{self.env.web_base}/r/{v.link.code}"
        started = time.perf_counter()
        page = web.get(url, timeout=HTTP_TIMEOUT)
        self.rec.latency("landing", time.perf_counter() - started)
        if page.status_code != 200:
            self.rec.error(f"landing_http_{page.status_code}")
            return
        self.rec.step("landing")
        if v.stops_after == "landing":
            return
        # The way in: an invite, or (OAuth) Discord's consent page; "invite" counts both.
        if not (self.oauth.begin(v, web) if v.oauth else self._get_invite(v, web, url, page)):
            return
        self.rec.step("invite")
        if v.stops_after == "invite":
            return
        v.queued = True
        with self.queue_changed:
            self.queue.append(v)
            self.queue_changed.notify_all()

    def _get_invite(self, v: Visitor, web: requests.Session, url: str, page: Any) -> bool:
        """POST the landing page's join form; keep the invite code from the 302."""
        token = CSRF_RE.search(page.text)
        if token is None:
            self.rec.error("landing_without_join_form")
            return False
        started = time.perf_counter()
        answer = web.post(
            f"{url}/join",
            data={"csrfmiddlewaretoken": token.group(1)},
            headers={"Referer": url},
            allow_redirects=False,
            timeout=HTTP_TIMEOUT,
        )
        self.rec.latency("join_redirect", time.perf_counter() - started)
        location = answer.headers.get("Location", "")
        if answer.status_code != 302:
            self.rec.error(f"join_http_{answer.status_code}")
            return False
        if not location.startswith(f"{self.emu_base}/invite/"):
            self.rec.error("untracked_fallback_invite")
            return False
        v.invite_code = location.rsplit("/", 1)[1]
        return True

    # -- stage 2: joining the server -----------------------------------------------------------

    def _take(self) -> list[Visitor]:
        """The next visitors to join: a full burst (or what is left), or one; [] at the end."""
        size = self.options.burst or 1
        with self.queue_changed:
            self.queue_changed.wait_for(lambda: len(self.queue) >= size or self.web_done)
            return [self.queue.popleft() for _ in range(min(size, len(self.queue)))]

    def _join_loop(self, schedule: Schedule) -> None:
        gaps = arrival_gaps(self.options)
        next_at = time.monotonic()
        try:
            while batch := self._take():
                if self.options.burst:
                    # Bursts are spaced as asked (a pacing pause, not a wait for results).
                    time.sleep(max(0.0, next_at - time.monotonic()))
                    next_at = time.monotonic() + self.options.burst_every
                    self._inject_429()
                    started = time.monotonic()
                    # OAuth joins run on their pool; the burst lasts until they are all in.
                    wait([f for v in batch if (f := self._join(v, schedule)) is not None])
                    self.bursts.append(
                        {"size": len(batch), "seconds": round(time.monotonic() - started, 3)}
                    )
                    continue
                for v in batch:
                    # Pacing joins to the asked rate, not waiting for anything to settle.
                    time.sleep(max(0.0, next_at - time.monotonic()))
                    next_at = max(next_at + next(gaps), time.monotonic())
                    self._join(v, schedule)
        except Exception:
            log.exception("the joiner failed")
            self.rec.error("driver_exception")
            with self.queue_changed:
                self.queue.clear()

    def _join(self, v: Visitor, schedule: Schedule) -> Future[None] | None:
        """Let one visitor join: an invite accepted here, or an OAuth join handed to the pool
        (its future returned). The join count, restart and drops stay on this thread."""
        try:
            self.joins += 1
            if self.joins == schedule.restart_at:
                self._restart_bot()
            if self.joins in schedule.drops_at:
                self.http.post(f"{self.emu_base}/_emulator/gateway/drop", timeout=HTTP_TIMEOUT)
            if v.oauth:
                return self.oauth_pool.submit(self._oauth_join, v)
            self._accept(v)
        except requests.RequestException as exc:
            self.rec.error(f"accept_{type(exc).__name__}")
            self.rec.finish()
        return None

    def _oauth_join(self, v: Visitor) -> None:
        try:
            joined = self.oauth.complete(v)
        except requests.RequestException as exc:
            self.rec.error(f"oauth_{type(exc).__name__}")
            joined = False
        except Exception:
            log.exception("visitor %s: OAuth join failed", v.n)
            self.rec.error("driver_exception")
            joined = False
        if not joined:
            self.rec.finish()
            return
        self.oauth_links[v.user_id] = v.link.link_id
        self.rec.step("joined_oauth")
        self._joined(v)

    def _accept(self, v: Visitor) -> None:
        v.joined_at = time.monotonic()
        answer = self.http.post(
            f"{self.emu_base}/_emulator/invites/{v.invite_code}/accept",
            json={"username": f"visitor{v.n}"},
            timeout=HTTP_TIMEOUT,
        )
        if answer.status_code != 200:
            self.rec.error(f"accept_http_{answer.status_code}")
            self.rec.finish()
            return
        v.user_id = answer.json()["member"]["user"]["id"]
        self._joined(v)

    def _joined(self, v: Visitor) -> None:
        self.join_times[v.user_id] = v.joined_at
        self.rec.step("joined")
        self.onboarding.append(self.onboarding_pool.submit(self._guard, self._onboard, v))

    def _inject_429(self) -> None:
        if self.options.fault_429:
            rule = {"pattern": "*", "count": self.options.fault_429, "retry_after": 0.2}
            self.http.post(
                f"{self.emu_base}/_emulator/faults", json={"inject_429": [rule]}, timeout=10
            )

    def _restart_bot(self) -> None:
        """Stop the bot gracefully now; start it again `--bot-downtime` seconds later. Joins go
        on meanwhile: the restarted bot must reconcile them."""
        stopping = self.bot.stop_in_background()
        began = time.monotonic()

        def restart() -> None:
            stopping.result(60)
            # The outage lasts as long as asked: a deliberate pause, not a wait for a result.
            time.sleep(max(0.0, self.options.bot_downtime - (time.monotonic() - began)))
            self.bot.start(timeout=60)

        thread = threading.Thread(target=restart, name="bot-restart")
        thread.start()
        self.restarts.append(thread)

    # -- stage 3: welcome and onboarding -------------------------------------------------------

    @property
    def _patience(self) -> float:
        """How long a member waits for the bot: one step's timeout, plus any planned outage."""
        outage = self.options.bot_downtime + 30 if self.options.restart_bot_at else 0.0
        return self.options.step_timeout + outage

    def _onboard(self, v: Visitor) -> None:
        recorded = self.board.wait("join_recorded", v.user_id, self._patience)
        if recorded is None:
            self.rec.error("join_not_recorded")
            return
        self.rec.step("join_recorded")
        welcome = self.board.wait("welcome", v.user_id, self.options.step_timeout)
        if welcome is None:
            self.rec.error(f"no_welcome_after_{recorded[1]}")
            return
        at, (session_id, _where) = welcome
        self.rec.latency("join_to_welcome", at - v.joined_at)
        self.rec.step("welcomed")
        if v.stops_after == "welcome":
            return
        custom_id = f"onb:start:{session_id}"
        message_id = self.env.emulator.call(message_with_button, self.env.emulator, custom_id)
        if message_id is None:
            self.rec.error("welcome_message_not_found")
            return
        opened = self._control(
            "interactions/click",
            {"user_id": v.user_id, "message_id": message_id, "custom_id": custom_id},
        )
        if opened is None:
            return
        if opened["failed"] or not opened["modal"]:
            self.rec.error("start_failed" if opened["failed"] else "start_without_modal")
            return
        self.rec.step("onboarding_started")
        if v.stops_after == "form":
            return
        self._submit(v, opened)

    def _submit(self, v: Visitor, opened: dict[str, Any]) -> None:
        keys = [row["components"][0]["custom_id"] for row in opened["modal"]["components"]]
        answers = form_answers(v.n)
        values = {key: answers.get(key, "x") for key in keys}
        sent_wall, sent = time.time(), time.monotonic()
        state = self._control(
            f"interactions/{opened['id']}/submit", {"user_id": v.user_id, "values": values}
        )
        if state is None:
            return
        self.rec.step("submitted")
        answered = self.board.wait("answered", state["id"], self.options.step_timeout)
        if answered is None or state["failed"]:
            self.rec.error("submit_failed" if state["failed"] else "submit_unanswered")
            return
        if answered[1] != "done":
            self.rec.error(f"submit_{answered[1]}")
            return
        created = conversion_time(v.user_id, sent + self.options.step_timeout)
        if created is None:
            self.rec.error("conversion_not_recorded")
            return
        self.rec.latency("submit_to_conversion", max(0.0, created - sent_wall))
        self.rec.step("converted")

    def _control(self, path: str, body: dict[str, Any]) -> dict[str, Any] | None:
        """A user action on the emulator; it answers once the bot has (or `wait` ran out)."""
        body["wait"] = self.options.step_timeout
        answer = self.http.post(f"{self.emu_base}/_emulator/{path}", json=body, timeout=60)
        if answer.status_code >= 300:
            self.rec.error(f"{path.rsplit('/', 1)[-1]}_http_{answer.status_code}")
            return None
        return answer.json()
