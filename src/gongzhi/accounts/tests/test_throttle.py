"""Password guessing is limited per account and address, and per address (accounts.throttle)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.test import Client, RequestFactory
from django.utils import translation

from gongzhi.accounts import throttle
from gongzhi.accounts.models import ApiKey, LoginFailure
from gongzhi.demo.build import DEMO_PASSWORD

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def clock() -> Iterator[mock.MagicMock]:
    with mock.patch("django.utils.timezone.now", return_value=NOW) as now:
        yield now


def post_login(password: str, *, address: str = "10.0.0.1", username: str = "handler") -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/accounts/login/", {"username": username, "password": password}
    )


def token_login(password: str, *, address: str = "10.0.0.1") -> Any:
    return Client(REMOTE_ADDR=address).post(
        "/api/v1/auth/token",
        json.dumps({"username": "handler", "password": password}),
        content_type="application/json",
    )


def fail(times: int, *, ago_seconds: int = 60, address: str = "10.0.0.1") -> None:
    for _ in range(times):
        LoginFailure.objects.create(
            account_digest=throttle.account_digest("handler"),
            address=address,
            failed_at=NOW - dt.timedelta(seconds=ago_seconds),
        )


def test_the_sixth_try_after_five_failures_is_refused_even_with_the_right_password(db, clock):
    for _ in range(5):
        assert post_login("wrong").status_code == 200  # the form again, "wrong password"
    response = post_login(DEMO_PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "901"  # all five at NOW: the first leaves in 900 s
    assert "Too many failed logins: try again in 16 minutes." in response.content.decode()
    assert LoginFailure.objects.count() == 5  # the refused try is not checked, nor counted


def test_the_wrong_password_message_names_no_account(db, clock):
    response = post_login("wrong")
    assert (
        "Wrong username or password, or the account cannot log in here."
        in response.content.decode()
    )


def test_the_lock_lifts_when_the_oldest_counted_failure_leaves_the_window(db, clock):
    fail(1, ago_seconds=899)
    fail(4, ago_seconds=10)
    with pytest.raises(throttle.LoginThrottled) as refused:
        throttle.check("handler", RequestFactory().post("/", REMOTE_ADDR="10.0.0.1"))
    assert (refused.value.code, refused.value.status) == ("login_throttled", 429)
    assert refused.value.details == {"retry_after": 2}
    clock.return_value = NOW + dt.timedelta(seconds=2)
    throttle.check("handler", RequestFactory().post("/", REMOTE_ADDR="10.0.0.1"))


def test_the_owner_logs_in_from_another_address_while_a_stranger_is_locked_out(db, clock):
    fail(5, address="203.0.113.9")
    assert post_login(DEMO_PASSWORD, address="203.0.113.9").status_code == 429
    response = post_login(DEMO_PASSWORD, address="10.0.0.1")
    assert (response.status_code, response["Location"]) == (302, "/")


def test_a_successful_login_clears_the_accounts_failures_from_that_address(db, clock):
    fail(4)
    fail(3, address="203.0.113.9")
    assert post_login(DEMO_PASSWORD).status_code == 302
    assert sorted(LoginFailure.objects.values_list("address", flat=True)) == ["203.0.113.9"] * 3


def test_one_address_trying_many_accounts_is_stopped_at_fifty(db, clock):
    for n in range(50):
        LoginFailure.objects.create(
            account_digest=throttle.account_digest(f"user{n}"), address="10.0.0.7", failed_at=NOW
        )
    assert post_login(DEMO_PASSWORD, address="10.0.0.7").status_code == 429
    assert post_login(DEMO_PASSWORD, address="10.0.0.8").status_code == 302


def test_the_token_login_answers_429_with_a_code_and_issues_nothing(db, clock):
    fail(5)
    response = token_login(DEMO_PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "841"
    assert response.json() == {
        "code": "login_throttled",
        "message": "Too many failed logins: try again in 15 minutes.",
        "details": {"retry_after": 841},
    }
    assert not ApiKey.objects.filter(user__username="handler").exists()


def test_failed_token_logins_count_like_failed_page_logins(db, clock):
    for _ in range(3):
        assert token_login("wrong").status_code == 401
    for _ in range(2):
        post_login("wrong")
    assert token_login(DEMO_PASSWORD).status_code == 429


def test_every_other_way_in_is_closed_too(db, clock):
    """The admin and anything else calling authenticate() meet the backend's check."""
    fail(5)
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.1")
    assert authenticate(request, username="handler", password=DEMO_PASSWORD) is None
    other = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.2")
    assert authenticate(other, username="handler", password=DEMO_PASSWORD) is not None


def test_the_username_is_kept_only_as_a_digest_and_old_failures_are_deleted(db, clock):
    LoginFailure.objects.create(
        account_digest="x" * 64, address="10.0.0.9", failed_at=NOW - dt.timedelta(days=1, seconds=1)
    )
    LoginFailure.objects.create(
        account_digest="y" * 64, address="10.0.0.9", failed_at=NOW - dt.timedelta(hours=23)
    )
    post_login("my-secret-password", username="Handler ")
    rows = list(LoginFailure.objects.order_by("failed_at").values_list("account_digest", "address"))
    assert rows == [("y" * 64, "10.0.0.9"), (throttle.account_digest("handler"), "10.0.0.1")]
    assert throttle.account_digest("Handler ") == throttle.account_digest("handler")
    assert "handler" not in repr(rows).lower()


def test_limits_come_from_settings(db, clock, settings):
    settings.GONGZHI_LOGIN_LIMIT = (2, 60)
    fail(2, ago_seconds=30)
    assert post_login(DEMO_PASSWORD).status_code == 429
    clock.return_value = NOW + dt.timedelta(seconds=31)
    assert post_login(DEMO_PASSWORD).status_code == 302
