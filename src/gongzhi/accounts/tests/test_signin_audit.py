"""Signing in and out, failed and refused sign-ins and personal tokens are audited, with where
from and no secret, and pruned after their retention (accounts.signins)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Iterator
from io import StringIO
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.test import Client, RequestFactory
from django.utils import translation

from gongzhi.accounts import throttle
from gongzhi.accounts.models import ApiKey, LoginFailure, User
from gongzhi.accounts.services import issue_api_key, issue_personal_token, revoke_api_key
from gongzhi.accounts.signins import prune_sign_ins
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for

NOW = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
ADDRESS = "203.0.113.7"
AGENT = "Mozilla/5.0 (X11; Linux x86_64) 测试浏览器/1.0"
WRONG = "Wr0ng-pass-Кириллица"


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)


def written(act: Callable[[], Any]) -> tuple[Any, list[AuditEvent]]:
    """What ``act`` returns, and the audit events it wrote."""
    before = set(AuditEvent.objects.values_list("pk", flat=True))
    result = act()
    return result, list(AuditEvent.objects.exclude(pk__in=before).order_by("pk"))


def stored(event: AuditEvent) -> str:
    """Every column of the event as the database holds it."""
    row = AuditEvent.objects.filter(pk=event.pk).values().get()
    return json.dumps(row, default=str, ensure_ascii=False)


def fields(event: AuditEvent) -> tuple[Any, ...]:
    actor = event.actor.username if event.actor else None
    return (
        event.action,
        actor,
        event.actor_role,
        event.subject_type,
        event.subject_label,
        event.region_path,
        event.data,
        event.reason,
    )


def web_login(client: Client, password: str, username: str = "handler") -> Any:
    return client.post("/accounts/login/", {"username": username, "password": password})


def token_login(client: Client, password: str, username: str = "handler") -> Any:
    body = json.dumps({"username": username, "password": password})
    return client.post("/api/v1/auth/token", body, content_type="application/json")


def fail_five_times(username: str = "handler") -> None:
    for _ in range(5):
        LoginFailure.objects.create(
            account_digest=throttle.account_digest(username), address=ADDRESS, failed_at=NOW
        )


# --- Signing in and out ------------------------------------------------------------------------


def test_signing_in_on_the_login_page_is_one_event_with_where_from(world: World):
    client = browser()
    response, events = written(lambda: web_login(client, DEMO_PASSWORD))
    assert response.status_code == 302
    assert [fields(e) for e in events] == [
        (
            "session.signed_in",
            "handler",
            "",
            "session",
            "handler",
            world.city.path,
            {"address": ADDRESS, "user_agent": AGENT, "path": "/accounts/login/"},
            "",
        )
    ]
    assert events[0].stream == f"session:{events[0].subject_id}"
    assert DEMO_PASSWORD not in stored(events[0])
    assert client.session.session_key not in stored(events[0])


def test_the_admins_own_login_form_signs_no_one_in(world: World):
    """One way in, with its second step (accounts.two_step): the admin's login page sends
    people to the project's, and a password posted to it is neither checked nor recorded."""
    User.objects.create_user(username="clerk", password="a-long-real-password-1", is_staff=True)
    client = browser()
    response, events = written(
        lambda: client.post(
            "/admin/login/?next=/admin/",
            {"username": "clerk", "password": "a-long-real-password-1"},
        )
    )
    assert (response.status_code, response["Location"]) == (
        302,
        "/accounts/login/?next=%2Fadmin%2F",
    )
    assert events == []
    assert "_auth_user_id" not in client.session


def test_signing_out_is_recorded_and_keeps_no_session_key(world: World):
    client = browser()
    web_login(client, DEMO_PASSWORD)
    session_key = client.session.session_key
    response, events = written(lambda: client.post("/accounts/logout/"))
    assert response.status_code == 302
    assert [fields(e) for e in events] == [
        (
            "session.signed_out",
            "handler",
            "",
            "session",
            "handler",
            world.city.path,
            {"address": ADDRESS, "user_agent": AGENT, "path": "/accounts/logout/"},
            "",
        )
    ]
    assert session_key not in stored(events[0])


def test_signing_out_when_not_signed_in_records_nothing(db):
    response, events = written(lambda: browser().post("/accounts/logout/"))
    assert (response.status_code, events) == (302, [])


def test_a_long_user_agent_is_cut_and_control_characters_dropped(db):
    client = Client(REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT="\x00\x1b" + "a" * 500)
    _response, events = written(lambda: web_login(client, DEMO_PASSWORD))
    assert events[0].data["user_agent"] == "a" * 200


# --- Failed and refused sign-ins ---------------------------------------------------------------


def test_a_failed_sign_in_names_the_account_it_tried_but_not_the_password(world: World):
    handler = world.persona("handler")
    response, events = written(lambda: web_login(browser(), WRONG))
    assert response.status_code == 200
    assert [fields(e) for e in events] == [
        (
            "session.sign_in_failed",
            None,
            "",
            "session",
            "handler",
            world.city.path,
            {
                "address": ADDRESS,
                "user_agent": AGENT,
                "path": "/accounts/login/",
                "account": throttle.account_digest("handler"),
                "person": str(handler.pk),
            },
            "",
        )
    ]
    assert WRONG not in stored(events[0])


def test_a_failed_sign_in_as_nobody_keeps_the_name_only_as_a_digest(world: World):
    typed = "my-password-typed-as-name"
    response, events = written(lambda: web_login(browser(), WRONG, username=typed))
    assert response.status_code == 200
    assert [fields(e) for e in events] == [
        (
            "session.sign_in_failed",
            None,
            "",
            "session",
            "",
            world.city.path,
            {
                "address": ADDRESS,
                "user_agent": AGENT,
                "path": "/accounts/login/",
                "account": throttle.account_digest(typed),
            },
            "",
        )
    ]
    assert typed not in stored(events[0])
    assert WRONG not in stored(events[0])


def test_a_failed_token_login_is_recorded_like_a_page_login(world: World):
    response, events = written(lambda: token_login(browser(), WRONG))
    assert response.status_code == 401
    assert [(e.action, e.actor, e.subject_label, e.data["path"]) for e in events] == [
        ("session.sign_in_failed", None, "handler", "/api/v1/auth/token")
    ]
    assert WRONG not in stored(events[0])


@pytest.fixture
def clock() -> Iterator[mock.MagicMock]:
    with mock.patch("django.utils.timezone.now", return_value=NOW) as now:
        yield now


def test_a_sign_in_refused_on_the_login_page_is_one_event(world: World, clock: Any):
    fail_five_times()
    response, events = written(lambda: web_login(browser(), DEMO_PASSWORD))
    assert response.status_code == 429
    assert [fields(e) for e in events] == [
        (
            "session.sign_in_throttled",
            None,
            "",
            "session",
            "handler",
            world.city.path,
            {
                "address": ADDRESS,
                "user_agent": AGENT,
                "path": "/accounts/login/",
                "account": throttle.account_digest("handler"),
                "person": str(world.persona("handler").pk),
            },
            "",
        )
    ]
    assert DEMO_PASSWORD not in stored(events[0])


def test_a_token_login_refused_is_one_event_and_issues_nothing(world: World, clock: Any):
    fail_five_times()
    response, events = written(lambda: token_login(browser(), DEMO_PASSWORD))
    assert response.status_code == 429
    assert [(e.action, e.subject_label, e.data["path"]) for e in events] == [
        ("session.sign_in_throttled", "handler", "/api/v1/auth/token")
    ]
    assert not ApiKey.objects.filter(user__username="handler").exists()


def test_a_refusal_elsewhere_is_recorded_once_as_refused_not_also_as_failed(
    world: World, clock: Any
):
    """The admin and any other caller of authenticate() meet the backend's check, and
    authenticate() then reports a failure: one event, saying why."""
    fail_five_times()
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR=ADDRESS, HTTP_USER_AGENT=AGENT)
    user, events = written(
        lambda: authenticate(request, username="handler", password=DEMO_PASSWORD)
    )
    assert user is None
    assert [(e.action, e.subject_label, e.data["path"]) for e in events] == [
        ("session.sign_in_throttled", "handler", "/admin/login/")
    ]
    # A refusal checked no password: it is no failure, and does not lengthen the wait.
    assert LoginFailure.objects.count() == 5
    # The next failure is a failure again.
    request = RequestFactory().post("/admin/login/", REMOTE_ADDR="10.0.0.2")
    _user, events = written(lambda: authenticate(request, username="handler", password=WRONG))
    assert [e.action for e in events] == ["session.sign_in_failed"]


# --- Personal tokens ---------------------------------------------------------------------------


def test_a_token_login_clears_the_failures_as_a_page_login_does(world: World):
    client = browser()
    for _ in range(3):
        assert token_login(client, WRONG).status_code == 401
    assert LoginFailure.objects.count() == 3
    assert token_login(client, DEMO_PASSWORD).status_code == 200
    assert LoginFailure.objects.count() == 0


def test_a_token_login_records_the_token_issued_and_never_its_secret(world: World):
    response, events = written(lambda: token_login(browser(), DEMO_PASSWORD))
    assert response.status_code == 200
    token = response.json()["token"]
    key = ApiKey.objects.get(user__username="handler")
    assert key.expires_at is not None
    assert [fields(e) for e in events] == [
        (
            "personal_token.issued",
            "handler",
            "",
            "personal-token",
            f"handler ({key.prefix})",
            world.city.path,
            {
                "prefix": key.prefix,
                "address": ADDRESS,
                "user_agent": AGENT,
                "expires_at": key.expires_at.isoformat(),
            },
            "",
        )
    ]
    assert (events[0].stream, events[0].subject_id) == (f"personal-token:{key.pk}", str(key.pk))
    secret = token.split("_", 2)[2]
    assert secret not in stored(events[0])
    assert DEMO_PASSWORD not in stored(events[0])


def test_logging_out_of_the_api_records_the_token_revoked_on_its_stream(world: World):
    token = token_login(browser(), DEMO_PASSWORD).json()["token"]
    key = ApiKey.objects.get(user__username="handler")
    client = Client(REMOTE_ADDR="198.51.100.4", HTTP_AUTHORIZATION=f"Bearer {token}")
    response, events = written(lambda: client.delete("/api/v1/auth/token"))
    assert response.status_code == 204
    assert [fields(e) for e in events] == [
        (
            "personal_token.revoked",
            "handler",
            "",
            "personal-token",
            f"handler ({key.prefix})",
            world.city.path,
            {"prefix": key.prefix, "address": "198.51.100.4", "user_agent": ""},
            "logout",
        )
    ]
    assert [e.seq for e in AuditEvent.objects.filter(stream=events[0].stream)] == [1, 2]
    assert token.split("_", 2)[2] not in stored(events[0])
    assert list(verify_chains(AuditEvent)) == []


def test_using_a_token_or_a_key_records_nothing(world: World):
    token = issue_personal_token(None, username="handler", password=DEMO_PASSWORD).token
    admin = world.persona("city_admin")
    key = issue_api_key(unit=world.command_centre, name="区热线系统", actor=admin).token
    clients = [
        Client(HTTP_AUTHORIZATION=f"Bearer {token}"),
        Client(HTTP_AUTHORIZATION=f"Bearer {key}"),
        Client(HTTP_X_API_KEY=key),
    ]
    responses, events = written(lambda: [c.get("/api/v1/me") for c in clients for _ in range(2)])
    assert [r.status_code for r in responses] == [200] * 6
    assert events == []


def test_integration_keys_keep_their_own_events(world: World):
    """Keys for other systems are back office, kept for good: only personal tokens changed."""
    admin = world.persona("city_admin")
    issued, events = written(
        lambda: issue_api_key(unit=world.command_centre, name="区热线系统", actor=admin)
    )
    assert [(e.action, e.subject_type, e.region_path) for e in events] == [
        ("api_key.issued", "api-key", world.command_centre.region.path)
    ]
    _key, events = written(lambda: revoke_api_key(issued.key, actor=admin, reason="停用"))
    assert [(e.action, e.subject_type, e.stream) for e in events] == [
        ("api_key.revoked", "api-key", f"api-key:{issued.key.pk}")
    ]


# --- Retention ---------------------------------------------------------------------------------


def at(when: dt.datetime, act: Callable[[], Any]) -> list[AuditEvent]:
    with mock.patch("django.utils.timezone.now", return_value=when):
        return written(act)[1]


def days_ago(days: int) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def test_pruning_removes_exactly_the_events_past_their_retention(world: World):
    failed_old = at(days_ago(181), lambda: web_login(browser(), WRONG))
    failed_kept = at(days_ago(179), lambda: web_login(browser(), WRONG))
    signed_in_old = at(days_ago(366), lambda: web_login(browser(), DEMO_PASSWORD))
    signed_in_kept = at(days_ago(200), lambda: web_login(browser(), DEMO_PASSWORD))
    # A token whose events are all old goes whole; one revoked recently stays whole.
    gone = at(
        days_ago(400),
        lambda: issue_personal_token(None, username="handler", password=DEMO_PASSWORD),
    )
    gone_key = ApiKey.objects.get(pk=gone[0].subject_id)
    gone_events = [*gone, *at(days_ago(366), lambda: revoke_api_key(gone_key, actor=handler()))]
    kept = at(
        days_ago(400),
        lambda: issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD),
    )
    kept_key = ApiKey.objects.get(pk=kept[0].subject_id)
    dispatcher = world.persona("dispatcher")
    kept_events = [*kept, *at(days_ago(10), lambda: revoke_api_key(kept_key, actor=dispatcher))]
    # Other audit events are never pruned, however old.
    person_created = at(
        days_ago(1000),
        lambda: User.objects.create_user(username="clerk", password="x-long-pass-1", is_staff=True),
    )
    deleted_events = [*failed_old, *signed_in_old, *gone_events]
    kept_all = [*failed_kept, *signed_in_kept, *kept_events, *person_created]
    assert [len(deleted_events), len(kept_all)] == [4, 5]
    everything_else = set(
        AuditEvent.objects.exclude(pk__in=[e.pk for e in deleted_events + kept_all]).values_list(
            "pk", flat=True
        )
    )

    assert prune_sign_ins(now=NOW) == 4

    remaining = set(AuditEvent.objects.values_list("pk", flat=True))
    assert remaining == {e.pk for e in kept_all} | everything_else
    assert list(verify_chains(AuditEvent)) == []
    assert prune_sign_ins(now=NOW) == 0


def handler() -> User:
    return User.objects.get(username="handler")


def test_retention_comes_from_settings(world: World, settings: Any):
    settings.GONGZHI_FAILED_SIGN_IN_AUDIT_DAYS = 30
    settings.GONGZHI_SIGN_IN_AUDIT_DAYS = 60
    failed = at(days_ago(31), lambda: web_login(browser(), WRONG))
    failed_kept = at(days_ago(29), lambda: web_login(browser(), WRONG))
    signed_in = at(days_ago(61), lambda: web_login(browser(), DEMO_PASSWORD))
    signed_in_kept = at(days_ago(59), lambda: web_login(browser(), DEMO_PASSWORD))
    assert prune_sign_ins(now=NOW) == 2
    left = AuditEvent.objects.filter(pk__in=[e.pk for e in failed + signed_in + failed_kept])
    assert sorted(left.values_list("pk", flat=True)) == [failed_kept[0].pk]
    assert AuditEvent.objects.filter(pk=signed_in_kept[0].pk).exists()


def test_the_prune_command_says_how_many_it_deleted(world: World):
    at(NOW - dt.timedelta(days=400), lambda: web_login(browser(), WRONG))
    out = StringIO()
    call_command("prune_sign_ins", stdout=out)
    assert out.getvalue() == "deleted 1 sign-in audit events\n"


# --- Where they are shown ----------------------------------------------------------------------


def test_the_audit_log_shows_sign_ins_and_filters_by_action(world: World):
    web_login(browser(), WRONG)
    web_login(browser(), DEMO_PASSWORD)
    auditor = client_for("auditor")  # signing the auditor in is an event too
    page = auditor.get("/accounts/audit/?kind=session.sign_in_failed")
    assert page.status_code == 200
    rows = [
        (r.action_label, r.event.subject_label, r.event.data["address"])
        for r in page.context["rows"]
    ]
    assert rows == [("Sign-in failed", "handler", ADDRESS)]
    body = page.content.decode()
    assert f'<td title="{AGENT}">{ADDRESS}</td>' in body
    assert '<option value="session.signed_in">Signed in</option>' in body
    everything = auditor.get("/accounts/audit/")
    assert [r.event.action for r in everything.context["rows"]][:3] == [
        "session.signed_in",  # the auditor
        "session.signed_in",  # handler
        "session.sign_in_failed",
    ]


def test_an_unknown_action_in_the_filter_is_a_clear_error_and_filters_nothing(world: World):
    web_login(browser(), DEMO_PASSWORD)
    page = client_for("auditor").get("/accounts/audit/?kind=no.such_action")
    assert page.status_code == 200
    assert "Select a valid choice. no.such_action is not one of the available choices." in (
        page.content.decode()
    )
    assert len(page.context["rows"]) == min(50, AuditEvent.objects.count())


def test_the_admin_lists_sign_ins_by_action_with_the_address(world: World):
    web_login(browser(), WRONG)
    boss = User.objects.create_superuser(username="boss", password="a-long-real-password-1")
    client = Client()
    client.force_login(boss)
    page = client.get("/admin/core/auditevent/?action=session.sign_in_failed")
    assert page.status_code == 200
    events = list(page.context["cl"].result_list)
    assert [(e.action, e.subject_label) for e in events] == [("session.sign_in_failed", "handler")]
    body = page.content.decode()
    assert f'<td class="field-client_address">{ADDRESS}</td>' in body
    assert '<td class="field-action_name">Sign-in failed</td>' in body
    assert "?action=session.signed_in" in body  # the boss signing in: a choice of the filter
