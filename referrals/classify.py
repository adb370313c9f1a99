"""Click classification: is this visit a person (a click) or a bot (a preview)?

Pure functions over the request's method and User-Agent; the libraries do the recognising
(crawlerdetect's maintained crawler list, ua-parser's maintained regexes) and this module only
maps their answers onto our vocabulary.
"""

from dataclasses import dataclass
from functools import lru_cache

from crawlerdetect import CrawlerDetect
from ua_parser import parse

CLICK = "click"
PREVIEW = "preview"
MAX_USER_AGENT = 512

_crawlers = CrawlerDetect()


@dataclass(frozen=True)
class Visit:
    kind: str  # CLICK or PREVIEW
    device_type: str  # mobile, tablet, desktop, bot or other
    browser: str
    os: str


def classify_visit(method: str, user_agent: str | None) -> Visit:
    """Decide how one landing-page request is counted.

    1. HEAD requests are what link unfurlers send first: a preview, whatever the agent says.
    2. No User-Agent at all, or one the crawler list knows (Discordbot, Twitterbot,
       facebookexternalhit, Slackbot, TelegramBot, WhatsApp, LinkedInBot, Googlebot, curl…):
       a preview.
    3. Everything else is a person's click; device, browser and OS come from ua-parser.
    """
    agent = (user_agent or "").strip()[:MAX_USER_AGENT]
    return _classify(method.upper() == "HEAD", agent)


@lru_cache(maxsize=4096)
def _classify(is_head: bool, agent: str) -> Visit:
    if not agent or _crawlers.isCrawler(agent):
        return Visit(PREVIEW, "bot", _family(agent), "")
    browser, os_name, device_type = _describe(agent)
    if device_type == "bot":
        return Visit(PREVIEW, "bot", browser, os_name)
    return Visit(PREVIEW if is_head else CLICK, device_type, browser, os_name)


def _family(agent: str) -> str:
    if not agent:
        return ""
    return parse(agent).with_defaults().user_agent.family[:50]


def _describe(agent: str) -> tuple[str, str, str]:
    result = parse(agent).with_defaults()
    browser = result.user_agent.family
    os_name = result.os.family
    device = result.device.family
    if device == "Spider":
        kind = "bot"
    elif device == "iPad" or "tablet" in agent.lower():
        kind = "tablet"
    elif os_name == "Android" and "mobile" not in agent.lower():  # Android tablets omit it
        kind = "tablet"  # noqa: SIM114 - two different reasons, kept apart
    elif os_name in {"iOS", "Android"} or "mobile" in agent.lower():
        kind = "mobile"
    elif os_name in {"Windows", "Mac OS X", "Linux", "Ubuntu", "Chrome OS", "Fedora"}:
        kind = "desktop"
    else:
        kind = "other"
    return browser[:50], os_name[:50], kind
