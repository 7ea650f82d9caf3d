"""An assessor sets up an indicator system on the web pages, in Chromium.

The indicator form shows only the fields that apply to what is chosen (a group has no rule;
a linear rule has a floor and a target; thresholds have steps), and what it hides is not
sent. Removing asks first. Screenshots go to ``test-artifacts/``.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Locator, Page, expect

from gongzhi.evaluation.models import Indicator, IndicatorSystem
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region
from tests.e2e.test_browser_personas import log_in

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]
RULE_FIELDS = ("parent", "figure", "higher_is_better", "rule_kind")
LINEAR = ("floor", "target")
OTHERS = ("steps", "per_event")


def shown(form: Locator, names: tuple[str, ...]) -> list[str]:
    """Which of the named fields a person sees."""
    return [name for name in names if form.locator(f"[name={name}]").is_visible()]


def save(page: Page, form: Locator) -> None:
    with page.expect_navigation():
        form.locator("button[type=submit]").click()


def test_an_indicator_system_is_set_up_on_the_pages(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    log_in(page, base, "city_admin")
    page.goto(f"{base}/evaluation/systems/")
    page.get_by_test_id("new-system").click()
    form = page.locator("main form.stack")
    form.locator("[name=name]").fill("2027年度街道考评")
    form.locator("[name=first_month]").fill("2027-01")
    form.locator("[name=last_month]").fill("2027-12")
    form.locator("[name=subject_level]").select_option(str(RegionLevel.DISTRICT.value))
    save(page, form)
    system = IndicatorSystem.objects.get(name="2027年度街道考评")
    assert page.url == f"{base}/evaluation/systems/{system.pk}/"
    # A draft counts the subjects it would start with: the districts of the city.
    districts = Region.objects.filter(
        level=RegionLevel.DISTRICT, path__startswith=system.region.path
    )
    expect(page.get_by_test_id("subjects")).to_have_text(f"行政区域 · {districts.count()} 个对象")
    assert districts.count() == 2

    # A group: code, name, points and criteria; no rule, no direction, no group of its own.
    page.get_by_test_id("new-indicator").click()
    form = page.get_by_test_id("indicator-form")
    form.locator("[name=source]").select_option("group")
    assert shown(form, RULE_FIELDS + LINEAR + OTHERS) == []
    screenshot(page, "indicator-form-group")
    form.locator("[name=code]").fill("1")
    form.locator("[name=name]").fill("诉求办理")
    form.locator("[name=weight]").fill("60")
    save(page, form)

    # A computed indicator with a linear rule: the rule's fields appear as they are chosen.
    page.get_by_test_id("new-indicator").click()
    form = page.get_by_test_id("indicator-form")
    form.locator("[name=source]").select_option("computed")
    assert shown(form, RULE_FIELDS + LINEAR + OTHERS) == list(RULE_FIELDS)
    form.locator("[name=rule_kind]").select_option("thresholds")
    assert shown(form, LINEAR + OTHERS) == ["steps"]
    form.locator("[name=steps]").fill("0.9 60")  # chosen, then left: not sent
    form.locator("[name=rule_kind]").select_option("linear")
    assert shown(form, LINEAR + OTHERS) == list(LINEAR)
    form.locator("[name=parent]").select_option(label="1 诉求办理")
    form.locator("[name=code]").fill("1.1")
    form.locator("[name=name]").fill("按时办结率")
    form.locator("[name=weight]").fill("60")
    form.locator("[name=figure]").select_option("on_time_closure_rate")
    form.locator("[name=floor]").fill("0.6")
    form.locator("[name=target]").fill("0.95")
    screenshot(page, "indicator-form-linear")
    save(page, form)

    rows = page.get_by_test_id("indicators").locator("tbody tr")
    expect(rows).to_have_count(2)
    stored = {
        i.code: (i.source, i.parent.code if i.parent else None, i.weight, i.figure, i.rule)
        for i in Indicator.objects.filter(system=system).select_related("parent")
    }
    assert stored == {
        "1": ("group", None, 60, "", {}),
        "1.1": (
            "computed",
            "1",
            60,
            "on_time_closure_rate",
            {"kind": "linear", "floor": "0.6", "target": "0.95"},
        ),
    }

    # Editing shows the stored choice's fields; removing asks first.
    rows.nth(1).get_by_role("link").click()
    form = page.get_by_test_id("indicator-form")
    assert shown(form, LINEAR + OTHERS) == list(LINEAR)
    expect(form.locator("[name=floor]")).to_have_value("0.6")
    page.go_back()
    questions: list[str] = []

    def answer(dialog: Any) -> None:
        questions.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", answer)
    rows.nth(1).get_by_role("button").click()
    assert questions == ["删除指标 1.1 按时办结率？"]
    assert Indicator.objects.filter(system=system).count() == 2
    screenshot(page, "indicator-system-draft")
    assert page_problems == []
