"""The command centre and the public page in Chromium, on the small demo city with a few
hundred historical cases over the last year, their tallies and a published ranking.

The district leader logs in, opens the command centre from the header and sees 明湖区: the
grid map and the ECharts charts are drawn (canvas elements) without a console error.
Then an anonymous visitor opens the public page. Screenshots: ``command-centre.png`` and
``public-page.png`` in ``test-artifacts/``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import ConsoleMessage, Page, expect

from gongzhi.dashboards.views import echarts_url
from gongzhi.demo.history import import_history
from gongzhi.demo.testing import World
from gongzhi.evaluation import services as evaluation_services
from gongzhi.evaluation.periods import add_months, month_of
from gongzhi.evaluation.tallies import rebuild_tallies
from tests.e2e.test_browser_personas import log_in

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]


def require_echarts() -> None:
    """ECharts comes from npm (`make assets`); without it the pages show tables only, which
    is not what these tests look at. Skipped locally, a failure on CI."""
    if echarts_url() is not None:
        return
    reason = "ECharts is not installed: run `make assets` (npm ci)."
    if os.environ.get("CI"):
        pytest.fail(f"CI is set but {reason}", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def city_with_history(ensure_demo_city: None) -> World:
    require_echarts()
    world = World.load()
    import_history(400)
    rebuild_tallies()
    now = timezone.now()
    evaluation_services.publish_ranking(
        world.city,
        month=add_months(month_of(now), -1),
        subject="street",
        actor=world.persona("assessor"),
        now=now,
    )
    return world


def console_errors(page: Page) -> list[str]:
    """Errors the page writes to the console (the browser's own favicon request aside: the
    site has none, and failed sub-resources are in ``page_problems`` anyway)."""
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error" and not message.location["url"].endswith("/favicon.ico"):
            errors.append(f"{message.text} ({message.location['url']})")

    page.on("console", on_console)
    return errors


def test_the_district_leader_opens_the_command_centre(
    live_server: Any,
    city_with_history: World,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    errors = console_errors(page)
    log_in(page, base, "district_leader")
    page.get_by_test_id("command-centre-link").click()
    page.wait_for_url(f"{base}/command/")
    expect(page.get_by_test_id("region-name")).to_have_text(city_with_history.district_1.name)
    # The map: one outline per grid of the district, filled by the number of cases.
    expect(page.locator("#heat-map path.leaflet-interactive")).to_have_count(8)
    # The charts: ECharts draws on canvas; once drawn, their tables fold away.
    for chart in ("trend-cases", "trend-rates", "area-scores"):
        expect(page.locator(f"#{chart} canvas")).not_to_have_count(0)
        expect(page.locator(f"#{chart}")).to_have_attribute("data-rendered", "true")
    expect(page.get_by_test_id("trend-table")).not_to_be_visible()
    expect(page.get_by_test_id("overdue-list")).to_be_visible()
    expect(
        page.get_by_test_id("rankings-panel").locator("table.red-list tbody tr")
    ).not_to_have_count(0)
    page.wait_for_timeout(600)  # let the charts' entry animation finish for the screenshot
    screenshot(page, "command-centre")
    assert errors == []
    assert page_problems == []


def test_anyone_opens_the_public_page(
    live_server: Any,
    city_with_history: World,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    errors = console_errors(page)
    page.goto(f"{base}/accounts/login/")
    page.get_by_test_id("public-link").locator("a").click()
    page.wait_for_url(f"{base}/public/")
    expect(page.locator("h1")).to_contain_text(city_with_history.city.name)
    expect(page.locator("#heat-map path.leaflet-interactive")).to_have_count(12)
    for chart in ("trend-cases", "trend-rates", "area-scores"):
        expect(page.locator(f"#{chart} canvas")).not_to_have_count(0)
    expect(page.get_by_test_id("whoami")).to_have_count(0)
    page.wait_for_timeout(600)
    screenshot(page, "public-page")
    assert errors == []
    assert page_problems == []
