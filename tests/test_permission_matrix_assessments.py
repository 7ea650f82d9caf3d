"""Indicator systems, assessments and rectification lists: every page and API operation, for
every persona, and on denial that nothing changed.

Who acts over what (see tests/test_permission_matrix.py): dispatcher, city_admin, auditor and
assessor the city; district_leader and handler 明湖区; street_officer and mediator street 1;
grid_worker grid 1. Evaluation: VIEW_EVALUATION dispatcher, district_leader, city_admin,
auditor, assessor; MANAGE_EVALUATION city_admin; ASSESS assessor. RECTIFY for their own
unit: handler (明湖区城管局), street_officer (春山街道办事处), district_leader (明湖区人民政府,
the owner of 明湖区's rectifications).

The system is the city's trial evaluation of its two districts (assessment_fixtures.py)
without cases: computed indicators earn 0, so 明湖区 (32.00) ranks above 东岳区 (25.00).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.services import issue_personal_token
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import (
    Indicator,
    IndicatorScore,
    IndicatorSystem,
    RectificationEvent,
    RectificationItem,
)
from gongzhi.evaluation.tests.assessment_fixtures import assessment_of, draft_system, indicator

ANON = None
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
VIEWERS = {"dispatcher", "district_leader", "city_admin", "auditor", "assessor"}
CITY_VIEWERS = VIEWERS - {"district_leader"}
USERS = VIEWERS | {"handler", "street_officer"}  # may open the lists at all
PDF = b"%PDF-1.7\n" + b"0" * 32

COVERED_VIEWS = {
    "systems",
    "new_system",
    "system",
    "new_indicator",
    "edit_indicator",
    "remove_indicator",
    "system_xlsx",
    "system_action",
    "generate_rectifications",
    "assessment",
    "enter_score",
    "rectifications",
    "rectification",
    "submit_rectification",
    "decide_rectification",
    "evidence_file",
}
COVERED_OPERATIONS = {
    "list_indicator_systems",
    "create_indicator_system",
    "get_indicator_system",
    "add_indicator",
    "update_indicator",
    "remove_indicator",
    "activate_indicator_system",
    "compute_indicator_scores",
    "close_indicator_system",
    "generate_rectification_list",
    "get_assessment",
    "enter_indicator_score",
    "list_rectifications",
    "get_rectification",
    "submit_rectification_report",
    "accept_rectification_item",
    "reject_rectification_item",
}


@dataclass
class Ctx:
    world: World
    system: IndicatorSystem

    @property
    def east(self) -> Any:
        return assessment_of(self.system, self.world.district_2.name)

    @property
    def west(self) -> Any:
        return assessment_of(self.system, self.world.district_1.name)

    @property
    def item(self) -> RectificationItem:
        """明湖区's item for 1.1 (owned by 明湖区人民政府)."""
        return RectificationItem.objects.get(assessment=self.west, indicator__code="1.1")

    def ind(self, code: str) -> int:
        return indicator(self.system, code).pk


def deadline() -> dt.date:
    return timezone.localdate() + dt.timedelta(days=30)


def draft(w: World) -> Ctx:
    return Ctx(w, draft_system(w))


def active(w: World) -> Ctx:
    ctx = draft(w)
    assessments.activate_system(ctx.system, actor=w.persona("city_admin"))
    return ctx


def scored(w: World) -> Ctx:
    ctx = active(w)
    for subject, code, value in (
        (ctx.west, "2", "0.962"),
        (ctx.west, "3", "1"),
        (ctx.east, "2", "0.89"),
        (ctx.east, "3", "0"),
    ):
        assessments.enter_score(
            subject,
            indicator(ctx.system, code),
            actor=w.persona("assessor"),
            value=value,
            evidence="调查报告",
            evidence_file=PDF if subject == ctx.west and code == "2" else None,
        )
    return ctx


def closed(w: World) -> Ctx:
    ctx = scored(w)
    assessments.close_system(ctx.system, actor=w.persona("city_admin"))
    return ctx


def listed(w: World) -> Ctx:
    ctx = closed(w)
    assessments.generate_rectifications(
        ctx.system, actor=w.persona("city_admin"), deadline=deadline(), below="0.6"
    )
    return ctx


def submitted(w: World) -> Ctx:
    ctx = listed(w)
    assessments.submit_rectification(ctx.item, actor=w.persona("district_leader"), report="已整改")
    return ctx


def snapshot() -> tuple[Any, ...]:
    return (
        sorted(IndicatorSystem.objects.values_list("pk", "state", "computed_at")),
        sorted(
            (pk, code, name, str(weight))
            for pk, code, name, weight in Indicator.objects.values_list(
                "pk", "code", "name", "weight"
            )
        ),
        sorted(
            (str(v), str(p), e)
            for v, p, e in IndicatorScore.objects.values_list("value", "points", "entered_at")
        ),
        sorted(RectificationItem.objects.values_list("pk", "state")),
        RectificationEvent.objects.count(),
        AuditEvent.objects.count(),
    )


def table(ok: int, allowed: set[str], sees: set[str], anon: int = 302) -> dict[str | None, int]:
    result: dict[str | None, int] = {
        p: ok if p in allowed else 403 if p in sees else 404 for p in PERSONAS if p
    }
    result[ANON] = anon
    return result


def everyone_but(ok: int, users: set[str], anon: int = 302) -> dict[str | None, int]:
    result: dict[str | None, int] = {p: ok if p in users else 403 for p in PERSONAS if p}
    result[ANON] = anon
    return result


@dataclass
class Row:
    name: str
    method: str
    setup: Callable[[World], Ctx]
    url: Callable[[Ctx], str]
    expected: dict[str | None, int]
    data: Callable[[Ctx], dict[str, Any]] | None = None


def evidence_url(ctx: Ctx) -> str:
    score = IndicatorScore.objects.get(assessment=ctx.west, indicator__code="2")
    return f"/evaluation/evidence/{score.evidence_file_id}/"


def new_system_form(c: Ctx) -> dict[str, Any]:
    return {
        "name": "2027年度考评",
        "kind": "annual",
        "region": str(c.world.city.pk),
        "first_month": "2027-01",
        "last_month": "2027-12",
        "subject_kind": "region",
        "subject_level": "2",
        "subject_unit_kind": "",
        "description": "",
    }


def indicator_form(**changes: str) -> dict[str, Any]:
    return {
        "source": "entered",
        "parent": "",
        "code": "4",
        "name": "网络安全事件",
        "criteria": "",
        "weight": "5",
        "figure": "",
        "higher_is_better": "0",
        "rule_kind": "deduction",
        "floor": "",
        "target": "",
        "steps": "",
        "per_event": "2.5",
        **changes,
    }


VIEW_ROWS = [
    Row("systems", "GET", active, lambda c: "/evaluation/systems/", everyone_but(200, USERS)),
    Row(
        "new system form",
        "GET",
        active,
        lambda c: "/evaluation/systems/new/",
        everyone_but(200, {"city_admin"}),
    ),
    Row(
        "create a system",
        "POST",
        active,
        lambda c: "/evaluation/systems/new/",
        everyone_but(302, {"city_admin"}),
        new_system_form,
    ),
    Row(
        "add indicator form",
        "GET",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/new/",
        table(200, {"city_admin"}, set()),
    ),
    Row(
        "add indicator form of an active system",
        "GET",
        active,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/new/",
        table(409, {"city_admin"}, VIEWERS),
    ),
    Row(
        "add an indicator",
        "POST",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/new/",
        table(302, {"city_admin"}, set()),
        lambda c: indicator_form(),
    ),
    Row(
        "edit indicator form",
        "GET",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}/edit/",
        table(200, {"city_admin"}, set()),
    ),
    Row(
        "edit an indicator",
        "POST",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}/edit/",
        table(302, {"city_admin"}, set()),
        lambda c: indicator_form(code="3", name="重大事件", weight="10", per_event="2"),
    ),
    Row(
        "remove an indicator",
        "POST",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}/remove/",
        table(302, {"city_admin"}, set()),
        lambda c: {},
    ),
    Row(
        "remove an indicator of an active system",
        "POST",
        active,
        lambda c: f"/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}/remove/",
        table(409, {"city_admin"}, VIEWERS),
        lambda c: {},
    ),
    Row(
        "draft system",
        "GET",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/",
        table(200, {"city_admin"}, set()),
    ),
    Row(
        "system",
        "GET",
        active,
        lambda c: f"/evaluation/systems/{c.system.pk}/",
        table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "results as Excel",
        "GET",
        active,
        lambda c: f"/evaluation/systems/{c.system.pk}.xlsx",
        table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "activate",
        "POST",
        draft,
        lambda c: f"/evaluation/systems/{c.system.pk}/activate/",
        table(302, {"city_admin"}, set()),
        lambda c: {},
    ),
    Row(
        "compute",
        "POST",
        active,
        lambda c: f"/evaluation/systems/{c.system.pk}/compute/",
        table(302, {"city_admin"}, VIEWERS),
        lambda c: {},
    ),
    Row(
        "close",
        "POST",
        scored,
        lambda c: f"/evaluation/systems/{c.system.pk}/close/",
        table(302, {"city_admin"}, VIEWERS),
        lambda c: {},
    ),
    Row(
        "generate form",
        "GET",
        closed,
        lambda c: f"/evaluation/systems/{c.system.pk}/rectifications/",
        table(200, {"city_admin"}, VIEWERS),
    ),
    Row(
        "generate",
        "POST",
        closed,
        lambda c: f"/evaluation/systems/{c.system.pk}/rectifications/",
        table(302, {"city_admin"}, VIEWERS),
        lambda c: {"below_percent": "60", "bottom": "1", "deadline": deadline().isoformat()},
    ),
    Row(
        "assessment of 明湖区",
        "GET",
        active,
        lambda c: f"/evaluation/assessments/{c.west.pk}/",
        table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "assessment of 东岳区",
        "GET",
        active,
        lambda c: f"/evaluation/assessments/{c.east.pk}/",
        table(200, CITY_VIEWERS, CITY_VIEWERS),
    ),
    Row(
        "score form",
        "GET",
        active,
        lambda c: f"/evaluation/assessments/{c.west.pk}/indicators/{c.ind('2')}/",
        table(200, {"assessor"}, VIEWERS),
    ),
    Row(
        "enter a score",
        "POST",
        active,
        lambda c: f"/evaluation/assessments/{c.west.pk}/indicators/{c.ind('2')}/",
        table(302, {"assessor"}, VIEWERS),
        lambda c: {"value": "0.95", "evidence": "调查报告", "evidence_reference": ""},
    ),
    Row(
        "evidence file",
        "GET",
        scored,
        evidence_url,
        table(200, VIEWERS, set()),
    ),
    Row(
        "rectifications",
        "GET",
        listed,
        lambda c: "/evaluation/rectifications/?mine=1",
        everyone_but(200, USERS),
    ),
    Row(
        "rectification",
        "GET",
        listed,
        lambda c: f"/evaluation/rectifications/{c.item.pk}/",
        table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "submit",
        "POST",
        listed,
        lambda c: f"/evaluation/rectifications/{c.item.pk}/submit/",
        table(302, {"district_leader"}, VIEWERS),
        lambda c: {"report": "已召开专题会议整改。", "evidence_reference": "明政办〔2026〕1号"},
    ),
    Row(
        "decide",
        "POST",
        submitted,
        lambda c: f"/evaluation/rectifications/{c.item.pk}/decide/",
        table(302, {"assessor"}, VIEWERS),
        lambda c: {"decision": "accept", "note": "同意销号"},
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", VIEW_ROWS, ids=lambda r: r.name)
def test_pages(row: Row, persona: str | None, world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ctx = row.setup(world)
    url = row.url(ctx)
    client = client_for(persona)  # signing in is recorded: before the snapshot
    before = snapshot()
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, row.data(ctx) if row.data else {})
    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:300])
    if row.method == "POST":
        done = persona is not None and expected == 302  # anonymous: redirected to log in
        assert (snapshot() != before) == done, (row.name, persona)


def test_a_denied_upload_is_not_kept(world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ctx = active(world)
    client = client_for("district_leader")
    before = snapshot()
    response = client.post(
        f"/evaluation/assessments/{ctx.west.pk}/indicators/{ctx.ind('2')}/",
        {"value": "1", "evidence": "x", "file": SimpleUploadedFile("a.pdf", PDF)},
    )
    assert response.status_code == 403
    assert snapshot() == before
    assert list(tmp_path.rglob("*.pdf")) == []


# --- the API --------------------------------------------------------------------------------------


def api_table(ok: int, allowed: set[str], sees: set[str]) -> dict[str | None, int]:
    result = table(ok, allowed, sees)
    result[ANON] = 401
    return result


def city_id(c: Ctx) -> dict[str, Any]:
    return {
        "name": "2027年度考评",
        "kind": "annual",
        "region_id": c.world.city.pk,
        "first_month": "2027-01",
        "last_month": "2027-12",
        "subject_level": 2,
    }


CITY_STAFF = {"dispatcher", "city_admin", "auditor", "assessor"}  # the city is visible to them

API_ROWS = [
    Row(
        "list systems",
        "GET",
        active,
        lambda c: "/api/v1/evaluation/systems",
        {**dict.fromkeys(PERSONAS, 200), ANON: 401},
    ),
    Row(
        "create a system",
        "POST",
        active,
        lambda c: "/api/v1/evaluation/systems",
        api_table(201, {"city_admin"}, CITY_STAFF),
        city_id,
    ),
    Row(
        "read a system",
        "GET",
        active,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}",
        api_table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "add an indicator",
        "POST",
        draft,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/indicators",
        api_table(201, {"city_admin"}, set()),
        lambda c: {
            "code": "4",
            "name": "网络安全事件",
            "weight": "5",
            "source": "entered",
            "rule": {"kind": "deduction", "per_event": "2.5"},
            "higher_is_better": False,
        },
    ),
    Row(
        "edit an indicator",
        "PATCH",
        draft,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}",
        api_table(200, {"city_admin"}, set()),
        lambda c: {"name": "重大安全事件", "rule": {"kind": "deduction", "per_event": "2"}},
    ),
    Row(
        "remove an indicator",
        "DELETE",
        draft,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/indicators/{c.ind('3')}",
        api_table(204, {"city_admin"}, set()),
    ),
    Row(
        "activate",
        "POST",
        draft,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/activate",
        api_table(200, {"city_admin"}, set()),
        lambda c: {},
    ),
    Row(
        "compute",
        "POST",
        active,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/compute",
        api_table(200, {"city_admin"}, VIEWERS),
        lambda c: {},
    ),
    Row(
        "close",
        "POST",
        scored,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/close",
        api_table(200, {"city_admin"}, VIEWERS),
        lambda c: {},
    ),
    Row(
        "generate",
        "POST",
        closed,
        lambda c: f"/api/v1/evaluation/systems/{c.system.pk}/rectifications",
        api_table(201, {"city_admin"}, VIEWERS),
        lambda c: {"deadline": deadline().isoformat(), "below": "0.6", "bottom": 1},
    ),
    Row(
        "read an assessment",
        "GET",
        active,
        lambda c: f"/api/v1/evaluation/assessments/{c.west.pk}",
        api_table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "enter a score",
        "POST",
        active,
        lambda c: f"/api/v1/evaluation/assessments/{c.west.pk}/scores",
        api_table(200, {"assessor"}, VIEWERS),
        lambda c: {"indicator_id": c.ind("2"), "value": "0.95", "evidence": "调查报告"},
    ),
    Row(
        "list rectifications",
        "GET",
        listed,
        lambda c: "/api/v1/evaluation/rectifications",
        {**dict.fromkeys(PERSONAS, 200), ANON: 401},
    ),
    Row(
        "read a rectification",
        "GET",
        listed,
        lambda c: f"/api/v1/evaluation/rectifications/{c.item.pk}",
        api_table(200, VIEWERS, VIEWERS),
    ),
    Row(
        "submit",
        "POST",
        listed,
        lambda c: f"/api/v1/evaluation/rectifications/{c.item.pk}/submit",
        api_table(200, {"district_leader"}, VIEWERS),
        lambda c: {"report": "已整改", "evidence_reference": "明政办〔2026〕1号"},
    ),
    Row(
        "accept",
        "POST",
        submitted,
        lambda c: f"/api/v1/evaluation/rectifications/{c.item.pk}/accept",
        api_table(200, {"assessor"}, VIEWERS),
        lambda c: {"note": "同意销号"},
    ),
    Row(
        "reject",
        "POST",
        submitted,
        lambda c: f"/api/v1/evaluation/rectifications/{c.item.pk}/reject",
        api_table(200, {"assessor"}, VIEWERS),
        lambda c: {"reason": "材料不全"},
    ),
]


def api_client(persona: str | None) -> Client:
    if persona is None:
        return Client()
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", API_ROWS, ids=lambda r: r.name)
def test_api(row: Row, persona: str | None, world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    ctx = row.setup(world)
    url = row.url(ctx)
    client = api_client(persona)
    before = snapshot()
    if row.method in {"GET", "DELETE"}:
        response = client.generic(row.method, url)
    else:
        body = json.dumps(row.data(ctx) if row.data else {})
        response = client.generic(row.method, url, body, content_type="application/json")
    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:300])
    if expected >= 400:
        assert response.json()["code"] in {"not_found", "permission_denied", "not_authenticated"}
    if row.method != "GET":
        assert (snapshot() != before) == (expected < 400), (row.name, persona)


@pytest.mark.parametrize("persona", PERSONAS[1:])
def test_lists_are_scoped(persona: str, world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    listed(world)
    client = api_client(persona)
    systems = client.get("/api/v1/evaluation/systems").json()
    items = client.get("/api/v1/evaluation/rectifications").json()
    # 明湖区: 1.1, 1.2, 1.3 (0 points) and 3 (5 < 6); 东岳区: 1.1, 1.2, 1.3 (2: 15 < 18 too)
    expected_items = {
        "district_leader": 4,
        "dispatcher": 8,
        "city_admin": 8,
        "auditor": 8,
        "assessor": 8,
    }.get(persona, 0)
    assert (len(systems), items["count"]) == (1 if persona in VIEWERS else 0, expected_items)
    if persona in VIEWERS:
        detail = client.get(f"/api/v1/evaluation/systems/{systems[0]['id']}").json()
        names = [r["name"] for r in detail["results"]]
        seen = [world.district_1.name] if persona == "district_leader" else None
        assert names == (seen or [world.district_1.name, world.district_2.name])
        assert detail["results"][0]["total"] == str(Decimal("32.00"))
