"""`manage.py demo_activity`: a month of believable referral activity on the demo campaign, so
every dashboard chart has something to show.

Rows are written through the ORM like the product writes them (so the rollups update on
write). Idempotent: a day that already has demo activity is left alone, so a second run adds
nothing and a run a week later fills in only the new days.
"""

import random
from contextlib import contextmanager
from datetime import datetime, time, timedelta
from unittest import mock

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from analytics.models import Conversion, OnboardingResponse, OnboardingSession, ReferralEvent
from analytics.rollups import rebuild_link_counters
from botworker.management.devonly import require
from campaigns.management.demo import DEMO_CAMPAIGN
from campaigns.models import Campaign
from config.cli import int_between
from referrals.models import ReferralLink

try:
    from botworker.emulator import defaults as discord
except ModuleNotFoundError:  # installed from the wheel, which leaves the local Discord out
    discord = None

Event = ReferralEvent.EventType
DEVICES = [("mobile", 6), ("desktop", 3), ("tablet", 1)]
BROWSERS = {"mobile": ["Mobile Safari", "Chrome Mobile"], "desktop": ["Chrome", "Firefox", "Edge"]}
OSES = {
    "mobile": ["iOS", "Android"],
    "tablet": ["iPadOS", "Android"],
    "desktop": ["Windows", "Mac OS X", "Linux"],
}
REFERRERS = {
    "youtube": "https://www.youtube.com/",
    "x": "https://t.co/",
    "tiktok": "https://www.tiktok.com/",
    "twitch": "https://www.twitch.tv/",
    "newsletter": "",
    "reddit": "https://www.reddit.com/r/gaming/",
}
GAMES = ["Minecraft", "Fortnite", "Valorant", "Rocket League", "Stardew Valley"]
# How much traffic each demo link draws, relative to the others.
WEIGHT = {"youtube": 9, "tiktok": 7, "x": 4, "twitch": 4, "reddit": 3, "newsletter": 2}


# A visit's join, onboarding and conversion follow it by up to this much (see `member`).
JOURNEY = timedelta(minutes=7)


@contextmanager
def clock(moment: datetime):
    """Write rows as if it were `moment`, never later than now. auto_now_add always stamps the
    current time, and the demo needs history; moving the clock (rather than rewriting timestamps
    afterwards) keeps events append-only and puts their rollups on the right day."""
    moment = min(moment, timezone.now())  # an event in the future would be a lie on a chart
    with mock.patch("django.utils.timezone.now", return_value=moment):
        yield


# --days: 1 to 90 (the dashboards' longest default range).
days_back = int_between(1, 90, "a number of days")


class Command(BaseCommand):
    help = "Add a month of demo clicks, joins, onboarding and conversions (idempotent)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--days", type=days_back, default=30, help="How many days back (1–90).")

    def handle(self, *args, days: int, **options) -> None:
        require(discord, "demo_activity")
        campaign = Campaign.objects.filter(campaign_name=DEMO_CAMPAIGN).first()
        if campaign is None:
            raise CommandError("No demo campaign: run `manage.py demo_data` first.")
        links = list(campaign.links.select_related("influencer").order_by("created_at"))
        today = timezone.localdate()
        done = set(
            ReferralEvent.objects.filter(campaign=campaign, metadata__demo=True).dates(
                "created_at", "day"
            )
        )
        added = 0
        for offset in range(days - 1, -1, -1):
            day = today - timedelta(days=offset)
            if day in done:
                continue
            with transaction.atomic():
                added += self.day(campaign, links, day)
        rebuild_link_counters(campaign.links.all())
        self.stdout.write(f"Demo activity: {added} events added over the last {days} days.")

    def day(self, campaign: Campaign, links: list[ReferralLink], day) -> int:
        rng = random.Random(f"{campaign.pk}:{day.isoformat()}")
        written = 0
        start = timezone.make_aware(datetime.combine(day, time(8)))
        # Today's visits stop early enough for their whole journey to be in the past.
        latest = timezone.now() - timedelta(minutes=5) - JOURNEY
        # Later days draw more traffic: the campaign is catching on.
        trend = 1 + (30 - (timezone.localdate() - day).days) / 30
        for n, link in enumerate(links):
            visits = rng.randint(0, int(WEIGHT.get(link.platform, 3) * trend))
            for i in range(visits):
                moment = min(start + timedelta(minutes=rng.randint(0, 14 * 60)), latest)
                member = f"{1_400_000_000_000_000_000 + day.toordinal() * 10_000 + n * 1000 + i}"
                written += self.visit(rng, campaign, link, moment, member)
        # Joins our bot could not credit to one link: the attribution-quality chart needs them.
        for kind in ("organic", "ambiguous"):
            for i in range(rng.randint(0, 2)):
                moment = min(start + timedelta(hours=rng.randint(1, 12)), latest)
                member = f"{1_500_000_000_000_000_000 + day.toordinal() * 100 + i * 10 + len(kind)}"
                with clock(moment):
                    ReferralEvent.objects.create(
                        event_type=Event.DISCORD_JOIN,
                        campaign=campaign if kind == "ambiguous" else None,
                        discord_user_id=member,
                        metadata={"guild_id": discord.GUILD_ID, "decision": kind, "demo": True},
                    )
                written += 1
        return written

    def visit(self, rng, campaign, link, moment, member) -> int:
        device = rng.choices([d for d, _ in DEVICES], [w for _, w in DEVICES])[0]
        browser = rng.choice(BROWSERS.get(device, BROWSERS["mobile"]))
        utm = {"utm_source": link.platform, "utm_medium": "social"} if rng.random() < 0.6 else {}
        common = {"link": link, "campaign": campaign}
        with clock(moment):
            if rng.random() < 0.15:
                ReferralEvent.objects.create(
                    event_type=Event.PREVIEW,
                    user_agent="Discordbot/2.0",
                    device_type="bot",
                    metadata={"demo": True},
                    **common,
                )
                return 1
            visitor = f"demo-{member}"
            click = {
                "event_type": Event.CLICK,
                "device_type": device,
                "browser": browser,
                "os": rng.choice(OSES[device]),
                "referrer": REFERRERS.get(link.platform, "") if rng.random() < 0.8 else "",
                "visitor_id": visitor,
                "metadata": {"utm": utm, "demo": True} if utm else {"demo": True},
            }
            ReferralEvent.objects.create(is_unique=True, **click, **common)
            written = 1
            if rng.random() < 0.2:  # came back later the same day: recorded, not counted
                ReferralEvent.objects.create(is_unique=False, **click, **common)
                written += 1
            if rng.random() > 0.45:
                return written
        return written + self.member(rng, campaign, link, moment + timedelta(minutes=3), member)

    def member(self, rng, campaign, link, moment, member) -> int:
        decision = "exact" if rng.random() < 0.85 else "link"
        meta = {"guild_id": discord.GUILD_ID, "decision": decision, "demo": True}
        meta["referral_code"] = link.referral_code
        common = {"link": link, "campaign": campaign, "discord_user_id": member}
        with clock(moment):
            ReferralEvent.objects.create(event_type=Event.DISCORD_JOIN, metadata=meta, **common)
            session, _ = OnboardingSession.objects.get_or_create(
                campaign=campaign,
                discord_user_id=member,
                defaults={
                    "link": link,
                    "referral_code": link.referral_code,
                    "guild_id": discord.GUILD_ID,
                    "discord_username": f"player{member[-4:]}",
                },
            )
        if rng.random() < 0.3:
            return 1
        moment += timedelta(minutes=2)
        with clock(moment):
            ReferralEvent.objects.create(
                event_type=Event.ONBOARDING_START, metadata={"demo": True}, **common
            )
            OnboardingSession.objects.filter(pk=session.pk).update(
                status=OnboardingSession.Status.STARTED, started_at=moment
            )
            answers = {"favourite_game": rng.choice(GAMES)}
            if rng.random() < 0.5:
                answers["email"] = f"player{member[-4:]}@demo.test"
            if rng.random() < 0.75:
                answers["experience"] = rng.choice(
                    ["Under a year", "1-3 years", "More than 3 years"]
                )
            for key, value in answers.items():
                OnboardingResponse.objects.get_or_create(
                    campaign=campaign,
                    discord_user_id=member,
                    field_key=key,
                    defaults={"value": value, "link": link},
                )
        if "experience" not in answers:  # the required choice is missing: not finished
            return 2
        moment += timedelta(minutes=2)
        with clock(moment):
            Conversion.objects.get_or_create(
                campaign=campaign,
                discord_user_id=member,
                defaults={
                    "link": link,
                    "referral_code": link.referral_code,
                    "discord_username": session.discord_username,
                },
            )
            ReferralEvent.objects.create(
                event_type=Event.CONVERSION,
                dedupe_key=f"conversion:{campaign.pk}:{member}",
                metadata={"demo": True, "referral_code": link.referral_code},
                **common,
            )
            OnboardingSession.objects.filter(pk=session.pk).update(
                status=OnboardingSession.Status.COMPLETED, completed_at=moment
            )
        return 3
