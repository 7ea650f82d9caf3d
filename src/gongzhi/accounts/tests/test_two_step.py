"""Two-step verification (accounts.two_step): turning it on and off, signing in on the page and
at the API's token login, wrong codes counted as failed sign-ins, and the admin that asks
for it."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from django.contrib.auth.base_user import AbstractBaseUser
from django.test import Client
from django.utils import translation
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_totp.models import TOTPDevice

from gongzhi.accounts import two_step
from gongzhi.accounts.models import BackupCode, User
from gongzhi.accounts.services import issue_personal_token
from gongzhi.accounts.tests.totp import code_for
from gongzhi.core.errors import DomainError
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World

ADDRESS = "203.0.113.9"


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    # django-otp's delay after a wrong code (1, 2, 4 ... s) has a test of its own.
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    with translation.override("en"):
        yield


def turned_on(person: User) -> TOTPDevice:
    """Two-step verification on for ``person``, as the settings page leaves it."""
    device = two_step.pending_device(person)
    two_step.turn_on(person, code_for(device), None)
    device.refresh_from_db()
    return device


def shown_codes(response: Any) -> list[str]:
    return re.findall(r"<li><code>([^<]+)</code></li>", response.content.decode())


def browser() -> Client:
    return Client(REMOTE_ADDR=ADDRESS)


def password_step(client: Client, username: str, next_url: str = "") -> Any:
    data = {"username": username, "password": DEMO_PASSWORD}
    if next_url:
        data["next"] = next_url
    return client.post("/accounts/login/", data)


def actions_since(before: int) -> list[tuple[str, str]]:
    events = AuditEvent.objects.filter(pk__gt=before).order_by("pk")
    return [(e.action, e.subject_label) for e in events]


def last_event_pk() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def test_turning_it_on_takes_a_code_from_the_scanned_key_and_is_audited(world: World):
    person = world.persona("dispatcher")
    client = browser()
    client.force_login(person)
    page = client.get("/accounts/me/two-step/")
    assert page.status_code == 200
    text = page.content.decode()
    device = TOTPDevice.objects.get(user=person)
    assert device.confirmed is False
    assert 'class="segno"' in text
    assert "<script" not in text.split('class="segno"')[1].split("</svg>")[0]
    assert two_step.key_for_typing(device) in text
    assert client.get("/accounts/me/two-step/").status_code == 200  # the same key on reload
    assert TOTPDevice.objects.filter(user=person).count() == 1

    before = last_event_pk()
    wrong = client.post("/accounts/me/two-step/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "The code is wrong or has expired." in wrong.content.decode()
    assert TOTPDevice.objects.get(user=person).confirmed is False
    assert actions_since(before) == [("session.sign_in_failed", "dispatcher")]

    device.refresh_from_db()
    before = last_event_pk()
    right = client.post("/accounts/me/two-step/", {"code": code_for(device, steps_ahead=1)})
    assert right.status_code == 200  # the backup codes, shown once
    assert "no-store" in right["Cache-Control"]
    assert "no-store" in page["Cache-Control"]  # the key being set up
    codes = shown_codes(right)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert all(re.fullmatch(r"[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}", c) for c in codes)
    stored = "".join(BackupCode.objects.filter(user=person).values_list("digest", flat=True))
    assert not any(c.replace("-", "") in stored for c in codes)
    assert TOTPDevice.objects.get(user=person).confirmed is True
    assert actions_since(before) == [("two_step.enabled", "dispatcher")]
    assert 'data-testid="backup-codes"' not in client.get("/accounts/me/two-step/").content.decode()
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id  # verified now
    assert 'data-testid="two-step">On' in client.get("/accounts/me/").content.decode()


def test_codes_that_are_not_six_digits_are_refused_without_counting(world: World):
    person = world.persona("dispatcher")
    device = two_step.pending_device(person)
    refusals = [
        ("", "two_step_code_required", "Enter the six-digit code your authenticator app shows."),
        ("12345", "invalid_input", "The code is six digits."),
        ("１２３４５６", "invalid_input", "The code is six digits."),  # full-width digits
        ("12a456", "invalid_input", "The code is six digits."),
    ]
    for code, error_code, message in refusals:
        before = last_event_pk()
        with pytest.raises(DomainError) as refused:
            two_step.turn_on(person, code, None)
        assert (refused.value.code, refused.value.message) == (error_code, message)
        assert actions_since(before) == []
    assert two_step.is_on(person) is False
    assert two_step.turn_on(person, f" {code_for(device)[:3]} {code_for(device)[3:]} ", None)


def test_signing_in_asks_for_the_code_after_the_password(world: World):
    person = world.persona("dispatcher")
    device = turned_on(person)
    client = browser()
    step_one = password_step(client, "dispatcher", next_url="/cases/")
    assert (step_one.status_code, step_one["Location"]) == (302, "/accounts/login/code/")
    assert "_auth_user_id" not in client.session  # not signed in yet
    assert client.get("/cases/").status_code == 302  # to the login page
    page = client.get("/accounts/login/code/")
    assert page.status_code == 200
    assert 'autocomplete="one-time-code"' in page.content.decode()

    before = last_event_pk()
    wrong = client.post("/accounts/login/code/", {"code": "000000"})
    assert wrong.status_code == 400
    assert "_auth_user_id" not in client.session
    assert actions_since(before) == [("session.sign_in_failed", "dispatcher")]

    before = last_event_pk()
    right = client.post("/accounts/login/code/", {"code": code_for(device, steps_ahead=1)})
    assert (right.status_code, right["Location"]) == (302, "/cases/")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert actions_since(before) == [("session.signed_in", "dispatcher")]
    assert client.get("/cases/").status_code == 200
    # The code step is used up.
    assert client.get("/accounts/login/code/").status_code == 302


def test_the_code_step_lasts_five_minutes(world: World):
    device = turned_on(world.persona("dispatcher"))
    client = browser()
    password_step(client, "dispatcher")
    later = time.time() + 301
    with mock.patch("gongzhi.accounts.views.time.time", return_value=later):
        expired = client.post("/accounts/login/code/", {"code": code_for(device, steps_ahead=1)})
    assert (expired.status_code, expired["Location"]) == (302, "/accounts/login/")
    assert "_auth_user_id" not in client.session


def test_without_two_step_the_password_signs_in_at_once(world: World):
    client = browser()
    response = password_step(client, "dispatcher", next_url="/cases/")
    assert (response.status_code, response["Location"]) == (302, "/cases/")
    assert client.session["_auth_user_id"] == str(world.persona("dispatcher").pk)
    assert client.get("/accounts/login/code/").status_code == 302  # nothing pending


def test_wrong_codes_count_towards_the_login_limit(world: World, settings: Any):
    settings.GONGZHI_LOGIN_LIMIT = (3, 900)
    device = turned_on(world.persona("dispatcher"))
    client = browser()
    password_step(client, "dispatcher")
    for _ in range(3):
        assert client.post("/accounts/login/code/", {"code": "000000"}).status_code == 400
    throttled = client.post("/accounts/login/code/", {"code": code_for(device, steps_ahead=1)})
    assert throttled.status_code == 429
    assert int(throttled["Retry-After"]) > 0
    assert "_auth_user_id" not in client.session


def test_the_api_token_login_needs_the_code_too(world: World):
    device = turned_on(world.persona("dispatcher"))

    def login(**extra: str) -> Any:
        body = {"username": "dispatcher", "password": DEMO_PASSWORD, **extra}
        return browser().post(
            "/api/v1/auth/token", json.dumps(body), content_type="application/json"
        )

    missing = login()
    assert (missing.status_code, missing.json()["code"]) == (401, "two_step_code_required")
    wrong = login(code="000000")
    assert (wrong.status_code, wrong.json()["code"]) == (401, "invalid_two_step_code")
    assert wrong.json()["message"] == (
        "The code is wrong or has expired. Enter the code shown now."
    )
    ok = login(code=code_for(device, steps_ahead=1))
    assert ok.status_code == 200
    assert ok.json()["token"].startswith("gz_")
    assert login(password="wrong", code=code_for(device, steps_ahead=1)).json()["code"] == (
        "invalid_credentials"
    )


def test_turning_it_off_needs_a_current_code_and_is_audited(world: World):
    person = world.persona("dispatcher")
    device = turned_on(person)
    client = browser()
    client.force_login(person)
    page = client.get("/accounts/me/two-step/")
    assert 'data-testid="two-step-off"' in page.content.decode()
    assert client.post("/accounts/me/two-step/", {"code": "000000"}).status_code == 400
    assert two_step.is_on(person)
    before = last_event_pk()
    off = client.post("/accounts/me/two-step/", {"code": code_for(device, steps_ahead=1)})
    assert (off.status_code, off["Location"]) == (302, "/accounts/me/")
    assert TOTPDevice.objects.filter(user=person).count() == 0
    assert actions_since(before) == [("two_step.disabled", "dispatcher")]


def test_the_admin_asks_for_two_step_verification(world: World, settings: Any):
    settings.GONGZHI_ADMIN_TWO_STEP = True
    admin = world.persona("city_admin")
    assert admin.is_staff

    anonymous = browser().get("/admin/accounts/user/")
    assert anonymous.status_code == 302
    assert anonymous["Location"] == "/accounts/login/?next=/admin/accounts/user/"

    # Signed in with the password only, and no authenticator: set it up first, then back.
    client = browser()
    password_step(client, "city_admin")
    to_setup = client.get("/admin/accounts/user/", follow=False)
    assert to_setup.status_code == 302
    assert to_setup["Location"] == "/admin/login/?next=/admin/accounts/user/"
    setup = client.get(to_setup["Location"])
    assert (setup.status_code, setup["Location"]) == (
        302,
        "/accounts/me/two-step/?next=%2Fadmin%2Faccounts%2Fuser%2F",
    )
    client.get(setup["Location"])
    device = TOTPDevice.objects.get(user=admin)
    done = client.post(
        "/accounts/me/two-step/", {"code": code_for(device), "next": "/admin/accounts/user/"}
    )
    assert done.status_code == 200
    assert 'href="/admin/accounts/user/"' in done.content.decode()  # on, after the codes
    assert client.get("/admin/").status_code == 200
    assert client.get("/admin/accounts/user/").status_code == 403  # people: superusers only

    # A session signed in without the code (before it was turned on) must sign in again.
    stale = browser()
    stale.force_login(admin)
    again = stale.get(stale.get("/admin/")["Location"])
    assert (again.status_code, again["Location"]) == (302, "/accounts/login/?next=%2Fadmin%2F")
    assert "_auth_user_id" not in stale.session

    # A person who is not staff is told so, not sent round the login page.
    resident = browser()
    resident.force_login(world.persona("resident"))
    refused = resident.get(resident.get("/admin/")["Location"])
    assert refused.status_code == 403


def test_an_administrator_resets_a_lost_authenticator(world: World):
    person = world.persona("dispatcher")
    device = turned_on(person)
    admin = browser()
    root = User.objects.create_superuser(username="root", password="x-Long-enough-9")
    admin.force_login(root)
    listing = admin.get("/admin/otp_totp/totpdevice/")
    assert listing.status_code == 200
    assert device.key not in listing.content.decode()  # the secret is never shown
    assert admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").status_code == 200
    assert (
        device.key
        not in admin.get(f"/admin/otp_totp/totpdevice/{device.pk}/change/").content.decode()
    )
    before = last_event_pk()
    done = admin.post(
        "/admin/otp_totp/totpdevice/",
        {"action": "reset_selected", "_selected_action": [device.pk]},
    )
    assert done.status_code == 302
    assert two_step.is_on(person) is False
    events = AuditEvent.objects.filter(pk__gt=before)
    assert [(e.action, e.subject_label, e.actor.username) for e in events] == [
        ("two_step.reset", "dispatcher", "root")
    ]
    # Others may not see the devices at all.
    dispatcher = browser()
    dispatcher.force_login(person)
    assert dispatcher.get("/admin/otp_totp/totpdevice/").status_code in (302, 403)


def test_after_a_wrong_code_the_next_waits_a_moment(world: World, settings: Any):
    settings.OTP_TOTP_THROTTLE_FACTOR = 1
    person = world.persona("dispatcher")
    device = turned_on(person)
    with pytest.raises(two_step.WrongCode):
        two_step.verify(person, device, "000000", None)
    with pytest.raises(two_step.WrongCode) as waiting:
        two_step.verify(person, device, code_for(device, steps_ahead=1), None)
    assert waiting.value.message == "After a wrong code, wait 1 second before the next."
    assert waiting.value.details == {"retry_after": 1}


def test_turning_it_on_signs_out_the_person_elsewhere_and_revokes_their_tokens(world: World):
    """Whoever signed in with the password alone (it may have leaked) is signed out; the
    session that turned it on stays signed in."""
    person = world.persona("dispatcher")
    elsewhere = browser()
    password_step(elsewhere, "dispatcher")
    assert elsewhere.get("/cases/").status_code == 200
    token = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD).token
    here = browser()
    password_step(here, "dispatcher")
    here.get("/accounts/me/two-step/")
    device = TOTPDevice.objects.get(user=person)
    before = last_event_pk()
    assert here.post("/accounts/me/two-step/", {"code": code_for(device)}).status_code == 200

    assert here.get("/cases/").status_code == 200
    assert elsewhere.get("/cases/").status_code == 302  # to the login page
    api = browser().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api.status_code == 401
    events = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    assert [(e.action, e.reason) for e in events] == [
        ("personal_token.revoked", "two-step verification turned on"),
        ("two_step.enabled", ""),
    ]
    assert events[1].data["personal_tokens_revoked"] == 1


def test_a_reset_signs_the_person_out_everywhere(world: World):
    person = world.persona("dispatcher")
    turned_on(person)
    signed_in = browser()
    signed_in.force_login(person)
    assert signed_in.get("/cases/").status_code == 200
    root = User.objects.create_superuser(username="root", password="x-Long-enough-9")
    two_step.reset(person, actor=root)
    assert signed_in.get("/cases/").status_code == 302
    assert two_step.is_on(person) is False


def test_before_any_reset_the_session_hash_is_djangos_own(world: World):
    """Deploying the sign-in generation signed no one out."""
    person = world.persona("dispatcher")
    django_hash = AbstractBaseUser.get_session_auth_hash(person)
    assert person.sign_in_epoch == 0
    assert person.get_session_auth_hash() == django_hash
    person.sign_in_epoch = 1
    assert person.get_session_auth_hash() != django_hash


def test_a_backup_code_signs_in_once(world: World):
    person = world.persona("dispatcher")
    device = two_step.pending_device(person)
    codes = two_step.turn_on(person, code_for(device), None)
    client = browser()
    password_step(client, "dispatcher")
    before = last_event_pk()
    typed = codes[3].lower().replace("-", " ")  # as people type them
    signed_in = client.post("/accounts/login/code/", {"code": typed})
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/")
    events = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    assert [(e.action, e.subject_label) for e in events] == [
        ("two_step.backup_code_used", "dispatcher"),
        ("session.signed_in", "dispatcher"),
    ]
    assert events[0].data["backup_codes_left"] == 9
    assert codes[3] not in json.dumps(events[0].data)

    again = browser()
    password_step(again, "dispatcher")
    used = again.post("/accounts/login/code/", {"code": codes[3]})
    assert used.status_code == 400
    assert "_auth_user_id" not in again.session
    token = browser().post(
        "/api/v1/auth/token",
        json.dumps({"username": "dispatcher", "password": DEMO_PASSWORD, "code": codes[4]}),
        content_type="application/json",
    )
    assert token.status_code == 200
    assert two_step.backup_codes_left(person) == 8


def test_new_backup_codes_replace_the_old_and_take_the_apps_code(world: World):
    person = world.persona("dispatcher")
    device = two_step.pending_device(person)
    old = two_step.turn_on(person, code_for(device), None)
    device.refresh_from_db()
    client = browser()
    client.force_login(person)
    page = client.get("/accounts/me/two-step/").content.decode()
    assert "10 unused backup codes." in page
    refused = client.post("/accounts/me/two-step/", {"code": old[0], "action": "codes"})
    assert refused.status_code == 400
    assert "The code is six digits." in refused.content.decode()
    before = last_event_pk()
    made = client.post(
        "/accounts/me/two-step/", {"code": code_for(device, steps_ahead=1), "action": "codes"}
    )
    assert made.status_code == 200
    new = shown_codes(made)
    assert len(new) == 10
    assert set(new).isdisjoint(old)
    assert actions_since(before) == [("two_step.backup_codes_replaced", "dispatcher")]
    with pytest.raises(two_step.WrongCode):
        two_step.verify(person, device, old[1], None)
    two_step.verify(person, device, new[1], None)


def test_a_backup_code_turns_it_off_when_the_phone_is_lost(world: World):
    person = world.persona("dispatcher")
    device = two_step.pending_device(person)
    codes = two_step.turn_on(person, code_for(device), None)
    two_step.turn_off(person, codes[0], None)
    assert two_step.is_on(person) is False
    assert BackupCode.objects.filter(user=person).count() == 0


def test_turned_off_between_the_two_steps_the_password_was_enough(world: World):
    person = world.persona("dispatcher")
    device = two_step.pending_device(person)
    codes = two_step.turn_on(person, code_for(device), None)
    client = browser()
    password_step(client, "dispatcher")
    two_step.turn_off(person, codes[0], None)  # from another browser, with a backup code
    signed_in = client.post("/accounts/login/code/", {"code": "000000"})
    assert (signed_in.status_code, signed_in["Location"]) == (302, "/")
    assert client.session["_auth_user_id"] == str(person.pk)
    assert DEVICE_ID_SESSION_KEY not in client.session
