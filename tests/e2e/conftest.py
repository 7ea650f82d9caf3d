"""Browser fixtures: Debian's Chromium driven by Playwright's sync API.

Playwright's own browser download does not work on our machines, so the tests launch the
system Chromium at ``/usr/bin/chromium``. Without it the browser tests are skipped, except
on CI (``CI`` set), where a missing browser is a broken machine and fails the run.

While Playwright runs, its event loop is the running loop of the main thread, so Django's
ORM refuses to run there (``SynchronousOnlyOperation``): the test itself, ``ensure_demo_city``
and pytest-django's flush after each transactional test all touch the database from that
thread. ``DJANGO_ALLOW_ASYNC_UNSAFE`` is therefore set for exactly as long as Playwright is
started, and restored afterwards, so the rest of the suite keeps Django's check.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Response, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
TIMEOUT_MS = 10_000


def _require_chromium() -> None:
    if CHROMIUM.exists():
        return
    reason = (
        f"{CHROMIUM} is missing: browser tests need Debian's Chromium "
        "(apt-get install chromium); Playwright's own browser download is not used."
    )
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    _require_chromium()
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield chromium
            chromium.close()


@pytest.fixture
def page_problems() -> list[str]:
    """What a person would notice as a broken page, filled in while ``page`` is used.

    Uncaught JavaScript errors and failed sub-resources (scripts, styles, htmx fragments);
    tests end with ``assert page_problems == []``.
    """
    return []


@pytest.fixture
def page(browser: Browser, page_problems: list[str]) -> Iterator[Page]:
    """A fresh page in its own context: no cookies are shared between tests."""
    context: BrowserContext = browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="zh-CN"
    )
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()

    def on_response(response: Response) -> None:
        kind = response.request.resource_type
        if response.status >= 400 and kind != "document":
            page_problems.append(f"{response.status} for {kind} {response.url}")

    page.on("pageerror", lambda exc: page_problems.append(f"JavaScript error: {exc}"))
    page.on("response", on_response)
    yield page
    context.close()


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    """Save a full-page screenshot as ``test-artifacts/<name>.png`` at the repository root."""
    ARTIFACTS.mkdir(exist_ok=True)

    def take(page: Page, name: str) -> Path:
        path = ARTIFACTS / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take
