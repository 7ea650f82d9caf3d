"""One case through the whole request loop in Chromium, each step by the persona whose work
it is, through the real pages: the resident raises it with a map pin and a photo, the
dispatcher registers and dispatches it, the street officer signs for it and replies, the
grid worker verifies, the dispatcher closes it, and the resident rates it.

The browser runs in Chinese (the default); selectors use ``data-testid`` and form field
names, never UI text. A full-page screenshot of every step goes to ``test-artifacts/``.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import FilePayload, Page, expect

from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.demo.testing import GRID_1
from gongzhi.territory.models import Region
from tests.e2e.test_browser_personas import log_in

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
STREET_OFFICE = "春山街道办事处"
URBAN_BUREAU = "明湖区城市管理和综合执法局"


def png(width: int = 96, height: int = 64) -> bytes:
    """A real (tiny, green) PNG, so the case page has a photo to show."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    rows = b"".join(b"\x00" + b"\x2e\x8b\x57" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def log_out(page: Page, base: str) -> None:
    page.locator("form[action='/accounts/logout/'] button").click()
    page.wait_for_url(f"{base}/accounts/login/")


def as_persona(page: Page, base: str, username: str) -> None:
    if page.get_by_test_id("whoami").count():
        log_out(page, base)
    log_in(page, base, username)


def click_inside_grid_1(page: Page) -> None:
    """Click the map where grid 1's centre is: the city's outline gives the pixel scale."""
    city = Region.objects.get(parent__isnull=True)
    grid = Region.objects.get(code=GRID_1)
    assert city.boundary is not None
    ring = city.boundary["coordinates"][0]
    west, east = min(p[0] for p in ring), max(p[0] for p in ring)
    south, north = min(p[1] for p in ring), max(p[1] for p in ring)
    outline = page.locator("#pin-map path.city-outline")
    expect(outline).to_have_count(1)
    box = outline.bounding_box()
    assert box is not None
    x = box["x"] + (grid.centre_lng - west) / (east - west) * box["width"]
    y = box["y"] + (north - grid.centre_lat) / (north - south) * box["height"]
    page.mouse.click(x, y)


def open_from_queue(page: Page, base: str, queue: str, number: str) -> None:
    page.goto(f"{base}/cases/?queue={queue}")
    row = page.get_by_test_id("queue-table").locator("tbody tr", has_text=number)
    expect(row).to_have_count(1)
    row.locator("a").first.click()
    expect(page.get_by_test_id("case-title")).to_contain_text(number)


def do(page: Page, action: str) -> None:
    """Press the action's button and wait for the case page to come back."""
    form = page.get_by_test_id(f"action-{action}")
    with page.expect_navigation():
        form.locator("button[type=submit]").first.click()


def test_one_case_through_the_whole_loop(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
    settings: Any,
    tmp_path: Path,
) -> None:
    settings.MEDIA_ROOT = tmp_path
    base = live_server.url

    # 1. The resident raises the matter: text, a pin on the map, a photo.
    log_in(page, base, "resident")
    page.locator("nav.worknav a[href='/cases/new/']").click()
    page.wait_for_url(f"{base}/cases/new/")
    form = page.get_by_test_id("submit-form")
    form.locator("[name=title]").fill("小区门口垃圾堆放多日无人清运")
    form.locator("[name=description]").fill(
        "华东湾社区北门的垃圾已经堆了三天，气味很大，请尽快处理。"
    )
    form.locator("[name=kind]").select_option("complaint")
    form.locator("[name=address]").fill("华东湾社区北门")
    form.locator("[name=phone]").fill("13800138000")
    photo: FilePayload = {"name": "垃圾.png", "mimeType": "image/png", "buffer": png()}
    form.locator("[name=photos]").set_input_files([photo])
    page.wait_for_load_state("load")
    click_inside_grid_1(page)
    expect(page.locator("#pin-map .leaflet-marker-icon")).to_have_count(1)
    expect(form.locator("[name=latitude]")).not_to_have_value("")
    # The server names the grid the pin fell in, before anything is submitted.
    expect(page.get_by_test_id("pin-place")).to_have_text(
        "明湖区 › 春山街道 › 华东湾社区 › 华东湾社区第一网格"
    )
    screenshot(page, "case-loop-1-resident-raises")
    with page.expect_navigation():
        page.get_by_test_id("submit-case").click()
    expect(page.get_by_test_id("receipt")).to_be_visible()
    case = Case.objects.get()
    assert (case.region.code, case.channel, case.reporter_name) == (GRID_1, "web", "林小雨")
    assert case.attachments.count() == 1
    expect(page.get_by_test_id("tracking-code")).to_have_text(case.tracking_code)
    expect(page.get_by_test_id("case-number")).to_have_text(case.number)
    screenshot(page, "case-loop-2-tracking-code")

    # 2. The dispatcher registers it in the right category and dispatches it as proposed.
    as_persona(page, base, "dispatcher")
    page.goto(f"{base}/cases/")
    expect(page.locator(".tabs a.current")).to_have_attribute("data-queue", "to_dispatch")
    screenshot(page, "case-loop-3-dispatcher-queues")
    open_from_queue(page, base, "to_dispatch", case.number)
    expect(page.get_by_test_id("case-person")).to_contain_text("13800138000")
    expect(page.get_by_test_id("case-photos").locator("img")).to_have_count(1)
    register = page.get_by_test_id("action-register")
    register.locator("[name=category]").select_option(str(Category.objects.get(path=GREENING).pk))
    screenshot(page, "case-loop-4-dispatcher-registers")
    do(page, "register")
    dispatch = page.get_by_test_id("action-dispatch")
    selected = dispatch.locator("[name=unit] option:checked")
    expect(selected).to_have_text(STREET_OFFICE)
    # Another unit than the proposed one, without a reason: refused, with the choice kept.
    dispatch.locator("[name=unit]").select_option(label=URBAN_BUREAU)
    do(page, "dispatch")
    dispatch = page.get_by_test_id("action-dispatch")
    expect(dispatch.locator(".form-error")).to_be_visible()
    expect(dispatch.locator("[name=unit] option:checked")).to_have_text(URBAN_BUREAU)
    screenshot(page, "case-loop-5a-override-needs-a-reason")
    case.refresh_from_db()
    assert case.state == "registered"
    dispatch.locator("[name=unit]").select_option(label=STREET_OFFICE)
    do(page, "dispatch")
    expect(page.get_by_test_id("case-unit")).to_have_text(STREET_OFFICE)
    screenshot(page, "case-loop-5-dispatched")

    # 3. The street officer signs for it and replies.
    as_persona(page, base, "street_officer")
    open_from_queue(page, base, "to_sign", case.number)
    do(page, "sign_for")
    page.get_by_test_id("action-reply").locator("[name=reply]").fill(
        "已联系环卫所，当天下午清运完毕，并增加巡查频次。"
    )
    screenshot(page, "case-loop-6-officer-replies")
    do(page, "reply")
    expect(page.get_by_test_id("case-reply")).to_have_text(
        "已联系环卫所，当天下午清运完毕，并增加巡查频次。"
    )

    # 4. The grid worker checks on the spot.
    as_persona(page, base, "grid_worker")
    open_from_queue(page, base, "to_verify", case.number)
    page.get_by_test_id("action-verify").locator("[name=note]").fill("现场已清理干净")
    do(page, "verify")
    screenshot(page, "case-loop-7-grid-worker-verified")

    # 5. The dispatcher closes it.
    as_persona(page, base, "dispatcher")
    open_from_queue(page, base, "to_close", case.number)
    do(page, "close")
    screenshot(page, "case-loop-8-closed")
    page.goto(f"{base}/cases/map/")
    marker = page.locator("#case-map path.case-marker")
    expect(marker).to_have_count(1)
    marker.click()
    popup = page.locator("#case-map .leaflet-popup-content")
    expect(popup.locator("a")).to_have_text(case.number)
    expect(popup).not_to_contain_text("13800138000")
    expect(page.locator("#case-map .leaflet-popup")).to_have_css("opacity", "1")  # faded in
    page.wait_for_timeout(300)  # and the map has panned to show it whole
    screenshot(page, "case-loop-9-map")

    # The district leader follows the case too, without the person's name or phone.
    as_persona(page, base, "district_leader")
    page.goto(f"{base}/cases/{case.pk}/")
    expect(page.get_by_test_id("case-person")).to_contain_text("林**")
    expect(page.locator("main")).not_to_contain_text("13800138000")
    expect(page.locator("main")).not_to_contain_text("林小雨")
    screenshot(page, "case-loop-9a-leader-sees-it-masked")

    # 6. The resident finds it in "my cases" and rates it.
    as_persona(page, base, "resident")
    page.goto(f"{base}/cases/mine/")
    screenshot(page, "case-loop-10-my-cases")
    page.get_by_test_id("my-cases").locator(f"a[href='/cases/{case.pk}/#action-follow_up']").click()
    rate = page.get_by_test_id("action-follow_up")
    rate.locator("input[name=resolution][value=resolved]").check()
    rate.locator("input[name=satisfaction][value=satisfied]").check()
    screenshot(page, "case-loop-11-resident-rates")
    do(page, "follow_up")
    expect(page.get_by_test_id("case-rating")).to_be_visible()
    expect(page.get_by_test_id("no-actions")).to_be_visible()
    screenshot(page, "case-loop-12-rated")

    case.refresh_from_db()
    assert (case.state, case.unit.name, case.resolution, case.satisfaction) == (
        "closed",
        STREET_OFFICE,
        "resolved",
        "satisfied",
    )
    assert list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True)
    ) == [
        "submit",
        "attach",
        "register",
        "dispatch",
        "sign_for",
        "reply",
        "verify",
        "close",
        "follow_up",
    ]
    expect(page.get_by_test_id("timeline").locator("tbody tr")).to_have_count(9)
    assert page_problems == []
