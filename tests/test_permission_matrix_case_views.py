"""The request loop's web pages, for every persona: the status each gets, and on denial,
that nothing changed.

Same habit as tests/test_permission_matrix.py: the matrix is data, one row per page or
action. The case is the small city's usual one (cases/tests/test_loop.py): raised by
`resident` in grid 1 of street 1, category 园林绿化环卫, routed to 春山街道办事处 (where
`street_officer` handles). Who sees it: the resident, the grid worker, the dispatcher, the
district leader and the city-wide roles; the street officer once it is dispatched to the
street office; `handler` (district urban bureau) and `mediator` (street centre) never.

"Not visible" answers 404 exactly like "missing"; "visible but not allowed" answers 403;
anonymous people are sent to the login page (302). A successful action redirects (302).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from gongzhi.cases import services
from gongzhi.cases.models import Case, CaseAttachment, CaseEvent, CaseRequest
from gongzhi.cases.tests.images import PNG
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World, client_for
from gongzhi.territory.models import Unit

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
EVERYONE = set(PERSONAS) - {ANON}
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
    table[ANON] = 302
    return table


def everyone(status: int, **overrides: int) -> dict[str, int]:
    table = dict.fromkeys(PERSONAS, status)
    table[ANON] = 302
    table.update(overrides)
    return table


def at(state: str) -> Callable[[World], Case]:
    """A fresh case taken to ``state`` by the right personas."""

    def make(w: World) -> Case:
        case = submit(w)
        steps: list[Callable[[Case], Case]] = [
            lambda c: services.register_case(c, actor=w.persona("dispatcher")),
            lambda c: services.dispatch_case(c, actor=w.persona("dispatcher")),
            lambda c: services.sign_for_case(c, actor=w.persona("street_officer")),
            lambda c: services.reply_to_case(
                c, actor=w.persona("street_officer"), reply="已清运完毕，感谢监督。"
            ),
            lambda c: services.verify_case(c, actor=w.persona("grid_worker"), resolved=True),
            lambda c: services.close_case(c, actor=w.persona("dispatcher")),
        ]
        for step in steps:
            if case.state == state:
                break
            case = step(case)
        assert case.state == state
        return case

    return make


SUBMITTED = at("submitted")


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
    return Case.objects.get(pk=case.pk)


def with_photo(w: World) -> Case:
    case = at("submitted")(w)
    services.attach_file(case, actor=w.persona("resident"), content=PNG)
    return case


def duplicate(w: World) -> Case:
    original = submit(w)
    case = submit(w)
    case._original_number = original.number  # type: ignore[attr-defined]
    return case


@dataclass
class Row:
    name: str
    method: str
    url: Callable[[Case], str]
    expected: dict[str, int]
    setup: Callable[[World], Case] = SUBMITTED
    data: Callable[[Case], dict[str, Any]] | None = None
    # Which pages change nothing even on success.
    read_only: bool = False


def act(name: str) -> Callable[[Case], str]:
    return lambda c: f"/cases/{c.pk}/act/{name}/"


def version(c: Case) -> dict[str, Any]:
    return {"expected_version": c.version}


ROWS = [
    Row("my queues", "GET", lambda c: "/cases/", everyone(200, resident=302), read_only=True),
    Row("my cases", "GET", lambda c: "/cases/mine/", everyone(200), read_only=True),
    Row("raise a matter (form)", "GET", lambda c: "/cases/new/", everyone(200), read_only=True),
    Row(
        "raise a matter",
        "POST",
        lambda c: "/cases/new/",
        everyone(302),
        data=lambda c: {
            "title": "路灯不亮",
            "description": "小区北门路灯连续一周不亮。",
            "kind": "report",
            "latitude": "31.39",
            "longitude": "118.68",
        },
    ),
    Row(
        "where a pin falls",
        "GET",
        lambda c: "/cases/where.json?lat=31.39&lng=118.68",
        everyone(200),
        read_only=True,
    ),
    Row("map", "GET", lambda c: "/cases/map/", everyone(200), read_only=True),
    Row("map data", "GET", lambda c: "/cases/map.json", everyone(200), read_only=True),
    Row(
        "case page",
        "GET",
        lambda c: f"/cases/{c.pk}/",
        expect(SEES_BEFORE, 200, SEES_BEFORE),
        read_only=True,
    ),
    Row(
        "case page, dispatched",
        "GET",
        lambda c: f"/cases/{c.pk}/",
        expect(SEES_AFTER, 200, SEES_AFTER),
        at("dispatched"),
        read_only=True,
    ),
    Row(
        "receipt",
        "GET",
        lambda c: f"/cases/{c.pk}/submitted/",
        expect({"resident"}, 200, SEES_BEFORE),
        read_only=True,
    ),
    Row(
        "photo",
        "GET",
        lambda c: f"/cases/{c.pk}/photos/{c.attachments.get().pk}/",
        expect(SEES_BEFORE, 200, SEES_BEFORE),
        with_photo,
        read_only=True,
    ),
    Row(
        "register",
        "POST",
        act("register"),
        expect({"dispatcher"}, 302, SEES_BEFORE),
        data=lambda c: {**version(c), "urgency": "normal", "complexity": "ordinary"},
    ),
    Row(
        "reject",
        "POST",
        act("reject"),
        expect({"dispatcher"}, 302, SEES_BEFORE),
        data=lambda c: {**version(c), "reason": "不属于受理范围"},
    ),
    Row(
        "escalate",
        "POST",
        act("escalate"),
        expect({"dispatcher"}, 302, SEES_BEFORE),
        data=lambda c: {**version(c), "reason": "需区级协调"},
    ),
    Row(
        "merge",
        "POST",
        act("merge"),
        expect({"dispatcher"}, 302, SEES_BEFORE),
        duplicate,
        data=lambda c: {"into": c._original_number, "reason": "重复件"},  # type: ignore[attr-defined]
    ),
    Row(
        "probable duplicates",
        "GET",
        lambda c: f"/cases/{c.pk}/duplicates/",
        expect({"dispatcher"}, 200, SEES_BEFORE),
        duplicate,
        read_only=True,
    ),
    Row(
        "dispatch",
        "POST",
        act("dispatch"),
        expect({"dispatcher"}, 302, SEES_BEFORE),
        at("registered"),
        data=lambda c: {**version(c), "unit": c.proposed_unit_id},
    ),
    Row(
        "sign for",
        "POST",
        act("sign_for"),
        expect({"street_officer"}, 302, SEES_AFTER),
        at("dispatched"),
        data=version,
    ),
    Row(
        "return",
        "POST",
        act("return"),
        expect({"street_officer"}, 302, SEES_AFTER),
        at("dispatched"),
        data=lambda c: {**version(c), "reason": "不属本单位"},
    ),
    Row(
        "add an assisting unit",
        "POST",
        act("add_assisting_unit"),
        expect({"dispatcher"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {"unit": Unit.objects.get(name="明湖区城市管理和综合执法局").pk},
    ),
    Row(
        "reply",
        "POST",
        act("reply"),
        expect({"street_officer"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {**version(c), "reply": "已清运完毕，感谢监督。"},
    ),
    Row(
        "ask for more time",
        "POST",
        act("request_extension"),
        expect({"street_officer"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {**version(c), "days": 3, "reason": "需协调物业"},
    ),
    Row(
        "ask to suspend",
        "POST",
        act("request_suspension"),
        expect({"street_officer"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {**version(c), "reason": "需列入预算"},
    ),
    Row(
        "decide a request",
        "POST",
        act("decide"),
        expect({"dispatcher", "district_leader"}, 302, SEES_AFTER),
        with_extension_request,
        data=lambda c: {"request": CaseRequest.objects.get(case=c).pk, "approve": "1"},
    ),
    Row(
        "resume",
        "POST",
        act("resume"),
        expect({"street_officer"}, 302, SEES_AFTER),
        suspended,
        data=version,
    ),
    Row(
        "supervise",
        "POST",
        act("supervise"),
        expect({"district_leader"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {"note": "请尽快办理"},
    ),
    Row(
        "add a photo",
        "POST",
        act("attach"),
        expect({"resident", "grid_worker", "dispatcher", "street_officer"}, 302, SEES_AFTER),
        at("in_progress"),
        data=lambda c: {"photo": SimpleUploadedFile("p.png", PNG, "image/png")},
    ),
    Row(
        "verify",
        "POST",
        act("verify"),
        expect({"grid_worker", "resident"}, 302, SEES_AFTER),
        at("replied"),
        data=lambda c: {**version(c), "note": "已核实"},
    ),
    Row(
        "fail verification",
        "POST",
        act("fail_verification"),
        expect({"grid_worker", "resident"}, 302, SEES_AFTER),
        at("replied"),
        data=lambda c: {**version(c), "note": "垃圾还在"},
    ),
    Row(
        "close",
        "POST",
        act("close"),
        expect({"dispatcher"}, 302, SEES_AFTER),
        at("verified"),
        data=version,
    ),
    Row(
        "rate it",
        "POST",
        act("follow_up"),
        expect({"resident", "dispatcher"}, 302, SEES_AFTER),
        at("closed"),
        data=lambda c: {**version(c), "resolution": "resolved", "satisfaction": "satisfied"},
    ),
    Row(
        "reopen",
        "POST",
        act("reopen"),
        expect({"dispatcher"}, 302, SEES_AFTER),
        at("closed"),
        data=lambda c: {**version(c), "reason": "回访未解决"},
    ),
    Row(
        "an action that does not exist",
        "POST",
        act("delete"),
        everyone(404),
        data=version,
    ),
]


def snapshot(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        Case.objects.count(),
        fresh.state,
        fresh.version,
        fresh.is_supervised,
        CaseEvent.objects.filter(case=case).count(),
        sorted(CaseRequest.objects.filter(case=case).values_list("state", flat=True)),
        CaseAttachment.objects.count(),
        fresh.assisting_units.count(),
    )


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", ROWS, ids=lambda r: r.name)
def test_case_pages(row: Row, persona: str, world: World, settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path
    case = row.setup(world)
    client = client_for(None if persona == ANON else persona)
    before = snapshot(case)
    url = row.url(case)
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, row.data(case) if row.data else {})

    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:400])
    if persona == ANON:
        assert response["Location"].startswith("/accounts/login/")
    if expected in {403, 404}:
        # The error page with the stable code, and no trace of the case's content.
        body = response.content.decode()
        assert ("permission_denied" if expected == 403 else "not_found") in body
        assert case.title not in body
        assert "13800138000" not in body
    after = snapshot(case)
    if row.read_only or expected >= 400 or persona == ANON:
        assert after == before, f"{row.name} as {persona} changed something"
    else:
        assert after != before, f"{row.name} as {persona} should have changed something"


@pytest.mark.parametrize("persona", sorted(EVERYONE))
def test_a_get_cannot_act(persona: str, world: World) -> None:
    case = at("submitted")(world)
    before = snapshot(case)
    response = client_for(persona).get(f"/cases/{case.pk}/act/register/")
    assert response.status_code == 405
    assert snapshot(case) == before


@pytest.mark.parametrize("persona", PERSONAS)
def test_map_data_is_scoped(persona: str, world: World) -> None:
    dispatched = at("dispatched")(world)
    submitted = at("submitted")(world)
    Case.objects.filter(pk__in=[dispatched.pk, submitted.pk]).update(
        latitude=31.39, longitude=118.68
    )
    response = client_for(None if persona == ANON else persona).get("/cases/map.json")
    if persona == ANON:
        assert response.status_code == 302
        return
    numbers = {c["number"] for c in response.json()["cases"]}
    expected = {p: {dispatched.number, submitted.number} for p in SEES_BEFORE} | {
        "street_officer": {dispatched.number},
        "handler": set(),
        "mediator": set(),
    }
    assert numbers == expected[persona]


# Names this module covers; tests/test_matrix_coverage.py checks that every URL is covered.
COVERED_VIEWS = {
    "queues",
    "mine",
    "new",
    "where",
    "map",
    "map-json",
    "detail",
    "submitted",
    "act",
    "duplicates",
    "photo",
}
