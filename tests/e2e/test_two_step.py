"""Two-step verification in Chromium: a person turns it on from their account page by
scanning the QR code (here: reading its key), signs out, and signs in again with the
password and then the code. Screenshots go to ``test-artifacts/``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Page, expect

from gongzhi.accounts.models import User
from gongzhi.accounts.tests.totp import code_for
from gongzhi.demo.build import DEMO_PASSWORD
from tests.e2e.test_browser_personas import log_in

pytestmark = pytest.mark.browser

Screenshot = Callable[[Page, str], Path]


def test_a_person_turns_two_step_verification_on_and_signs_in_with_a_code(
    live_server: Any,
    ensure_demo_city: None,
    page: Page,
    page_problems: list[str],
    screenshot: Screenshot,
) -> None:
    base = live_server.url
    log_in(page, base, "dispatcher")
    page.goto(f"{base}/accounts/me/")
    expect(page.get_by_test_id("two-step")).to_contain_text("未开启")
    page.get_by_test_id("two-step").get_by_role("link").click()
    expect(page.get_by_test_id("two-step-qr").locator("svg")).to_be_visible()
    screenshot(page, "two-step-setup")
    device = TOTPDevice.objects.get(user__username="dispatcher")
    key = page.get_by_test_id("two-step-key").inner_text().replace(" ", "")
    assert len(key) == 32  # 160 bits in base32: what an app is given by the QR code
    form = page.get_by_test_id("two-step-on")
    form.locator("[name=code]").fill(code_for(device))
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    expect(page.get_by_test_id("backup-codes").locator("li")).to_have_count(10)
    screenshot(page, "two-step-backup-codes")
    with page.expect_navigation():
        page.get_by_role("link", name="我已妥善保存").click()
    expect(page.get_by_test_id("two-step")).to_contain_text("已开启")

    with page.expect_navigation():
        page.locator("form[action='/accounts/logout/'] button").click()
    page.goto(f"{base}/accounts/login/")
    form = page.locator("form.stack")
    form.locator("input[name=username]").fill("dispatcher")
    form.locator("input[name=password]").fill(DEMO_PASSWORD)
    with page.expect_navigation():
        form.locator("button[type=submit]").click()
    assert page.url == f"{base}/accounts/login/code/"
    screenshot(page, "two-step-login")
    code = page.get_by_test_id("two-step-login")
    code.locator("[name=code]").fill("000000")
    with page.expect_navigation():
        code.locator("button[type=submit]").click()
    expect(page.get_by_role("alert")).to_have_text("验证码错误或已过期，请输入当前显示的验证码。")
    page.wait_for_timeout(1100)  # django-otp waits 1 s after a wrong code (a person does too)
    page.get_by_test_id("two-step-login").locator("[name=code]").fill(
        code_for(device, steps_ahead=1)
    )
    with page.expect_navigation():
        page.get_by_test_id("two-step-login").locator("button[type=submit]").click()
    assert page.url == f"{base}/"
    name = User.objects.get(username="dispatcher").display_name
    expect(page.get_by_test_id("whoami")).to_have_text(name)
    assert page_problems == []
