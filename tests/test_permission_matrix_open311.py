"""The Open311 endpoints (/open311/v2/), for every kind of caller: status, and on denial,
that nothing changed.

Open311 is public by the spec: every GET answers anyone the same, and a session changes
nothing (a logged-in staff member reads exactly what the public reads). Only POST requests
needs a key: a live integration key (``api_key`` field, or ``X-Api-Key``). A key that is
revoked, unknown or personal is refused with 403 wherever it is presented.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.services import issue_api_key, system_actor
from gongzhi.cases import services as case_services
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World
from gongzhi.open311.queries import ApiKey, Case, Submission
from gongzhi.open311.tests.support import BASE, JPEG, at_grid_1, greening_code

COVERED_VIEWS = {
    "discovery",
    "services",
    "service",
    "requests",
    "request",
    "token",
    "updates",
    "media",
    "openapi",
    "not-found",
}

ANON, KEY, REVOKED = "anonymous", "integration key", "revoked key"
SESSIONS = [
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
CALLERS = [ANON, KEY, REVOKED, *SESSIONS]


def everyone(status: int) -> dict[str, int]:
    table = dict.fromkeys(CALLERS, status)
    table[REVOKED] = 403
    return table


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[dict[str, Any]], str]
    expected: dict[str, int]


ROWS = [
    Row("discovery", "GET", lambda c: f"{BASE}/discovery.xml", everyone(200)),
    Row("services", "GET", lambda c: f"{BASE}/services.json", everyone(200)),
    Row("service", "GET", lambda c: f"{BASE}/services/{c['code']}.xml", everyone(200)),
    Row("requests", "GET", lambda c: f"{BASE}/requests.json?extensions=true", everyone(200)),
    Row("request", "GET", lambda c: f"{BASE}/requests/{c['number']}.xml", everyone(200)),
    Row("token", "GET", lambda c: f"{BASE}/tokens/{c['token']}.json", everyone(200)),
    Row("updates", "GET", lambda c: f"{BASE}/servicerequestupdates.json", everyone(200)),
    Row("media", "GET", lambda c: c["photo"], everyone(200)),
    Row("openapi", "GET", lambda c: f"{BASE}/openapi.json", everyone(200)),
    Row("not-found", "GET", lambda c: f"{BASE}/nothing-here.json", everyone(404)),
]


@pytest.fixture
def context(world: World, settings: Any, tmp_path: Any) -> dict[str, Any]:
    settings.MEDIA_ROOT = tmp_path
    cache.clear()
    live = issue_api_key(unit=world.command_centre, name="Matrix client", actor=system_actor())
    revoked = issue_api_key(unit=world.command_centre, name="Old client", actor=system_actor())
    ApiKey.objects.filter(pk=revoked.key.pk).update(revoked_at=timezone.now())
    response = Client().post(
        f"{BASE}/requests.json",
        {"api_key": live.token, "service_code": greening_code(), **at_grid_1(world)},
    )
    number = json.loads(response.content)[0]["service_request_id"]
    case = submit(world)
    photo = case_services.attach_file(
        case, actor=world.persona("dispatcher"), content=JPEG, is_public=True
    )
    return {
        "key": live.token,
        "revoked": revoked.token,
        "code": greening_code(),
        "number": number,
        "token": Submission.objects.get(case__number=number).token,
        "photo": f"{BASE}/media/{photo.pk}.jpg",
    }


def caller(name: str, context: dict[str, Any]) -> tuple[Client, dict[str, str]]:
    client = Client()
    if name == KEY:
        return client, {"X-Api-Key": context["key"]}
    if name == REVOKED:
        return client, {"X-Api-Key": context["revoked"]}
    if name != ANON:
        client.force_login(World.load().persona(name))
    return client, {}


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_public_views(world: World, context: dict[str, Any], row: Row):
    bodies = {}
    for name in CALLERS:
        client, headers = caller(name, context)
        response = client.get(row.url(context), headers=headers)
        assert response.status_code == row.expected[name], (row.name, name)
        if name != REVOKED:
            bodies[name] = response.getvalue()  # streamed (photos) or not
    # A session or a key shows nothing more than the public sees.
    assert len(set(bodies.values())) == 1, row.name


SUBMIT_EXPECTED = dict.fromkeys(CALLERS, 403) | {KEY: 200}


@pytest.mark.parametrize("name", CALLERS)
def test_submitting_needs_a_live_integration_key(world, context: dict[str, Any], name: str):
    client, headers = caller(name, context)
    form = {"service_code": greening_code(), "description": "矩阵测试", **at_grid_1(world)}
    if name in {KEY, REVOKED}:
        form["api_key"] = headers.pop("X-Api-Key")
    before = Case.objects.filter(channel="open311").count()
    response = client.post(f"{BASE}/requests.xml", form, headers=headers)
    assert response.status_code == SUBMIT_EXPECTED[name]
    after = Case.objects.filter(channel="open311").count()
    assert after == before + (1 if response.status_code == 200 else 0)


def test_a_photo_that_is_not_public_is_404_for_everyone(world, context: dict[str, Any]):
    case = submit(world)
    hidden = case_services.attach_file(case, actor=world.persona("dispatcher"), content=JPEG)
    for name in [ANON, KEY, "dispatcher", "city_admin"]:
        client, headers = caller(name, context)
        response = client.get(f"{BASE}/media/{hidden.pk}.jpg", headers=headers)
        assert response.status_code == 404, name
