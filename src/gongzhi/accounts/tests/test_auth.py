from __future__ import annotations

import json
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gongzhi.accounts.auth import find_valid_key, hash_secret, split_key
from gongzhi.accounts.choices import Capability
from gongzhi.accounts.models import ApiKey, User
from gongzhi.accounts.queries import active_memberships, scope_of
from gongzhi.accounts.services import issue_api_key, issue_personal_token, revoke_api_key
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


def test_demo_personas_cannot_log_in_when_demo_logins_are_off(db, settings):
    settings.DEMO_LOGINS_ENABLED = False
    assert authenticate(username="city_admin", password=DEMO_PASSWORD) is None
    client = Client()
    response = client.post(
        "/accounts/login/", {"username": "city_admin", "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200  # the form again, with an error
    assert "_auth_user_id" not in client.session
    assert client.get("/").status_code == 302
    api = Client().post(
        "/api/v1/auth/token",
        json.dumps({"username": "city_admin", "password": DEMO_PASSWORD}),
        content_type="application/json",
    )
    assert api.status_code == 401
    assert api.json()["code"] == "invalid_credentials"


def test_a_token_issued_before_the_lock_stops_working(db, settings):
    token = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD).token
    assert find_valid_key(token) is not None
    settings.DEMO_LOGINS_ENABLED = False
    assert find_valid_key(token) is None


def test_ordinary_accounts_log_in_whatever_the_demo_switch(db, settings):
    settings.DEMO_LOGINS_ENABLED = False
    User.objects.create_user(username="real_person", password="a-long-real-password-1")
    assert authenticate(username="real_person", password="a-long-real-password-1") is not None


def test_login_page_logs_in_and_redirects_home(db):
    client = Client()
    response = client.post("/accounts/login/", {"username": "handler", "password": DEMO_PASSWORD})
    assert (response.status_code, response.headers["Location"]) == (302, "/")
    assert client.get("/").status_code == 200


@pytest.mark.parametrize(
    "raw",
    ["", "gz", "gz__", "gz_abc", "xx_abc_def", "gz_abc_", "Bearer gz_a_b", "gz_" + "a" * 5000],
)
def test_malformed_keys_are_rejected(db, raw):
    assert find_valid_key(raw) is None


def test_split_key_allows_underscores_in_the_secret():
    assert split_key("gz_abc123_se_cr_et") == ("abc123", "se_cr_et")


def test_only_the_hash_of_a_key_is_stored(world: World):
    admin = world.persona("city_admin")
    issued = issue_api_key(unit=world.command_centre, name="区热线系统", actor=admin)
    stored = ApiKey.objects.get(pk=issued.key.pk)
    secret = issued.token.split("_", 2)[2]
    assert secret not in stored.secret_hash
    assert stored.secret_hash == hash_secret(secret)
    assert find_valid_key(issued.token) == stored
    assert find_valid_key(issued.token[:-1] + ("A" if issued.token[-1] != "A" else "B")) is None


def test_revoked_and_expired_keys_do_not_authenticate(world: World):
    admin = world.persona("city_admin")
    issued = issue_api_key(unit=world.command_centre, name="旧系统", actor=admin)
    revoke_api_key(issued.key, actor=admin, reason="停用")
    assert find_valid_key(issued.token) is None

    personal = issue_personal_token(None, username="auditor", password=DEMO_PASSWORD)
    ApiKey.objects.filter(pk=personal.key.pk).update(
        expires_at=timezone.now() - timedelta(seconds=1)
    )
    assert find_valid_key(personal.token) is None


def test_integration_key_can_ask_who_it_is_but_not_use_staff_endpoints(world: World):
    admin = world.persona("city_admin")
    issued = issue_api_key(unit=world.command_centre, name="开放接口客户端", actor=admin)
    client = Client(headers={"Authorization": f"Bearer {issued.token}"})
    me = client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json() == {
        "kind": "integration",
        "username": None,
        "display_name": None,
        "is_staff_member": False,
        "memberships": [],
        "unit_id": world.command_centre.pk,
        "api_key_name": "开放接口客户端",
    }
    assert client.get("/api/v1/regions").json()["count"] == 0
    denied = client.post(
        "/api/v1/api-keys", json.dumps({"unit_id": 1, "name": "x"}), content_type="application/json"
    )
    assert denied.status_code == 403
    # The X-Api-Key header works the same way.
    assert Client(headers={"X-Api-Key": issued.token}).get("/api/v1/me").status_code == 200
    assert ApiKey.objects.get(pk=issued.key.pk).last_used_at is not None


def test_memberships_are_read_without_their_regions_outlines(world: World):
    """Scopes need a region's path; its outline (large for a real district) stays unread."""
    person = world.persona("dispatcher")
    with CaptureQueriesContext(connection) as queries:
        memberships = active_memberships(person)
    assert len(queries) == 1
    assert "boundary" not in queries[0]["sql"]
    assert "path" in queries[0]["sql"]
    expected = world.membership_of("dispatcher").region.path
    assert [m.region.path for m in memberships] == [expected]
    assert scope_of(person, Capability.DISPATCH_CASES).paths == (expected,)
