"""Two personas log in through the real login form and see only what is theirs.

Asserts on stable things: the demo city's names and codes, ``data-testid`` attributes and
English text only where English is the active language (the Chinese catalogue is still
being written, so Chinese UI strings are not asserted here). Full-page screenshots go to
``test-artifacts/`` for a person to look at.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from gongzhi.accounts.models import User
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import CITY, COMMUNITY_1, STREET_1
from gongzhi.territory.models import Region, Unit

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]


def log_in(page: Page, base_url: str, username: str) -> None:
    page.goto(f"{base_url}/accounts/login/")
    form = page.locator("form.stack")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    form.locator("button[type=submit]").click()
    page.wait_for_url(f"{base_url}/")
    display_name = User.objects.get(username=username).display_name
    expect(page.get_by_test_id("whoami")).to_have_text(display_name)


def top_nodes(tree: Locator) -> Locator:
    return tree.locator(":scope > li.tree-node")


def child_nodes(node: Locator) -> Locator:
    return node.locator(":scope > details > ul.tree > li.tree-node")


def node_names(nodes: Locator) -> Locator:
    """The name link of each node, whether it can be opened (details) or is a leaf."""
    return nodes.locator(":scope > details > summary > a, :scope > span.leaf > a")


def open_node(node: Locator) -> None:
    """Open a node as a person does: click its summary (beside the link, not on it)."""
    node.locator(":scope > details > summary > span.muted").click()
    expect(node.locator(":scope > details")).to_have_attribute("open", "")


def test_street_officer_sees_only_its_street(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    log_in(page, base, "street_officer")
    # Home, regions, units and the unit's rectifications; no command centre, no back office.
    expect(page.locator("nav.mainnav a")).to_have_count(4)
    expect(page.get_by_test_id("rectifications-link")).to_be_visible()

    page.goto(f"{base}/regions/")
    tree = page.get_by_test_id("region-tree")
    street = top_nodes(tree)
    expect(node_names(street)).to_have_text(["春山街道"])
    expect(street.locator(":scope > details > summary")).to_contain_text(STREET_1)

    open_node(street)  # htmx fetches the communities
    communities = child_nodes(street)
    expect(node_names(communities)).to_have_text(["华东湾社区", "胜海湾社区"])
    open_node(communities.first)  # and then the grids of the first community
    expect(node_names(child_nodes(communities.first))).to_have_text(
        ["华东湾社区第一网格", "华东湾社区第二网格"]
    )
    expect(child_nodes(communities.first).first).to_contain_text(f"{COMMUNITY_1}001")
    for outside in ("示范市", "明湖区", "柳秀街道", "东岳区"):
        expect(tree).not_to_contain_text(outside)
    screenshot(page, "street_officer-regions")

    city_id = Region.objects.get(code=CITY).pk
    response = page.goto(f"{base}/regions/{city_id}/")
    assert response is not None
    assert response.status == 404
    expect(page.locator(".error-card code")).to_have_text("not_found")
    expect(page.locator("body")).not_to_contain_text("示范市")  # not even its name leaks
    screenshot(page, "street_officer-city-not-found")

    # The htmx endpoint for the city's children is closed too.
    children = page.request.get(f"{base}/regions/{city_id}/children/")
    assert children.status == 404
    assert "明湖区" not in children.text()

    # The audit log is for auditors and administrators only.
    response = page.goto(f"{base}/accounts/audit/")
    assert response is not None
    assert response.status == 403
    expect(page.locator(".error-card code")).to_have_text("permission_denied")
    assert page_problems == []


def test_street_officer_street_page_draws_its_map(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    log_in(page, base, "street_officer")
    street_id = Region.objects.get(code=STREET_1).pk
    page.goto(f"{base}/regions/{street_id}/")
    expect(page.get_by_test_id("region-name")).to_contain_text("春山街道")
    expect(page.get_by_test_id("child-regions").locator("tbody tr td:first-child")).to_have_text(
        ["华东湾社区", "胜海湾社区"]
    )
    # The breadcrumbs show no ancestor above the officer's own street.
    expect(page.locator("nav.breadcrumbs")).not_to_contain_text("明湖区")
    page.wait_for_load_state("load")
    screenshot(page, "street_officer-street")
    assert page_problems == []
    # Leaflet draws the street's boundary as one polygon.
    expect(page.locator("#region-map.leaflet-container path.leaflet-interactive")).to_have_count(1)


def test_city_admin_sees_the_city_audit_log_and_grants_roles(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    log_in(page, base, "city_admin")
    expect(page.locator("section.tiles a.tile strong").first).to_have_text("示范市")
    expect(page.locator("section.tiles a.tile[href='/accounts/audit/']")).to_have_count(1)
    screenshot(page, "city_admin-home")

    page.goto(f"{base}/regions/")
    tree = page.get_by_test_id("region-tree")
    city = top_nodes(tree)
    expect(node_names(city)).to_have_text(["示范市"])
    open_node(city)
    expect(node_names(child_nodes(city))).to_have_text(["明湖区", "东岳区"])
    screenshot(page, "city_admin-regions")

    page.goto(f"{base}/accounts/audit/")
    rows = page.get_by_test_id("audit-log").locator("tbody tr")
    expect(rows.first.locator("td")).to_have_count(7)  # a real event, not "nothing recorded"
    expect(rows).to_have_count(50)  # the demo writes more than one page of events
    expect(page.get_by_test_id("audit-log").locator("tbody")).to_contain_text("授予角色")
    expect(page.locator("nav.pager")).to_be_visible()
    screenshot(page, "city_admin-audit")

    centre = Unit.objects.get(kind="command_centre", region__code=CITY)
    page.goto(f"{base}/units/{centre.pk}/")
    expect(page.get_by_test_id("unit-name")).to_contain_text(
        "示范市社会治理综合指挥中心（12345热线）"
    )
    members = page.get_by_test_id("unit-members").locator("tbody tr td:first-child")
    # Ordered by region, then role (administrator, assessor, dispatcher).
    expect(members).to_have_text(["吴磊", "冯涛", "陈思远"])
    grant = page.get_by_test_id("grant-form")
    expect(grant).to_be_visible()
    for field in ("username", "role", "region_code", "title"):
        expect(grant.locator(f"[name={field}]")).to_be_visible()
    screenshot(page, "city_admin-unit")

    # The language switch: one click on English and the same page comes back in English.
    english = page.locator("form.langswitch button[value=en]")
    chinese = page.locator("form.langswitch button[value=zh-hans]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(chinese).to_be_disabled()
    english.click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page).to_have_url(f"{base}/units/{centre.pk}/")
    expect(english).to_be_disabled()
    expect(english).to_have_attribute("aria-current", "true")
    expect(chinese).to_be_enabled()
    expect(page.locator("nav.mainnav")).to_have_text(
        re.compile(r"Home\s+Regions\s+Units\s+Command centre\s+Evaluation\s+Back office")
    )
    expect(page.get_by_role("heading", name="Staff and roles")).to_be_visible()
    expect(page.get_by_role("heading", name="Grant a role")).to_be_visible()
    expect(grant.get_by_role("button", name="Grant")).to_be_visible()
    expect(page.get_by_test_id("unit-name")).to_contain_text(
        "示范市社会治理综合指挥中心（12345热线）"
    )
    screenshot(page, "city_admin-unit-en")
    assert page_problems == []


def test_language_buttons_name_each_language_in_itself(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    """Each button names its language in that language, so its readers can find it."""
    page.goto(f"{live_server.url}/accounts/login/")
    buttons = page.locator("form.langswitch button[name=language]")
    expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
    expect(buttons).to_have_text(["简体中文", "English"])
    page.get_by_role("button", name="English", exact=True).click()
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(buttons).to_have_text(["简体中文", "English"])
    expect(page.locator("form.stack button[type=submit]")).to_have_text("Log in")
    screenshot(page, "anonymous-login-en")
    assert page_problems == []
