"""What a simulation run is asked to do: visitors, drop-off, pacing, faults, where to write.

A plain dataclass so the command, the tests and any script build runs the same way, and so the
JSON report can echo exactly what was run.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any
from urllib.parse import urlsplit

from campaigns.models import MAX_INVITE_AGE, MIN_INVITE_AGE

ARRIVALS = ("poisson", "even")
POPULARITY = ("zipf", "uniform")
ROLES_IN = ("add", "update")
DATABASE_SCHEMES = ("postgres", "postgresql", "pgsql", "psql", "sqlite")


@dataclass(frozen=True)
class DropOff:
    """Probability that a visitor stops at each step (0 = everyone goes on)."""

    landing: float = 0.10  # saw the landing page, never pressed "Join Discord"
    invite: float = 0.05  # got an invite, never joined the server
    welcome: float = 0.10  # joined, never pressed "Start onboarding"
    form: float = 0.05  # opened the form, never submitted it


@dataclass(frozen=True)
class SimulationOptions:
    visitors: int = 100
    concurrency: int = 8
    links: int = 10
    campaigns: int = 1
    drop: DropOff = DropOff()
    join_rate: float = 20.0  # joins per second outside bursts
    arrivals: str = "poisson"  # paced joins: exponential gaps of mean 1/join_rate, or "even"
    popularity: str = "zipf"  # which link a visitor comes through: 1/rank^1.1, or "uniform"
    burst: int = 0  # joins released together, within one second; 0: paced by join_rate
    burst_every: float = 5.0  # seconds from one burst's start to the next one's, at least
    restart_bot_at: int | None = None  # stop the bot after this many joins…
    bot_downtime: float = 2.0  # …and start it again this many seconds later
    fault_429: int = 0  # 429s injected at the start of each burst (or of the run)
    fault_5xx: float = 0.0  # probability of a 500 on any Discord REST call
    drop_gateway: int = 0  # gateway connections dropped, spread over the joins
    oauth_share: float = 0.0  # share of visitors joining with "Join with Discord" (OAuth2)
    invite_max_age: int = 600  # the campaigns' invite lifetime (s): abandoned ones can expire
    referral_roles: str = "on"  # campaigns' referral_roles: "on" per_link, "off"
    roles_in: str = "update"  # the emulator's roles_in: role invite's roles in ADD or UPDATE
    discord_latency_ms: float = 80.0  # the emulator's latency_ms (REST and gateway)
    seed: int = 1
    database_url: str = ""  # empty: a throwaway SQLite file under var/
    keep_db: bool = False
    step_timeout: float = 30.0  # longest wait for any one thing the bot should do
    progress: bool = True

    def validate(self) -> None:
        """Refuse runs that cannot mean anything, with a message naming the option."""
        checks = [
            (self.visitors >= 1, "--visitors must be at least 1"),
            (1 <= self.concurrency <= 64, "--concurrency must be between 1 and 64"),
            (self.links >= 1, "--links must be at least 1"),
            (1 <= self.campaigns <= self.links, "--campaigns must be between 1 and --links"),
            (self.join_rate > 0, "--join-rate must be positive"),
            (self.arrivals in ARRIVALS, "--arrivals is poisson or even"),
            (self.popularity in POPULARITY, "--popularity is zipf or uniform"),
            (self.burst >= 0, "--burst must be 0 or more"),
            (self.burst_every >= 0, "--burst-every must be 0 or more"),
            (self.restart_bot_at is None or self.restart_bot_at >= 1, "--restart-bot-at ≥ 1"),
            (self.bot_downtime >= 0, "--bot-downtime must be 0 or more"),
            (self.fault_429 >= 0, "--fault-429 must be 0 or more"),
            (0 <= self.fault_5xx < 1, "--fault-5xx is a probability below 1"),
            (self.drop_gateway >= 0, "--drop-gateway must be 0 or more"),
            (0 <= self.oauth_share <= 1, "--oauth-share is a share between 0 and 1"),
            (
                MIN_INVITE_AGE <= self.invite_max_age <= MAX_INVITE_AGE,
                f"--invite-max-age must be between {MIN_INVITE_AGE} and {MAX_INVITE_AGE} seconds",
            ),
            (self.referral_roles in ("on", "off"), "--referral-roles is on or off"),
            (self.roles_in in ROLES_IN, "--roles-in is add or update"),
            (
                0 <= self.discord_latency_ms <= 10_000,
                "--discord-latency-ms must be between 0 and 10000",
            ),
            (self.step_timeout > 0, "--step-timeout must be positive"),
            (
                not self.database_url or urlsplit(self.database_url).scheme in DATABASE_SCHEMES,
                "--database-url is postgres://user@host:5432/name or sqlite:///path",
            ),
        ]
        for name, value in asdict(self.drop).items():
            checks.append((0 <= value < 1, f"--drop-{name} is a probability below 1"))
        for ok, message in checks:
            if not ok:
                raise ValueError(message)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["database_url"] = _without_password(self.database_url)
        return data


def _without_password(url: str) -> str:
    """The URL as it may appear in a report: no password."""
    if "@" not in url or "://" not in url:
        return url
    scheme, rest = url.split("://", 1)
    credentials, host = rest.rsplit("@", 1)
    return f"{scheme}://{credentials.split(':', 1)[0]}@{host}"
