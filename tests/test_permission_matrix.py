"""Every view and endpoint, for every persona: the status it gets, and on denial, that
nothing changed.

The matrix is data (like netbox's ViewTestCases): one row per view or endpoint with the
status each persona must get. Personas act over (see conftest.py):

- resident: nothing (a resident has no staff scope)
- grid_worker: grid 1 of community 1 of street 1 of district 1
- street_officer, mediator: street 1
- handler, district_leader: district 1
- dispatcher, city_admin, auditor, assessor: the city

"Not visible" answers 404 exactly like "missing"; "visible but not allowed" answers 403.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.accounts.services import issue_api_key, issue_personal_token
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for
from gongzhi.territory.models import Region, Unit

ANON = "anonymous"
PERSONAS = [
    ANON,
    "resident",
    "grid_worker",
    "dispatcher",
    "street_officer",
    "handler",
    "district_leader",
    "city_admin",
    "auditor",
    "mediator",
    "assessor",
]
CITY_LEVEL = {"dispatcher", "city_admin", "auditor", "assessor"}
STAFF = set(PERSONAS) - {ANON, "resident"}


def statuses(default: int, anonymous: int = 302, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(PERSONAS, default)
    table[ANON] = anonymous
    table.update(overrides)
    return table


def only(
    allowed: set[str], yes: int, no: int, anonymous: int = 302, **overrides: int
) -> dict[str, int]:
    table = {p: (yes if p in allowed else no) for p in PERSONAS}
    table[ANON] = anonymous
    table.update(overrides)
    return table


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[World, dict[str, Any]], str]
    expected: dict[str, int]
    data: Callable[[World], dict[str, Any]] | None = None
    # A snapshot of what the request could change: equal after a denial, different after success.
    state: Callable[[World, dict[str, Any]], Any] | None = None
    changes_on: set[int] = field(default_factory=lambda: {200, 201, 302})
    api: bool = False


def region_name(code: str) -> Callable[[World, dict[str, Any]], Any]:
    return lambda w, ctx: Region.objects.get(code=code).name


def unit_state(w: World, ctx: dict[str, Any]) -> Any:
    return Unit.objects.filter(pk=w.command_centre.pk).values("name", "phone").get()


def memberships_state(w: World, ctx: dict[str, Any]) -> Any:
    return sorted(Membership.objects.filter(is_active=True).values_list("pk", flat=True))


def keys_state(w: World, ctx: dict[str, Any]) -> Any:
    return sorted(
        (str(k.pk), k.revoked_at is None) for k in ApiKey.objects.filter(kind="integration")
    )


WEB_ROWS = [
    Row("home", "GET", lambda w, c: "/", statuses(200)),
    Row("profile", "GET", lambda w, c: "/accounts/me/", statuses(200)),
    # Everyone's own two-step verification (tested further in accounts/tests/test_two_step.py).
    Row("two-step", "GET", lambda w, c: "/accounts/me/two-step/", statuses(200)),
    Row("password", "GET", lambda w, c: "/accounts/me/password/", statuses(200)),
    Row("region tree", "GET", lambda w, c: "/regions/", only(STAFF, 200, 403)),
    Row("city region", "GET", lambda w, c: f"/regions/{w.city.pk}/", only(CITY_LEVEL, 200, 404)),
    Row(
        "district 2 region",
        "GET",
        lambda w, c: f"/regions/{w.district_2.pk}/",
        only(CITY_LEVEL, 200, 404),
    ),
    Row(
        "district 1 region",
        "GET",
        lambda w, c: f"/regions/{w.district_1.pk}/",
        only(CITY_LEVEL | {"handler", "district_leader"}, 200, 404),
    ),
    Row("grid 1 region", "GET", lambda w, c: f"/regions/{w.grid_1.pk}/", only(STAFF, 200, 404)),
    Row(
        "street 1 children",
        "GET",
        lambda w, c: f"/regions/{w.street_1.pk}/children/",
        only(STAFF - {"grid_worker"}, 200, 404),
    ),
    Row(
        "edit city form",
        "GET",
        lambda w, c: f"/regions/{w.city.pk}/edit/",
        only({"city_admin"}, 200, 404, dispatcher=403, auditor=403, assessor=403),
    ),
    Row(
        "edit city",
        "POST",
        lambda w, c: f"/regions/{w.city.pk}/edit/",
        only({"city_admin"}, 302, 404, dispatcher=403, auditor=403, assessor=403),
        data=lambda w: {"name": "新示范市", "reason": "matrix"},
        state=region_name("990100000000"),
    ),
    Row(
        "edit grid 1 (inside everyone's scope)",
        "POST",
        lambda w, c: f"/regions/{w.grid_1.pk}/edit/",
        only({"city_admin"}, 302, 403, anonymous=302, resident=404),
        data=lambda w: {"name": "改名网格", "reason": "matrix"},
        state=region_name("990102001001001"),
    ),
    Row("unit list", "GET", lambda w, c: "/units/", only(STAFF, 200, 403)),
    Row(
        "command centre (serves the whole city)",
        "GET",
        lambda w, c: f"/units/{w.command_centre.pk}/",
        only(STAFF, 200, 404),
    ),
    Row(
        "district 2 government",
        "GET",
        lambda w, c: f"/units/{w.district_2_government.pk}/",
        only(CITY_LEVEL, 200, 404),
    ),
    Row(
        "edit command centre",
        "POST",
        lambda w, c: f"/units/{w.command_centre.pk}/edit/",
        only({"city_admin"}, 302, 403, resident=404),
        data=lambda w: {"name": "指挥中心（改）", "phone": "12345", "is_active": "on"},
        state=unit_state,
    ),
    Row(
        "grant a role",
        "POST",
        lambda w, c: f"/units/{w.command_centre.pk}/members/",
        only({"city_admin"}, 302, 403, resident=404),
        data=lambda w: {
            "username": "resident",
            "role": "dispatcher",
            "region_code": "990100000000",
        },
        state=memberships_state,
    ),
    Row(
        "revoke a role",
        "POST",
        lambda w, c: f"/memberships/{w.membership_of('grid_worker').pk}/revoke/",
        only({"city_admin"}, 302, 404),
        data=lambda w: {"reason": "matrix"},
        state=memberships_state,
    ),
    Row("API keys", "GET", lambda w, c: "/accounts/api-keys/", only({"city_admin"}, 200, 403)),
    Row(
        "issue an API key",
        "POST",
        lambda w, c: "/accounts/api-keys/",
        only({"city_admin"}, 200, 403),
        data=lambda w: {"unit_id": w.command_centre.pk, "name": "矩阵测试"},
        state=keys_state,
    ),
    Row(
        "revoke an API key",
        "POST",
        lambda w, c: f"/accounts/api-keys/{c['key'].pk}/revoke/",
        only({"city_admin"}, 302, 404),
        data=lambda w: {"reason": "matrix"},
        state=keys_state,
    ),
    Row(
        "audit log",
        "GET",
        lambda w, c: "/accounts/audit/",
        only({"city_admin", "auditor"}, 200, 403),
    ),
    Row("back office", "GET", lambda w, c: "/admin/", only({"city_admin"}, 200, 302)),
    Row(
        "back office regions",
        "GET",
        lambda w, c: "/admin/territory/region/",
        only({"city_admin"}, 200, 302),
    ),
]


def active_tokens(w: World, ctx: dict[str, Any]) -> Any:
    return ApiKey.objects.filter(kind="personal", revoked_at__isnull=True).count()


API_ROWS = [
    Row(
        "api log out",
        "DELETE",
        lambda w, c: "/api/v1/auth/token",
        statuses(204, anonymous=401),
        state=active_tokens,
        changes_on={204},
        api=True,
    ),
    Row("api me", "GET", lambda w, c: "/api/v1/me", statuses(200, anonymous=401), api=True),
    Row(
        "api regions", "GET", lambda w, c: "/api/v1/regions", statuses(200, anonymous=401), api=True
    ),
    Row(
        "api city region",
        "GET",
        lambda w, c: f"/api/v1/regions/{w.city.pk}",
        only(CITY_LEVEL, 200, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api street 1 children",
        "GET",
        lambda w, c: f"/api/v1/regions/{w.street_1.pk}/children",
        only(STAFF - {"grid_worker"}, 200, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api patch city",
        "PATCH",
        lambda w, c: f"/api/v1/regions/{w.city.pk}",
        only({"city_admin"}, 200, 404, anonymous=401, dispatcher=403, auditor=403, assessor=403),
        data=lambda w: {"name": "新示范市", "reason": "matrix"},
        state=region_name("990100000000"),
        api=True,
    ),
    Row("api units", "GET", lambda w, c: "/api/v1/units", statuses(200, anonymous=401), api=True),
    Row(
        "api district 2 government",
        "GET",
        lambda w, c: f"/api/v1/units/{w.district_2_government.pk}",
        only(CITY_LEVEL, 200, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api patch command centre",
        "PATCH",
        lambda w, c: f"/api/v1/units/{w.command_centre.pk}",
        only({"city_admin"}, 200, 403, anonymous=401, resident=404),
        data=lambda w: {"phone": "12345-0"},
        state=unit_state,
        api=True,
    ),
    Row(
        "api grant a role",
        "POST",
        lambda w, c: f"/api/v1/units/{w.command_centre.pk}/memberships",
        only({"city_admin"}, 201, 403, anonymous=401, resident=404),
        data=lambda w: {"username": "resident", "role": "dispatcher", "region_id": w.city.pk},
        state=memberships_state,
        api=True,
    ),
    Row(
        "api revoke a role",
        "POST",
        lambda w, c: f"/api/v1/memberships/{w.membership_of('grid_worker').pk}/revoke",
        only({"city_admin"}, 200, 404, anonymous=401),
        data=lambda w: {"reason": "matrix"},
        state=memberships_state,
        api=True,
    ),
    Row("api keys", "GET", lambda w, c: "/api/v1/api-keys", statuses(200, anonymous=401), api=True),
    Row(
        "api issue a key",
        "POST",
        lambda w, c: "/api/v1/api-keys",
        only({"city_admin"}, 201, 403, anonymous=401, resident=404),
        data=lambda w: {"unit_id": w.command_centre.pk, "name": "矩阵测试"},
        state=keys_state,
        api=True,
    ),
    Row(
        "api revoke a key",
        "POST",
        lambda w, c: f"/api/v1/api-keys/{c['key'].pk}/revoke",
        only({"city_admin"}, 200, 404, anonymous=401),
        data=lambda w: {"reason": "matrix"},
        state=keys_state,
        api=True,
    ),
]


def send(client: Client, row: Row, url: str, world: World, headers: dict[str, str]) -> Any:
    data = row.data(world) if row.data else {}
    if row.method == "GET":
        return client.get(url, headers=headers)
    if row.api:
        return client.generic(
            row.method, url, json.dumps(data), content_type="application/json", headers=headers
        )
    return client.post(url, data, headers=headers)


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", WEB_ROWS + API_ROWS, ids=lambda r: r.name)
def test_permission_matrix(row: Row, persona: str, world: World) -> None:
    admin = User.objects.get(username="city_admin")
    ctx = {"key": issue_api_key(unit=world.command_centre, name="已有密钥", actor=admin).key}
    headers: dict[str, str] = {}
    if row.api:
        client = Client()
        if persona != ANON:
            token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
            headers["Authorization"] = f"Bearer {token}"
    else:
        client = client_for(None if persona == ANON else persona)

    before = row.state(world, ctx) if row.state else None
    audit_before = AuditEvent.objects.count()
    response = send(client, row, row.url(world, ctx), world, headers)

    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:300])
    if row.api and expected >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] in {"not_found", "permission_denied", "not_authenticated"}
    if row.state is None:
        return
    after = row.state(world, ctx)
    if expected in row.changes_on and persona != ANON:  # anonymous 302 is the login redirect
        assert after != before, f"{row.name} as {persona} should have changed something"
        assert AuditEvent.objects.count() == audit_before + 1
    else:
        assert after == before, f"{row.name} as {persona} was denied but changed something"
        assert AuditEvent.objects.count() == audit_before


# Names this module covers; tests/test_matrix_coverage.py checks that every URL is covered.
COVERED_VIEWS = {
    "home",
    "profile",
    "two-step",
    "password",
    # one's own tokens only (accounts/tests/test_password_change.py: others' are not found)
    "revoke-own-token",
    "regions",
    "region",
    "region-children",
    "region-edit",
    "units",
    "unit",
    "unit-edit",
    "grant-membership",
    "revoke-membership",
    "api-keys",
    "revoke-api-key",
    "audit",
    # public by design, tested in accounts/tests: the login page and its code step, logout,
    # the language switch
    "set_language",
    "login",
    "two-step-login",
    "logout",
}
COVERED_OPERATIONS = {
    "create_token",  # public by design, tested in accounts/tests/test_api.py
    "delete_token",
    "me",
    "grant_membership",
    "revoke_membership",
    "list_api_keys",
    "issue_api_key",
    "revoke_api_key",
    "list_regions",
    "get_region",
    "region_children",
    "patch_region",
    "list_units",
    "get_unit",
    "patch_unit",
}
