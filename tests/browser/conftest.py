"""Browser tests: Debian's headless Chromium driven by Playwright's sync API.

Everything here is skipped, with the reason, when the `playwright` package or /usr/bin/chromium
is missing. Playwright's own browser downloads are never used (`playwright install` is not
needed). Pages may reach only loopback addresses; any other request is aborted.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest

try:
    from playwright.sync_api import sync_playwright
except ImportError:  # pragma: no cover - depends on the machine
    sync_playwright = None

if TYPE_CHECKING:
    from playwright.sync_api import Browser, Page, Route

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
INSTALL_HINT = "install with: apt-get install -y chromium && pip install playwright"
HERE = Path(__file__).resolve().parent
SCREENSHOTS = HERE.parent.parent / "test-artifacts" / "screenshots"
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def _missing() -> str | None:
    if sync_playwright is None:
        return f"the playwright Python package is not installed ({INSTALL_HINT})"
    if not CHROMIUM.is_file():
        return f"{CHROMIUM} is absent ({INSTALL_HINT})"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip every test in this directory, before any database set-up, when we cannot run them."""
    reason = _missing()
    if reason is None:
        return
    skip = pytest.mark.skip(reason=f"browser tests: {reason}")
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(skip)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """One Chromium per test module.

    While Playwright's sync API is active an asyncio loop runs in this thread, so Django's
    async-safety check would refuse ORM calls made by fixtures and tests (pytest-django documents
    DJANGO_ALLOW_ASYNC_UNSAFE for this). The variable is set only while the browser is up, so
    the rest of the suite keeps the check.
    """
    with pytest.MonkeyPatch.context() as mp, sync_playwright() as playwright:
        mp.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


def _loopback_only(route: Route) -> None:
    host = urlsplit(route.request.url).hostname or ""
    if route.request.url.startswith(("data:", "blob:")) or host in LOOPBACK_HOSTS:
        route.continue_()
    else:
        route.abort("blockedbyclient")


@pytest.fixture
def new_page(browser: Browser) -> Iterator[Callable[[dict[str, int]], Page]]:
    """`new_page(PHONE)`: a fresh browser context (own cookies) at that viewport."""
    contexts = []

    def make(viewport: dict[str, int]) -> Page:
        context = browser.new_context(viewport=viewport, locale="en-US")
        context.set_default_timeout(10_000)
        context.route("**/*", _loopback_only)
        contexts.append(context)
        return context.new_page()

    yield make
    for context in contexts:
        context.close()


@pytest.fixture
def screenshot(request: pytest.FixtureRequest) -> Callable[[Page, str], Path]:
    """`screenshot(page, "landing")` saves test-artifacts/screenshots/landing[-<param id>].png."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    callspec = getattr(request.node, "callspec", None)
    suffix = f"-{callspec.id}" if callspec else ""

    def save(page: Page, label: str) -> Path:
        name = re.sub(r"[^A-Za-z0-9_.-]+", "-", f"{label}{suffix}")
        path = SCREENSHOTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return save
