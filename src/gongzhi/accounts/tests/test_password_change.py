"""The account page: changing one's password (Django's form and validators: this session
stays, the others end and the person's personal tokens are revoked; audited), and one's API
sign-ins, each to end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from django.utils import translation

from gongzhi.accounts.models import User
from gongzhi.accounts.services import issue_personal_token
from gongzhi.accounts.tests.test_two_step import browser, last_event_pk, password_step
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


@pytest.fixture(autouse=True)
def english(settings: Any) -> Iterator[None]:
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def test_a_new_password_keeps_this_session_and_ends_the_others(world: World):
    person = world.persona("dispatcher")
    elsewhere = browser()
    password_step(elsewhere, "dispatcher")
    token = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD).token
    here = browser()
    password_step(here, "dispatcher")
    page = here.get("/accounts/me/password/")
    assert page.status_code == 200
    assert "no-store" not in page.get("Cache-Control", "")  # nothing secret on it

    wrong = here.post(
        "/accounts/me/password/",
        {"old_password": "not-it", "new_password1": "Qz7-lantern-river", "new_password2": "x"},
    )
    assert wrong.status_code == 200
    assert "Your old password was entered incorrectly." in wrong.content.decode()
    weak = here.post(
        "/accounts/me/password/",
        {"old_password": DEMO_PASSWORD, "new_password1": "12345678", "new_password2": "12345678"},
    )
    assert "This password is too common." in weak.content.decode()
    assert elsewhere.get("/cases/").status_code == 200  # nothing changed yet

    before = last_event_pk()
    new = "Qz7-lantern-river"
    done = here.post(
        "/accounts/me/password/",
        {"old_password": DEMO_PASSWORD, "new_password1": new, "new_password2": new},
    )
    assert (done.status_code, done["Location"]) == (302, "/accounts/me/")
    assert here.get("/cases/").status_code == 200
    assert elsewhere.get("/cases/").status_code == 302
    assert browser().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 401
    events = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    assert [(e.action, e.subject_label, e.actor.username, e.reason) for e in events] == [
        ("person.changed", "dispatcher", "dispatcher", ""),
        (
            "personal_token.revoked",
            f"dispatcher ({token.split('_')[1]})",
            "dispatcher",
            "password changed",
        ),
    ]
    assert new not in json.dumps([e.data for e in events])
    person.refresh_from_db()
    assert person.check_password(new)


def test_the_account_page_lists_ones_api_sign_ins_to_end_each(world: World):
    first = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD)
    second = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD)
    others = issue_personal_token(None, username="handler", password=DEMO_PASSWORD)
    client = browser()
    client.force_login(world.persona("dispatcher"))
    page = client.get("/accounts/me/").content.decode()
    assert first.key.prefix in page
    assert second.key.prefix in page
    assert others.key.prefix not in page

    before = last_event_pk()
    done = client.post(f"/accounts/me/tokens/{first.key.pk}/revoke/")
    assert (done.status_code, done["Location"]) == (302, "/accounts/me/")
    events = list(AuditEvent.objects.filter(pk__gt=before))
    assert [(e.action, e.reason) for e in events] == [
        ("personal_token.revoked", "revoked on the account page")
    ]
    me = f"Bearer {first.token}"
    assert browser().get("/api/v1/me", HTTP_AUTHORIZATION=me).status_code == 401
    still = f"Bearer {second.token}"
    assert browser().get("/api/v1/me", HTTP_AUTHORIZATION=still).status_code == 200
    listed = client.get("/accounts/me/").content.decode().split('data-testid="own-tokens"')[1]
    assert first.key.prefix not in listed
    assert second.key.prefix in listed

    # Someone else's token, an unknown one, or one already revoked: not found, nothing changes.
    for key_id in (others.key.pk, first.key.pk, "not-a-key"):
        before = last_event_pk()
        assert client.post(f"/accounts/me/tokens/{key_id}/revoke/").status_code == 404
        assert last_event_pk() == before
    assert client.get(f"/accounts/me/tokens/{second.key.pk}/revoke/").status_code == 405


def test_a_password_set_by_an_administrator_ends_the_persons_api_sign_ins(world: World):
    issued = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD)
    person = world.persona("dispatcher")
    root = User.objects.create_superuser(username="root", password="x-Long-enough-9")
    admin = browser()
    admin.force_login(root)
    url = f"/admin/accounts/user/{person.pk}/password/"
    refused = admin.post(url, {"password1": "short", "password2": "other"})
    assert refused.status_code == 200
    assert (
        browser().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued.token}").status_code == 200
    )

    before = last_event_pk()
    new = "Qz7-lantern-river"
    done = admin.post(url, {"password1": new, "password2": new, "usable_password": "true"})
    assert done.status_code == 302
    assert (
        browser().get("/api/v1/me", HTTP_AUTHORIZATION=f"Bearer {issued.token}").status_code == 401
    )
    events = list(AuditEvent.objects.filter(pk__gt=before).order_by("pk"))
    assert [(e.action, e.actor.username, e.reason) for e in events] == [
        ("person.changed", "root", ""),
        ("personal_token.revoked", "dispatcher", "password set by an administrator"),
    ]
