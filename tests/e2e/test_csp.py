"""The Content-Security-Policy in Chromium: every persona's main pages work under it.

Each persona logs in and opens the pages of its work, and the maps, charts and forms on
them are used as a person would (a pin put on the map, a chart's tooltip, a heat map's
grid); the test fails on any console message in which Chromium reports something the policy
refused ("Refused to ...", "... Content Security Policy ..."). A second test serves map
tiles from another origin, as a deployment's tile server does: allowed when it is the
configured tile server, refused (and reported, so this test can see it) when the policy
does not name it.

The header's exact value is asserted in ``src/gongzhi/core/tests/test_csp.py``.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from gongzhi.cases.models import Case
from gongzhi.cases.policies import can_see_personal_data
from gongzhi.core.csp import tile_sources
from gongzhi.demo.history import import_history
from gongzhi.demo.testing import World
from gongzhi.evaluation import services as evaluation_services
from gongzhi.evaluation.models import Ranking
from gongzhi.evaluation.periods import add_months, month_of
from gongzhi.evaluation.tallies import rebuild_tallies
from tests.e2e.conftest import TIMEOUT_MS
from tests.e2e.test_browser_personas import log_in
from tests.e2e.test_case_loop import click_inside_grid_1, png
from tests.e2e.test_command_centre import require_echarts

pytestmark = pytest.mark.browser

REFUSALS = ("Content Security Policy", "Refused to")


def watch_refusals(page: Page) -> list[str]:
    """Every console message that reports something the policy refused, with its page."""
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if any(word in message.text for word in REFUSALS):
            refused.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    return refused


def open_page(page: Page, url: str) -> None:
    """Open a page that must answer 200 under the policy (never without one)."""
    response = page.goto(url)
    assert response is not None
    assert response.status == 200, url
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy.split("; "), url
    page.wait_for_load_state("load")


@pytest.fixture
def city_with_history(ensure_demo_city: None) -> tuple[World, Ranking]:
    """The small demo city with a few hundred historical cases, their tallies and a
    published ranking of its streets (red and black lists)."""
    require_echarts()
    world = World.load()
    import_history(400)
    rebuild_tallies()
    now = timezone.now()
    ranking = evaluation_services.publish_ranking(
        world.city,
        month=add_months(month_of(now), -1),
        subject="street",
        actor=world.persona("assessor"),
        now=now,
    )
    return world, ranking


def a_case_with_its_map(world: World, username: str) -> Case:
    """A case led by the persona's unit whose page shows the person's pin on a map."""
    unit = world.membership_of(username).unit
    person = world.persona(username)
    for case in Case.objects.filter(unit=unit, latitude__isnull=False).order_by("number"):
        if can_see_personal_data(person, case):
            return case
    raise AssertionError(f"no case with a point led by {unit}: the demo history changed")


def hover_chart(page: Page, chart_id: str) -> None:
    """Move over a chart as a person does: ECharts shows its tooltip."""
    canvas = page.locator(f"#{chart_id} canvas").first
    box = canvas.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.6)
    page.mouse.move(box["x"] + box["width"] * 0.55, box["y"] + box["height"] * 0.6)
    page.wait_for_timeout(300)  # the tooltip's show delay


def resident(page: Page, base: str) -> None:
    open_page(page, f"{base}/")
    open_page(page, f"{base}/cases/new/")
    click_inside_grid_1(page)  # the pin, and the question which grid it is in (fetch)
    expect(page.locator("#pin-map .leaflet-marker-icon")).to_have_count(1)
    expect(page.locator("#pin-place")).not_to_be_empty()
    open_page(page, f"{base}/cases/mine/")


def grid_worker(page: Page, base: str, world: World) -> None:
    open_page(page, f"{base}/")
    open_page(page, f"{base}/cases/")
    open_page(page, f"{base}/notices/")
    open_page(page, f"{base}/regions/{world.grid_1.pk}/")
    expect(page.locator("#region-map path.leaflet-interactive")).to_have_count(1)


def street_officer(page: Page, base: str, world: World) -> None:
    open_page(page, f"{base}/regions/")
    tree = page.get_by_test_id("region-tree")
    tree.locator("summary > span.muted").first.click()  # htmx fetches the communities
    expect(tree.locator("li.tree-node li.tree-node")).not_to_have_count(0)
    open_page(page, f"{base}/regions/{world.street_1.pk}/")
    expect(page.locator("#region-map path.leaflet-interactive")).to_have_count(1)


def handler(page: Page, base: str, world: World) -> None:
    open_page(page, f"{base}/")
    open_page(page, f"{base}/cases/")
    case = a_case_with_its_map(world, "handler")
    open_page(page, f"{base}/cases/{case.pk}/")
    expect(page.locator("#pin-map .leaflet-marker-icon")).to_have_count(1)


def dispatcher(page: Page, base: str) -> None:
    open_page(page, f"{base}/cases/")
    open_page(page, f"{base}/cases/map/")
    expect(page.locator("#case-map")).to_have_attribute("data-count", re.compile(r"^[1-9]"))
    expect(page.locator("#case-map path.case-marker").first).to_be_visible()


def district_leader(page: Page, base: str) -> None:
    open_page(page, f"{base}/command/")
    expect(page.locator("#heat-map path.leaflet-interactive")).to_have_count(8)
    for chart in ("trend-cases", "trend-rates", "area-scores"):
        expect(page.locator(f"#{chart}")).to_have_attribute("data-rendered", "true")
        hover_chart(page, chart)
    page.locator("#heat-map path.leaflet-interactive").first.hover()
    expect(page.locator(".leaflet-tooltip.grid-tip")).to_have_count(1)
    open_page(page, f"{base}/evaluation/")


def assessor(page: Page, base: str, ranking: Ranking) -> None:
    open_page(page, f"{base}/evaluation/rankings/{ranking.pk}/")
    expect(page.locator(".badge-black, .badge-red").first).to_be_visible()
    open_page(page, f"{base}/evaluation/systems/")


def city_admin(page: Page, base: str, world: World) -> None:
    open_page(page, f"{base}/accounts/api-keys/")
    open_page(page, f"{base}/admin/")
    open_page(page, f"{base}/admin/territory/region/")
    open_page(page, f"{base}/admin/territory/region/{world.street_1.pk}/change/")
    open_page(page, f"{base}/admin/accounts/apikey/")


def anyone(page: Page, base: str) -> None:
    open_page(page, f"{base}/accounts/login/")
    open_page(page, f"{base}/public/")
    expect(page.locator("#heat-map path.leaflet-interactive")).to_have_count(12)
    hover_chart(page, "trend-cases")
    open_page(page, f"{base}/api/v1/docs")
    expect(page.locator("#swagger-ui .opblock").first).to_be_visible()


@contextmanager
def persona_page(browser: Browser, base: str, username: str | None) -> Iterator[Page]:
    """A fresh browser context, logged in as the persona (anonymous for None)."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        if username is not None:
            log_in(page, base, username)
        yield page
    finally:
        context.close()


def test_every_persona_s_pages_keep_to_the_policy(
    live_server: Any,
    city_with_history: tuple[World, Ranking],
    browser: Browser,
) -> None:
    world, ranking = city_with_history
    base = live_server.url
    visits = {
        None: lambda page: anyone(page, base),
        "resident": lambda page: resident(page, base),
        "grid_worker": lambda page: grid_worker(page, base, world),
        "street_officer": lambda page: street_officer(page, base, world),
        "handler": lambda page: handler(page, base, world),
        "dispatcher": lambda page: dispatcher(page, base),
        "district_leader": lambda page: district_leader(page, base),
        "assessor": lambda page: assessor(page, base, ranking),
        "city_admin": lambda page: city_admin(page, base, world),
    }
    refused: list[str] = []
    errors: list[str] = []
    for username, visit in visits.items():
        with persona_page(browser, base, username) as page:
            refused_here = watch_refusals(page)
            page.on("pageerror", lambda exc, who=username: errors.append(f"{who}: {exc}"))
            visit(page)
            refused += [f"{username or 'anonymous'} at {line}" for line in refused_here]
    assert refused == []
    assert errors == []


class TileServer(BaseHTTPRequestHandler):
    """Answers every path with a small PNG, as a tile server does."""

    tile = png(256, 256)

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(self.tile)))
        self.end_headers()
        self.wfile.write(self.tile)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


@pytest.fixture
def tile_server() -> Iterator[str]:
    """A tile server on another origin (another port): Leaflet's URL template for it."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), TileServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/{{z}}/{{x}}/{{y}}.png"
    finally:
        server.shutdown()
        server.server_close()


def with_img_sources(policy: dict[str, Any], sources: list[str]) -> dict[str, Any]:
    directives = dict(policy["DIRECTIVES"])
    directives["img-src"] = ["'self'", "data:", *sources]
    return {**policy, "DIRECTIVES": directives}


@pytest.mark.parametrize("allowed", [True, False], ids=["configured", "not-in-the-policy"])
def test_map_tiles_load_from_the_configured_tile_server_only(
    live_server: Any,
    ensure_demo_city: None,
    tile_server: str,
    settings: Any,
    page: Page,
    allowed: bool,
) -> None:
    settings.GONGZHI_MAP_TILES_URL = tile_server
    settings.CONTENT_SECURITY_POLICY = with_img_sources(
        settings.CONTENT_SECURITY_POLICY, tile_sources(tile_server) if allowed else []
    )
    base = live_server.url
    refused = watch_refusals(page)
    log_in(page, base, "street_officer")
    open_page(page, f"{base}/regions/{World.load().street_1.pk}/")
    expect(page.locator("#region-map path.leaflet-interactive")).to_have_count(1)
    tiles = page.locator("#region-map img.leaflet-tile")
    expect(tiles.first).to_be_attached()
    if allowed:
        expect(page.locator("#region-map img.leaflet-tile-loaded").first).to_be_attached()
        assert refused == []
    else:
        expect(page.locator("#region-map img.leaflet-tile-loaded")).to_have_count(0)
        page.wait_for_timeout(500)  # the refusals reach the console
        assert refused != []
        origin = tile_server.split("/{z}")[0]
        assert all(f"'{origin}/" in r and "\"img-src 'self' data:\"" in r for r in refused)
