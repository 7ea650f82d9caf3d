"""The request loop's API operations, for every persona: status, and nothing changed on denial.

The case is the small city's usual one (see cases/tests/test_loop.py): raised by `resident`
in grid 1 of street 1, category 园林绿化环卫, which routes to 春山街道办事处 (where
`street_officer` handles). Who sees it: the resident, the grid worker, the dispatcher, the
district leader, and the city-wide roles; the street officer only once it is dispatched to
the street office; `handler` (district urban bureau) and `mediator` never.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases import services
from gongzhi.cases.models import Case, CaseEvent, CaseRequest
from gongzhi.cases.tests.images import JPEG
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World

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
# Who sees the case before / after it is dispatched to the street office.
SEES_BEFORE = {
    "resident",
    "grid_worker",
    "dispatcher",
    "district_leader",
    "city_admin",
    "auditor",
    "assessor",
}
SEES_AFTER = SEES_BEFORE | {"street_officer"}


def expect(allowed: set[str], ok: int, sees: set[str]) -> dict[str, int]:
    table = {p: (ok if p in allowed else 403 if p in sees else 404) for p in PERSONAS}
    table[ANON] = 401
    return table


def at(state: str) -> Callable[[World], Case]:
    """A fresh case taken to ``state`` by the right personas."""

    def make(w: World) -> Case:
        case = submit(w)
        steps: list[tuple[str, Callable[[Case], Case]]] = [
            ("registered", lambda c: services.register_case(c, actor=w.persona("dispatcher"))),
            ("dispatched", lambda c: services.dispatch_case(c, actor=w.persona("dispatcher"))),
            ("in_progress", lambda c: services.sign_for_case(c, actor=w.persona("street_officer"))),
            (
                "replied",
                lambda c: services.reply_to_case(
                    c, actor=w.persona("street_officer"), reply="已处理完毕。"
                ),
            ),
            (
                "verified",
                lambda c: services.verify_case(c, actor=w.persona("grid_worker"), resolved=True),
            ),
            ("closed", lambda c: services.close_case(c, actor=w.persona("dispatcher"))),
        ]
        for _name, step in steps:
            if case.state == state:
                break
            case = step(case)
        assert case.state == state
        return case

    return make


def with_extension_request(w: World) -> Case:
    case = at("in_progress")(w)
    services.request_extension(case, actor=w.persona("street_officer"), days=2, reason="需协调")
    return case


def suspended(w: World) -> Case:
    case = at("in_progress")(w)
    request = services.request_suspension(
        case, actor=w.persona("street_officer"), reason="需列入预算"
    )
    services.decide_request(request, actor=w.persona("district_leader"), approve=True)
    case.refresh_from_db()
    return case


ORIGINALS: dict[str, Case] = {}


def duplicate_of_another(w: World) -> Case:
    ORIGINALS["latest"] = submit(w)
    return submit(w)


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[Case], str]
    expected: dict[str, int]
    setup: Callable[[World], Case]
    body: dict[str, Any] | None = None
    multipart: bool = False


ROWS = [
    Row(
        "read",
        "GET",
        lambda c: f"/api/v1/cases/{c.pk}",
        expect(SEES_BEFORE, 200, SEES_BEFORE),
        at("submitted"),
    ),
    Row(
        "track",
        "GET",
        lambda c: f"/api/v1/cases/track/{c.tracking_code}",
        expect(SEES_BEFORE, 200, SEES_BEFORE),
        at("submitted"),
    ),
    Row(
        "register",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/register",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        at("submitted"),
        {},
    ),
    Row(
        "reject",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/reject",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        at("submitted"),
        {"reason": "不属于受理范围"},
    ),
    Row(
        "escalate",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/escalate",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        at("submitted"),
        {"reason": "需区级协调"},
    ),
    Row(
        "dispatch",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/dispatch",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        at("registered"),
        {},
    ),
    Row(
        "sign for",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/sign-for",
        expect({"street_officer"}, 200, SEES_AFTER),
        at("dispatched"),
        {},
    ),
    Row(
        "return",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/return",
        expect({"street_officer"}, 200, SEES_AFTER),
        at("dispatched"),
        {"reason": "不属本单位"},
    ),
    Row(
        "reply",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/reply",
        expect({"street_officer"}, 200, SEES_AFTER),
        at("in_progress"),
        {"reply": "已清运完毕，感谢监督。"},
    ),
    Row(
        "ask for more time",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/extension-requests",
        expect({"street_officer"}, 201, SEES_AFTER),
        at("in_progress"),
        {"days": 3, "reason": "需协调物业"},
    ),
    Row(
        "ask to suspend",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/suspension-requests",
        expect({"street_officer"}, 201, SEES_AFTER),
        at("in_progress"),
        {"reason": "需列入预算"},
    ),
    Row(
        "supervise",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/supervise",
        expect({"district_leader"}, 200, SEES_AFTER),
        at("in_progress"),
        {"note": "请尽快办理"},
    ),
    Row(
        "add assisting unit",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/assisting-units",
        expect({"dispatcher"}, 200, SEES_AFTER),
        at("in_progress"),
        None,
    ),
    Row(
        "attach a photo",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/attachments",
        expect({"resident", "grid_worker", "dispatcher", "street_officer"}, 201, SEES_AFTER),
        at("in_progress"),
        None,
        multipart=True,
    ),
    Row(
        "verify",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/verify",
        expect({"grid_worker", "resident"}, 200, SEES_AFTER),
        at("replied"),
        {"resolved": True, "note": "已核实"},
    ),
    Row(
        "close",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/close",
        expect({"dispatcher"}, 200, SEES_AFTER),
        at("verified"),
        {},
    ),
    Row(
        "follow up",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/follow-up",
        expect({"resident", "dispatcher"}, 200, SEES_AFTER),
        at("closed"),
        {"resolution": "resolved", "satisfaction": "satisfied"},
    ),
    Row(
        "reopen",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/reopen",
        expect({"dispatcher"}, 200, SEES_AFTER),
        at("closed"),
        {"reason": "回访未解决"},
    ),
    Row(
        "resume",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/resume",
        expect({"street_officer"}, 200, SEES_AFTER),
        suspended,
        {},
    ),
    Row(
        "merge",
        "POST",
        lambda c: f"/api/v1/cases/{c.pk}/merge",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        duplicate_of_another,
        None,
    ),
    Row(
        "probable duplicates",
        "GET",
        lambda c: f"/api/v1/cases/{c.pk}/duplicates",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        duplicate_of_another,
    ),
    Row(
        "decide an extension",
        "POST",
        lambda c: f"/api/v1/case-requests/{CaseRequest.objects.get(case=c).pk}/decision",
        expect({"district_leader", "dispatcher"}, 200, SEES_AFTER),
        with_extension_request,
        {"approve": True, "note": "同意"},
    ),
]

COVERED_OPERATIONS = {
    # notices: only one's own and one's units' (notifications/tests/test_notices.py)
    "list_notices",
    "read_notice",
    "list_categories",
    "submit_case",
    "list_cases",
    "track_case",
    "queued_submission",
    "get_case",
    "register_case",
    "reject_case",
    "dispatch_case",
    "sign_for_case",
    "return_case",
    "reply_to_case",
    "verify_case",
    "close_case",
    "follow_up_case",
    "reopen_case",
    "request_extension",
    "request_suspension",
    "decide_request",
    "resume_case",
    "escalate_case",
    "supervise_case",
    "add_assisting_unit",
    "merge_case",
    "list_duplicates",
    "attach_photo",
}


def client_as(persona: str) -> Client:
    if persona == ANON:
        return Client()
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def snapshot(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.state,
        fresh.version,
        fresh.is_supervised,
        CaseEvent.objects.filter(case=case).count(),
        CaseRequest.objects.filter(case=case).values_list("state", flat=True).first(),
        fresh.attachments.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_case_operations(
    row: Row, persona: str, world: World, settings: Any, tmp_path: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = row.setup(world)
    client = client_as(persona)
    before = snapshot(case)
    url = row.url(case)
    if row.method == "GET":
        response = client.get(url)
    elif row.multipart:
        from django.core.files.uploadedfile import SimpleUploadedFile

        response = client.post(url, {"file": SimpleUploadedFile("p.jpg", JPEG, "image/jpeg")})
    else:
        body = row.body
        if body is None and row.name == "merge":
            body = {"into_id": str(ORIGINALS["latest"].pk), "reason": "重复件"}
        elif body is None:  # add assisting unit: the district urban bureau
            from gongzhi.territory.models import Unit

            body = {"unit_id": Unit.objects.get(name="明湖区城市管理和综合执法局").pk}
        response = client.post(url, json.dumps(body), content_type="application/json")
    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:300])
    if expected >= 400:
        assert response.json()["code"] in {"not_found", "permission_denied", "not_authenticated"}
        assert snapshot(case) == before
    elif row.method != "GET":
        assert snapshot(case) != before


@pytest.mark.parametrize("persona", PERSONAS)
def test_case_list_is_scoped(persona: str, world: World) -> None:
    at("dispatched")(world)
    at("submitted")(world)
    response = client_as(persona).get("/api/v1/cases")
    if persona == ANON:
        assert response.status_code == 401
        return
    counts = {
        "resident": 2,
        "grid_worker": 2,
        "dispatcher": 2,
        "street_officer": 1,
        "handler": 0,
        "district_leader": 2,
        "city_admin": 2,
        "auditor": 2,
        "mediator": 0,
        "assessor": 2,
    }
    assert response.json()["count"] == counts[persona]


@pytest.mark.parametrize("persona", PERSONAS)
def test_a_queued_submission_is_read_by_its_submitter_only(persona: str, world: World) -> None:
    """GET /cases/queued/{receipt}: the person who sent it; everyone else 404 (401 anonymous),
    whatever their role: a receipt is no case, and says nothing to anyone else."""
    from gongzhi.cases.intake import accept_case

    queued = accept_case(
        services.NewCase(title="路灯不亮", description="北门路灯坏了三天。", region=world.grid_1),
        actor=world.persona("resident"),
        source="api",
    )
    response = client_as(persona).get(f"/api/v1/cases/queued/{queued.receipt}")
    expected = {"resident": 200, ANON: 401}.get(persona, 404)
    assert response.status_code == expected
    if expected == 200:
        assert response.json()["state"] == "queued"
