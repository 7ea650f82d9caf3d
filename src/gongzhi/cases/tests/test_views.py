"""The request loop's web pages: what each shows, every action form, the errors, and who
sees personal data.

Pages are read in English (``Accept-Language: en``) so that the assertions do not depend on
the state of the Chinese catalogue; one test checks the Chinese page. Who may open what is
the permission matrix's job (tests/test_permission_matrix_case_views.py).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from gongzhi.cases import pages, services
from gongzhi.cases.errors import OutsideTheCity
from gongzhi.cases.models import Case, CaseAttachment, CaseEvent, CaseRequest, Category
from gongzhi.cases.photos import clean_photo
from gongzhi.cases.tests.images import JPEG, PNG
from gongzhi.cases.tests.test_loop import GREENING, submit
from gongzhi.demo.testing import World, client_for
from gongzhi.territory.models import Region, Unit

STREET_OFFICE = "春山街道办事处"
URBAN_BUREAU = "明湖区城市管理和综合执法局"
TITLE = "小区门口垃圾堆放多日无人清运"


@pytest.fixture(autouse=True)
def _media(settings: Any, tmp_path: Any) -> None:
    settings.MEDIA_ROOT = tmp_path


def en(persona: str) -> Client:
    client = client_for(persona)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


class _Text(HTMLParser):
    """Collects the text of the elements carrying ``data-testid``, and the rows of tables."""

    VOID = {"br", "input", "img", "hr", "meta", "link", "source", "col", "wbr"}
    INLINE = {"a", "span", "code", "strong", "em", "b", "time", "br"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []
        self.texts: dict[str, list[str]] = {}
        self.rows: dict[str, list[list[str]]] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in self.INLINE:
            self.handle_data(" ")
        if tag in self.VOID:
            if tag == "br":
                self.handle_data(" ")
            return
        testid = dict(attrs).get("data-testid")
        self.open.append((tag, testid))
        if testid:
            self.texts.setdefault(testid, []).append("")
        table = self._table()
        if table and tag == "tr" and self._inside("tbody"):
            self.rows.setdefault(table, []).append([])
        if table and tag == "td" and self.rows.get(table):
            self.rows[table][-1].append("")

    def handle_endtag(self, tag: str) -> None:
        if tag not in self.INLINE:
            self.handle_data(" ")
        while self.open:
            name, _testid = self.open.pop()
            if name == tag:
                break

    def _inside(self, tag: str) -> bool:
        return any(name == tag for name, _ in self.open)

    def _table(self) -> str | None:
        for name, testid in reversed(self.open):
            if name == "table":
                return testid
        return None

    def handle_data(self, data: str) -> None:
        for _name, testid in self.open:
            if testid:
                self.texts[testid][-1] += data
        table = self._table()
        if table and self._inside("td") and self.rows.get(table) and self.rows[table][-1]:
            self.rows[table][-1][-1] += data


def parse(response: Any) -> _Text:
    parser = _Text()
    parser.feed(response.content.decode())
    return parser


def squash(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def text(response: Any, testid: str) -> str:
    found = parse(response).texts.get(testid)
    assert found, f"no element with data-testid={testid}"
    return squash(found[0])


def table(response: Any, testid: str) -> list[list[str]]:
    return [[squash(cell) for cell in row] for row in parse(response).rows.get(testid, [])]


def snapshot(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        Case.objects.count(),
        fresh.state,
        fresh.version,
        fresh.unit_id,
        fresh.is_supervised,
        CaseEvent.objects.filter(case=case).count(),
        CaseRequest.objects.count(),
        CaseAttachment.objects.count(),
    )


def act(client: Client, case: Case, action: str, **data: Any) -> Any:
    return client.post(f"/cases/{case.pk}/act/{action}/", data)


def registered(world: World) -> Case:
    return services.register_case(submit(world), actor=world.persona("dispatcher"))


def dispatched(world: World) -> Case:
    return services.dispatch_case(registered(world), actor=world.persona("dispatcher"))


def in_progress(world: World) -> Case:
    return services.sign_for_case(dispatched(world), actor=world.persona("street_officer"))


def replied(world: World) -> Case:
    return services.reply_to_case(
        in_progress(world), actor=world.persona("street_officer"), reply="已清运完毕，感谢监督。"
    )


def closed(world: World) -> Case:
    case = services.verify_case(replied(world), actor=world.persona("grid_worker"), resolved=True)
    return services.close_case(case, actor=world.persona("dispatcher"))


# --- My queues --------------------------------------------------------------------------------


def test_the_dispatchers_queues_have_tabs_with_counts_and_a_table(world: World):
    first = submit(world)
    second = registered(world)
    Case.objects.filter(pk=second.pk).update(warning="red", is_supervised=True)
    third = dispatched(world)
    Case.objects.filter(pk=third.pk).update(warning="yellow")

    response = en("dispatcher").get("/cases/")
    assert response.status_code == 200
    assert text(response, "queue-tabs") == (
        "To register and dispatch 2 Returned 0 To close 0 Near the deadline 1 Overdue 1 "
        "Supervised 1 Raised by me 0"
    )
    rows = table(response, "queue-table")
    second.refresh_from_db()
    first.refresh_from_db()
    due = [c.due_at.astimezone().strftime("%Y-%m-%d %H:%M") for c in (first, second)]
    # Both wait at dispatch; registering keeps the dispatch clock, so the one raised
    # first is due first.
    expected = [
        [
            first.number,
            TITLE,
            "园林绿化环卫",
            "华东湾社区第一网格",
            "—",
            "Submitted",
            due[0],
            "",
        ],
        [
            second.number,
            TITLE,
            "园林绿化环卫",
            "华东湾社区第一网格",
            "—",
            "Registered, waiting for dispatch",
            f"{due[1]} overdue",
            "supervised",
        ],
    ]
    assert rows == expected

    overdue = en("dispatcher").get("/cases/?queue=overdue")
    assert [row[0] for row in table(overdue, "queue-table")] == [second.number]
    near = en("dispatcher").get("/cases/?queue=near_deadline")
    assert [row[5:7] for row in table(near, "queue-table")] == [
        [
            "Dispatched, waiting for the unit to sign",
            Case.objects.get(pk=third.pk).due_at.astimezone().strftime("%Y-%m-%d %H:%M")
            + " near the deadline",
        ]
    ]
    assert 'aria-current="page" class="current" data-queue="near_deadline"' in (
        near.content.decode()
    )


def test_the_street_officer_sees_the_units_queues(world: World):
    case = dispatched(world)
    response = en("street_officer").get("/cases/")
    assert text(response, "queue-tabs") == (
        "To sign for 1 In progress 0 Near the deadline 0 Overdue 0 Supervised 0 Raised by me 0"
    )
    assert [row[:5] for row in table(response, "queue-table")] == [
        [case.number, TITLE, "园林绿化环卫", "华东湾社区第一网格", STREET_OFFICE]
    ]


def test_an_unknown_queue_shows_the_first_one(world: World):
    submit(world)
    response = en("dispatcher").get("/cases/?queue=everything")
    assert response.status_code == 200
    assert 'class="current" data-queue="to_dispatch"' in response.content.decode()


def test_a_resident_is_sent_to_their_own_cases(world: World):
    response = en("resident").get("/cases/")
    assert (response.status_code, response["Location"]) == (302, "/cases/mine/")


def test_the_queue_page_pages_by_fifty(world: World):
    for _ in range(51):
        submit(world)
    response = en("dispatcher").get("/cases/")
    assert len(table(response, "queue-table")) == 50
    assert "Page 1 of 2" in response.content.decode()
    second = en("dispatcher").get("/cases/?queue=to_dispatch&page=2")
    assert len(table(second, "queue-table")) == 1


def test_the_queue_page_needs_the_same_queries_for_1_or_21_cases(
    world: World, django_assert_num_queries: Any
):
    """Session, person, memberships, one count per tab, the page's count and its rows, and
    the unread-notices count in the header."""
    submit(world)
    client = en("dispatcher")
    client.get("/cases/")  # warm: the session, content types
    with django_assert_num_queries(13):
        assert client.get("/cases/").status_code == 200
    for _ in range(10):
        submit(world)
        Case.objects.filter(pk=registered(world).pk).update(warning="red", is_supervised=True)
    with django_assert_num_queries(13):
        response = client.get("/cases/")
    rows = table(response, "queue-table")
    assert len(rows) == 21
    assert {row[3] for row in rows} == {"华东湾社区第一网格"}  # regions, categories: joined


def test_the_queue_page_of_a_street_officer_needs_few_queries(
    world: World, django_assert_num_queries: Any
):
    for _ in range(5):
        dispatched(world)
    client = en("street_officer")
    client.get("/cases/")
    with django_assert_num_queries(12):
        response = client.get("/cases/")
    assert len(table(response, "queue-table")) == 5


# --- The case page: facts, personal data, timeline ---------------------------------------------


def test_the_dispatcher_sees_the_person_and_the_intake_actions(world: World):
    case = _with_point(submit(world))
    services.attach_file(case, actor=world.persona("resident"), content=PNG)
    response = en("dispatcher").get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    assert text(response, "case-title") == f"{case.number} {TITLE}"
    assert text(response, "case-state") == "Submitted"
    assert text(response, "case-person") == "Name 林小雨 Phone 13800138000 Address 华东湾社区3号楼"
    assert text(response, "case-category") == "城乡建设 > 城市建设和市政管理 > 园林绿化环卫"
    assert text(response, "case-region") == "华东湾社区第一网格"
    assert text(response, "case-unit") == "—"
    body = response.content.decode()
    offered = re.findall(r'data-testid="action-([a-z_]+)"', body)
    assert offered == ["register", "reject", "escalate", "merge", "attach"]
    # register, reject, escalate, at the version after the photo (every event moves it on)
    assert body.count('name="expected_version" value="2"') == 3
    photo = case.attachments.get()
    assert f'src="/cases/{case.pk}/photos/{photo.pk}/"' in body
    # The point on a map, inside the outline of its grid.
    assert 'id="pin-map"' in body
    assert 'data-regions="[{&quot;type&quot;: &quot;Polygon&quot;' in body
    assert table(response, "timeline") == [
        [
            CaseEvent.objects.get(case=case, action="submit")
            .occurred_at.astimezone()
            .strftime("%Y-%m-%d %H:%M"),
            "Submitted",
            "林小雨 Resident",
            "",
        ],
        [
            CaseEvent.objects.get(case=case, action="attach")
            .occurred_at.astimezone()
            .strftime("%Y-%m-%d %H:%M"),
            "Photo added",
            "林小雨 The person who raised it",
            "",
        ],
    ]


@pytest.mark.parametrize("persona", ["district_leader", "auditor", "assessor", "city_admin"])
def test_roles_without_need_see_a_masked_name_and_no_phone_or_address(world: World, persona: str):
    case = submit(world)
    services.attach_file(case, actor=world.persona("resident"), content=PNG)
    response = en(persona).get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert text(response, "case-person") == "Name 林**"
    for secret in ("林小雨", "13800138000", "华东湾社区3号楼", case.tracking_code):
        assert secret not in body
    assert "3号楼" not in text(response, "case-description")  # the door number is redacted
    assert 'id="pin-map"' not in body  # no exact point either
    assert [row[2] for row in table(response, "timeline")] == [
        "林** Resident",
        "林** The person who raised it",
    ]
    assert "personal-hidden" in body


def test_an_anonymous_reporter_is_anonymous_to_the_grid_worker(world: World):
    case = submit(world, is_anonymous=True)
    worker = en("grid_worker").get(f"/cases/{case.pk}/")
    assert text(worker, "case-person") == "Name Anonymous"
    body = worker.content.decode()
    assert "林小雨" not in body
    assert "林*" not in body
    assert "13800138000" not in body
    dispatcher = en("dispatcher").get(f"/cases/{case.pk}/")
    assert text(dispatcher, "case-person") == (
        "Name 林小雨 anonymous Phone 13800138000 Address 华东湾社区3号楼"
    )


def test_the_reporter_follows_their_case(world: World):
    case = submit(world)
    response = en("resident").get(f"/cases/{case.pk}/")
    assert response.status_code == 200
    body = response.content.decode()
    assert case.tracking_code in body
    assert re.findall(r'data-testid="action-([a-z_]+)"', body) == ["attach"]
    assert text(response, "case-person") == "Name 林小雨 Phone 13800138000 Address 华东湾社区3号楼"


def test_a_case_page_in_chinese(world: World):
    case = submit(world)
    response = client_for("dispatcher").get(f"/cases/{case.pk}/")
    assert text(response, "case-state") == "待受理"
    assert "立案" in text(response, "action-register")


def test_the_case_page_needs_the_same_queries_for_a_short_or_long_timeline(
    world: World, django_assert_num_queries: Any
):
    """Session, person, memberships, the case (with its proposed unit), its requests,
    photos, assisting units, timeline, the unit choices of the assisting-unit form and the
    unread-notices count in the header."""
    case = in_progress(world)
    client = en("dispatcher")
    client.get(f"/cases/{case.pk}/")
    with django_assert_num_queries(10):
        assert client.get(f"/cases/{case.pk}/").status_code == 200
    for n in range(9):
        services.supervise_case(case, actor=world.persona("district_leader"), note=f"第{n}次督办")
        services.attach_file(case, actor=world.persona("street_officer"), content=PNG)
    with django_assert_num_queries(10):
        response = client.get(f"/cases/{case.pk}/")
    assert len(table(response, "timeline")) == 4 + 18
    assert response.content.decode().count('<img src="/cases/') == 9


# --- Actions through the forms ----------------------------------------------------------------


def test_the_whole_loop_through_the_forms(world: World):
    resident, dispatcher = en("resident"), en("dispatcher")
    officer, worker = en("street_officer"), en("grid_worker")
    case = submit(world, path="政法")  # a first guess that the dispatcher corrects
    greening = Category.objects.get(path=GREENING)

    response = act(
        dispatcher,
        case,
        "register",
        category=greening.pk,
        urgency="urgent",
        complexity="complex",
        expected_version=1,
    )
    assert (response.status_code, response["Location"]) == (302, f"/cases/{case.pk}/")
    case.refresh_from_db()
    assert (case.state, case.category, case.urgency, case.complexity) == (
        "registered",
        greening,
        "urgent",
        "complex",
    )
    page = dispatcher.get(f"/cases/{case.pk}/")
    assert "Done: Register." in page.content.decode()
    # The dispatch form proposes the routed unit.
    assert re.search(
        rf'<option value="{case.proposed_unit_id}" selected>{STREET_OFFICE}</option>',
        page.content.decode(),
    )

    assert act(dispatcher, case, "dispatch", unit=case.proposed_unit_id, expected_version=2)
    assert act(officer, case, "sign_for", expected_version=3).status_code == 302
    assert act(officer, case, "reply", reply="已联系环卫所，当天清运完毕。", expected_version=4)
    assert act(worker, case, "verify", note="现场已清理", expected_version=5).status_code == 302
    assert act(dispatcher, case, "close", expected_version=6).status_code == 302
    response = act(
        resident,
        case,
        "follow_up",
        resolution="resolved",
        satisfaction="satisfied",
        expected_version=7,
    )
    assert (response.status_code, response["Location"]) == (302, f"/cases/{case.pk}/")
    case.refresh_from_db()
    assert (case.state, case.unit.name, case.satisfaction, case.version) == (
        "closed",
        STREET_OFFICE,
        "satisfied",
        8,
    )
    page = resident.get(f"/cases/{case.pk}/")
    assert text(page, "case-rating") == "Resolved · Satisfied"
    # Rated: the person is not asked again; intake staff may still record a follow-up call.
    assert text(page, "no-actions") == "Nothing for you to do on this case now."
    assert "action-follow_up" in dispatcher.get(f"/cases/{case.pk}/").content.decode()
    assert text(page, "case-reply") == "已联系环卫所，当天清运完毕。"
    assert [row[1] for row in table(page, "timeline")] == [
        "Submitted",
        "Register Submitted → Registered, waiting for dispatch",
        "Dispatch Registered, waiting for dispatch → Dispatched, waiting for the unit to sign",
        "Sign for Dispatched, waiting for the unit to sign → In progress",
        "Reply In progress → Replied, waiting for verification",
        "Verify: resolved Replied, waiting for verification → Verified",
        "Close Verified → Closed",
        "Follow-up visit",
    ]
    centre = "示范市社会治理综合指挥中心（12345热线）"
    # The resident reads which unit acted, not the names of the staff; staff read both.
    assert [row[2] for row in table(page, "timeline")] == [
        "林小雨 Resident",
        f"Dispatcher · {centre}",
        f"Dispatcher · {centre}",
        f"Handler · {STREET_OFFICE}",
        f"Handler · {STREET_OFFICE}",
        "Grid worker · 华东湾社区居民委员会",
        f"Dispatcher · {centre}",
        "林小雨 The person who raised it",
    ]
    staff_page = dispatcher.get(f"/cases/{case.pk}/")
    assert [row[2] for row in table(staff_page, "timeline")][1:6] == [
        f"陈思远 Dispatcher · {centre}",
        f"陈思远 Dispatcher · {centre}",
        f"赵海峰 Handler · {STREET_OFFICE}",
        f"赵海峰 Handler · {STREET_OFFICE}",
        "王建国 Grid worker · 华东湾社区居民委员会",
    ]


def test_dispatch_to_another_unit_needs_a_reason(world: World):
    case = registered(world)
    urban = Unit.objects.get(name=URBAN_BUREAU)
    before = snapshot(case)
    response = act(en("dispatcher"), case, "dispatch", unit=urban.pk, expected_version=2)
    assert response.status_code == 400
    assert "Say why you send it to another unit than the proposed one." in text(
        response, "action-dispatch"
    )
    # The choice is kept for the second try.
    assert f'<option value="{urban.pk}" selected>' in response.content.decode()
    assert snapshot(case) == before

    response = act(
        en("dispatcher"),
        case,
        "dispatch",
        unit=urban.pk,
        reason="占道堆放属城管执法",
        expected_version=2,
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.unit) == ("dispatched", urban)
    assert CaseEvent.objects.filter(case=case).last().reason == "占道堆放属城管执法"


def test_a_stale_page_gets_the_stale_version_message_and_keeps_the_input(world: World):
    case = submit(world)
    services.register_case(case, actor=world.persona("dispatcher"))  # someone else, meanwhile
    case.refresh_from_db()
    before = snapshot(case)
    response = act(en("dispatcher"), case, "escalate", reason="需区级协调", expected_version=1)
    assert response.status_code == 409
    assert text(response, "action-escalate").startswith(
        "Escalate Someone changed this case meanwhile (you saw version 1). Reload it."
    )
    assert "需区级协调</textarea>" in response.content.decode()
    # The page now shows version 2, and its forms carry it.
    assert 'name="expected_version" value="2"' in response.content.decode()
    assert snapshot(case) == before


@pytest.mark.parametrize(
    ("setup", "persona", "action", "data", "status", "message"),
    [
        (submit, "dispatcher", "reject", {"reason": ""}, 400, "This field is required."),
        (submit, "dispatcher", "reject", {"reason": "   "}, 400, "This field is required."),
        (
            submit,
            "dispatcher",
            "register",
            {"urgency": "very", "complexity": "ordinary"},
            400,
            "Select a valid choice. very is not one of the available choices.",
        ),
        (
            in_progress,
            "street_officer",
            "reply",
            {"reply": "好的"},
            400,
            "Write the answer the person will read (at least a sentence).",
        ),
        (
            in_progress,
            "street_officer",
            "request_extension",
            {"days": 40, "reason": "需协调"},
            400,
            "Ensure this value is less than or equal to 30.",
        ),
        (dispatched, "street_officer", "return", {"reason": ""}, 400, "This field is required."),
        (replied, "grid_worker", "fail_verification", {"note": ""}, 400, "This field is required."),
        (
            closed,
            "resident",
            "follow_up",
            {"resolution": "resolved"},
            400,
            "This field is required.",
        ),
        (in_progress, "district_leader", "supervise", {"note": ""}, 400, "This field is required."),
        (
            submit,
            "dispatcher",
            "merge",
            {"into": "19990101-00001"},
            404,
            "No case you can see has that number.",
        ),
        (
            in_progress,
            "resident",
            "attach",
            {"photo": SimpleUploadedFile("a.gif", b"GIF89a")},
            400,
            "Only JPEG, PNG and WebP photos can be attached.",
        ),
    ],
    ids=[
        "reject without reason",
        "reject with blank reason",
        "register with unknown urgency",
        "reply too short",
        "too many days",
        "return without reason",
        "not verified without a note",
        "rating without satisfaction",
        "supervise without a note",
        "merge into an unknown case",
        "attach a GIF",
    ],
)
def test_bad_input_shows_the_error_and_changes_nothing(
    world: World,
    setup: Any,
    persona: str,
    action: str,
    data: dict[str, Any],
    status: int,
    message: str,
):
    case = setup(world)
    before = snapshot(case)
    response = act(en(persona), case, action, expected_version=case.version, **data)
    assert response.status_code == status
    assert message in text(response, f"action-{action}")
    assert snapshot(case) == before


def test_an_action_the_state_no_longer_allows_is_explained_above_the_forms(world: World):
    case = submit(world)
    before = snapshot(case)
    response = act(en("dispatcher"), case, "close", expected_version=1)
    assert response.status_code == 409
    assert text(response, "action-error") == (
        "The case is now “Submitted”: “Close” is not possible. Reload it."
    )
    assert snapshot(case) == before


def test_return_sends_the_officer_back_to_the_queues(world: World):
    case = dispatched(world)
    response = act(en("street_officer"), case, "return", reason="不属本单位", expected_version=3)
    assert (response.status_code, response["Location"]) == (302, "/cases/")
    case.refresh_from_db()
    assert (case.state, case.unit, case.return_count) == ("returned", None, 1)


def test_reject_with_a_reason(world: World):
    case = submit(world)
    response = act(en("dispatcher"), case, "reject", reason="属于司法程序", expected_version=1)
    assert response.status_code == 302
    case.refresh_from_db()
    assert case.state == "rejected"


def test_not_resolved_on_verification_goes_back_to_the_unit(world: World):
    case = replied(world)
    response = act(
        en("grid_worker"), case, "fail_verification", note="垃圾还在", expected_version=5
    )
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.rework_count) == ("in_progress", 1)


def test_reopen_a_closed_case(world: World):
    case = closed(world)
    response = act(en("dispatcher"), case, "reopen", reason="回访未解决", expected_version=7)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.rework_count) == ("in_progress", 1)


def test_an_extension_is_requested_and_approved(world: World):
    case = in_progress(world)
    response = act(
        en("street_officer"),
        case,
        "request_extension",
        days=3,
        reason="需协调物业",
        expected_version=4,
    )
    assert response.status_code == 302
    request = CaseRequest.objects.get(case=case)
    officer_page = en("street_officer").get(f"/cases/{case.pk}/")
    assert text(officer_page, "pending-request") == "Extension · 3 working days"
    assert "action-decide" not in officer_page.content.decode()
    leader_page = en("district_leader").get(f"/cases/{case.pk}/")
    assert "需协调物业" in text(leader_page, "action-decide")

    response = act(
        en("district_leader"), case, "decide", request=request.pk, approve="1", note="同意"
    )
    assert response.status_code == 302
    request.refresh_from_db()
    case.refresh_from_db()
    assert (request.state, request.decision_note, case.extension_count) == ("approved", "同意", 1)


def test_a_suspension_is_denied_then_requested_again_approved_and_resumed(world: World):
    case = in_progress(world)
    officer, leader = en("street_officer"), en("district_leader")
    assert act(officer, case, "request_suspension", reason="需列入预算", expected_version=4)
    first = CaseRequest.objects.get(case=case)
    assert act(leader, case, "decide", request=first.pk, approve="0").status_code == 302
    first.refresh_from_db()
    assert first.state == "denied"
    case.refresh_from_db()
    assert (
        act(
            officer, case, "request_suspension", reason="预算已申请", expected_version=case.version
        ).status_code
        == 302
    )
    second = CaseRequest.objects.get(case=case, state="pending")
    assert act(leader, case, "decide", request=second.pk, approve="1").status_code == 302
    case.refresh_from_db()
    assert case.state == "suspended"
    assert act(officer, case, "resume", expected_version=case.version).status_code == 302
    case.refresh_from_db()
    assert case.state == "in_progress"


def test_deciding_needs_the_capability(world: World):
    case = in_progress(world)
    services.request_extension(case, actor=world.persona("street_officer"), days=2, reason="需协调")
    request = CaseRequest.objects.get(case=case)
    before = snapshot(case)
    response = act(en("street_officer"), case, "decide", request=request.pk, approve="1")
    assert response.status_code == 403
    assert snapshot(case) == before


def test_escalate_moves_the_case_up_to_the_district(world: World):
    case = submit(world)
    response = act(en("dispatcher"), case, "escalate", reason="需区级协调", expected_version=1)
    assert response.status_code == 302
    case.refresh_from_db()
    assert (case.state, case.dispatch_region, case.escalation_count) == (
        "registered",
        world.district_1,
        1,
    )


def test_supervise_flags_the_case(world: World):
    case = in_progress(world)
    response = act(en("district_leader"), case, "supervise", note="请本周内办结")
    assert response.status_code == 302
    page = en("street_officer").get(f"/cases/{case.pk}/")
    assert text(page, "case-supervised") == "supervised"
    assert table(page, "timeline")[-1][1:] == [
        "Supervise",
        "孙立平 Leader · 明湖区人民政府",
        "请本周内办结",
    ]


def test_add_an_assisting_unit(world: World):
    case = in_progress(world)
    urban = Unit.objects.get(name=URBAN_BUREAU)
    page = en("dispatcher").get(f"/cases/{case.pk}/")
    assert f'<option value="{case.unit_id}">' not in text(page, "action-add_assisting_unit")
    response = act(en("dispatcher"), case, "add_assisting_unit", unit=urban.pk, reason="协助执法")
    assert response.status_code == 302
    assert list(case.assisting_units.all()) == [urban]
    # The assisting unit's handler now sees the case.
    assert en("handler").get(f"/cases/{case.pk}/").status_code == 200


def test_merge_a_duplicate_by_number(world: World):
    original = submit(world)
    duplicate = submit(world)
    response = act(en("dispatcher"), duplicate, "merge", into=original.number, reason="重复件")
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert (duplicate.state, duplicate.merged_into) == ("merged", original)
    page = en("dispatcher").get(f"/cases/{duplicate.pk}/")
    assert f'href="/cases/{original.pk}/">{original.number}</a>' in page.content.decode()


def test_a_photo_is_added_and_served_only_through_the_case(world: World):
    case = in_progress(world)
    response = en("grid_worker").post(
        f"/cases/{case.pk}/act/attach/", {"photo": SimpleUploadedFile("p.jpg", JPEG)}
    )
    assert response.status_code == 302
    photo = case.attachments.get()
    served = en("street_officer").get(f"/cases/{case.pk}/photos/{photo.pk}/")
    assert served.status_code == 200
    assert served["Content-Type"] == "image/jpeg"
    assert served["Cache-Control"] == "private, max-age=3600"
    assert served.getvalue() == clean_photo(JPEG)[0]  # as stored: without metadata
    assert en("handler").get(f"/cases/{case.pk}/photos/{photo.pk}/").status_code == 404
    other = submit(world)
    assert en("dispatcher").get(f"/cases/{other.pk}/photos/{photo.pk}/").status_code == 404


# --- Raising a matter -------------------------------------------------------------------------


def submission(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "title": "路灯不亮",
        "description": "小区北门路灯连续一周不亮，晚上出行不便。",
        "kind": "report",
        "category": Category.objects.get(path=GREENING).pk,
        "latitude": world.grid_1.centre_lat,
        "longitude": world.grid_1.centre_lng,
        "address": "华东湾社区北门",
        "name": "林小雨",
        "phone": "13800138000",
        **extra,
    }


def test_the_form_to_raise_a_matter(world: World):
    response = en("resident").get("/cases/new/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'name="latitude"' in body
    assert 'type="hidden"' in body
    assert 'value="林小雨"' in body  # the name is filled in from the account
    assert 'data-regions="{&quot;type&quot;: &quot;FeatureCollection&quot;' in body
    assert "&quot;name&quot;: &quot;明湖区&quot;" in body
    assert 'data-where="/cases/where.json"' in body
    assert "gongzhi/cases_pin.js" in body


def test_a_resident_raises_a_matter_with_a_pin_and_photos(world: World):
    photos = [SimpleUploadedFile("a.jpg", JPEG), SimpleUploadedFile("b.png", PNG)]
    response = en("resident").post("/cases/new/", submission(world, photos=photos))
    assert response.status_code == 302
    case = Case.objects.get()
    assert response["Location"] == f"/cases/{case.pk}/submitted/"
    assert (case.region, case.channel, case.kind, case.reporter.username, case.state) == (
        world.grid_1,
        "web",
        "report",
        "resident",
        "submitted",
    )
    assert (case.latitude, case.longitude) == (world.grid_1.centre_lat, world.grid_1.centre_lng)
    assert case.proposed_unit.name == STREET_OFFICE
    assert sorted(a.content_type for a in case.attachments.all()) == ["image/jpeg", "image/png"]

    receipt = en("resident").get(response["Location"])
    assert text(receipt, "tracking-code") == case.tracking_code
    assert text(receipt, "case-number") == case.number


def test_a_pin_outside_the_city_is_refused_and_the_input_kept(world: World):
    response = en("resident").post("/cases/new/", submission(world, latitude=39.9, longitude=116.4))
    assert response.status_code == 400
    assert text(response, "form-error") == "That point is outside the city."
    assert 'value="路灯不亮"' in response.content.decode()
    assert 'name="latitude" value="39.9"' in response.content.decode()
    assert Case.objects.count() == 0


def test_no_pin_no_case(world: World):
    data = submission(world)
    del data["latitude"], data["longitude"]
    response = en("resident").post("/cases/new/", data)
    assert response.status_code == 400
    assert "Put a pin on the map where the matter is." in response.content.decode()
    assert Case.objects.count() == 0


def test_a_bad_photo_stops_the_whole_submission(world: World):
    photos = [SimpleUploadedFile("a.jpg", JPEG), SimpleUploadedFile("x.gif", b"GIF89a....")]
    response = en("resident").post("/cases/new/", submission(world, photos=photos))
    assert response.status_code == 400
    assert "Only JPEG, PNG and WebP photos can be attached." in response.content.decode()
    assert text(response, "photos-lost") == (
        "Choose your photos again: a browser cannot keep them when a form comes back."
    )
    assert (Case.objects.count(), CaseAttachment.objects.count(), CaseEvent.objects.count()) == (
        0,
        0,
        0,
    )


def test_at_most_nine_photos(world: World):
    photos = [SimpleUploadedFile(f"{i}.png", PNG) for i in range(10)]
    response = en("resident").post("/cases/new/", submission(world, photos=photos))
    assert response.status_code == 400
    assert "A case can have at most 9 photos." in response.content.decode()
    assert Case.objects.count() == 0


def test_an_empty_description_is_refused(world: World):
    response = en("resident").post("/cases/new/", submission(world, description=""))
    assert response.status_code == 400
    assert Case.objects.count() == 0


def test_only_the_reporter_sees_the_receipt(world: World):
    case = submit(world)
    assert en("resident").get(f"/cases/{case.pk}/submitted/").status_code == 200
    assert en("dispatcher").get(f"/cases/{case.pk}/submitted/").status_code == 403


# --- My cases ---------------------------------------------------------------------------------


def test_my_cases_lists_mine_and_offers_to_rate_closed_ones(world: World):
    done = closed(world)
    waiting = submit(world)
    response = en("resident").get("/cases/mine/")
    rows = table(response, "my-cases")
    assert [(r[0], r[1], r[3], r[4]) for r in rows] == [
        (waiting.number, TITLE, "Submitted", "—"),
        (done.number, TITLE, "Closed", "Rate it"),
    ]
    assert f'href="/cases/{done.pk}/#action-follow_up"' in response.content.decode()


def test_find_my_case_by_its_tracking_code(world: World):
    case = submit(world)
    response = en("resident").get("/cases/mine/", {"code": case.tracking_code.lower()})
    assert (response.status_code, response["Location"]) == (302, f"/cases/{case.pk}/")
    wrong = en("resident").get("/cases/mine/", {"code": "ZZZZZZZZZZ"})
    assert wrong.status_code == 404
    assert "No case of yours has that tracking code." in text(wrong, "track-form")
    # Someone else's code finds nothing either.
    assert en("street_officer").get("/cases/mine/", {"code": case.tracking_code}).status_code == 404


# --- The map ----------------------------------------------------------------------------------


def test_the_map_page(world: World):
    response = en("dispatcher").get("/cases/map/")
    assert response.status_code == 200
    body = response.content.decode()
    assert 'data-source="/cases/map.json"' in body
    assert "gongzhi/cases_map.js" in body
    select = body.split('name="category"')[1].split("</select>")[0]
    categories = re.findall(r'<option value="\d+">([^<]+)</option>', select)
    assert categories == list(
        Category.objects.filter(level=1).order_by("path").values_list("name", flat=True)
    )


def _with_point(case: Case, lat: float = 31.3945678, lng: float = 118.6871234) -> Case:
    Case.objects.filter(pk=case.pk).update(latitude=lat, longitude=lng)
    return Case.objects.get(pk=case.pk)


def test_the_map_data_has_no_personal_data(world: World):
    case = _with_point(
        services.submit_case(
            services.NewCase(
                title="林小雨家门口 13800138000 垃圾",
                description="3号楼门口",
                region=world.grid_1,
                reporter_name="林小雨",
                reporter_phone="13800138000",
                address="华东湾社区3号楼",
            ),
            actor=world.persona("resident"),
        )
    )
    exact = en("dispatcher").get("/cases/map.json").json()
    assert exact == {
        "count": 1,
        "truncated": False,
        "cases": [
            {
                "id": str(case.pk),
                "number": case.number,
                "title": "林小雨家门口 138****8000 垃圾",
                "state": "submitted",
                "state_label": "Submitted",
                "warning": "none",
                "supervised": False,
                "lat": 31.3945678,
                "lng": 118.6871234,
                "url": f"/cases/{case.pk}/",
            }
        ],
    }
    rounded = en("district_leader").get("/cases/map.json").json()["cases"][0]
    assert (rounded["lat"], rounded["lng"]) == (31.395, 118.687)
    assert "13800138000" not in str(rounded)
    assert "3号楼" not in str(rounded)


def test_the_map_filters(world: World):
    greening = _with_point(submit(world))
    politics = _with_point(submit(world, path="政法"))
    done = _with_point(closed(world))
    Case.objects.filter(pk=politics.pk).update(warning="red")
    submit(world)  # no point: not on the map

    def numbers(**params: str) -> set[str]:
        response = en("dispatcher").get("/cases/map.json", params)
        assert response.status_code == 200
        return {c["number"] for c in response.json()["cases"]}

    town = str(Category.objects.get(path="城乡建设").pk)
    assert numbers() == {greening.number, politics.number, done.number}
    assert numbers(group="open") == {greening.number, politics.number}
    assert numbers(group="closed") == {done.number}
    assert numbers(category=town) == {greening.number, done.number}
    assert numbers(warning="red") == {politics.number}
    assert numbers(group="open", category=town, warning="none") == {greening.number}
    bad = en("dispatcher").get("/cases/map.json", {"group": "everything"})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")


# --- Where a pin falls ------------------------------------------------------------------------


def centre(region: Region) -> tuple[float, float]:
    assert region.centre_lat is not None
    assert region.centre_lng is not None
    return region.centre_lat, region.centre_lng


def test_a_point_falls_in_its_grid(world: World):
    grid_2 = world.grid_1.parent.children.exclude(pk=world.grid_1.pk).get()
    assert pages.region_at_point(*centre(world.grid_1)) == world.grid_1
    assert pages.region_at_point(*centre(grid_2)) == grid_2
    with translation.override("en"), pytest.raises(OutsideTheCity, match="outside the city"):
        pages.region_at_point(39.9, 116.4)


def test_where_a_pin_falls(world: World):
    client = en("resident")
    response = client.get(
        "/cases/where.json",
        {"lat": str(world.grid_1.centre_lat), "lng": str(world.grid_1.centre_lng)},
    )
    assert response.json() == {
        "code": "990102001001001",
        "name": "华东湾社区第一网格",
        "trail": ["明湖区", "春山街道", "华东湾社区", "华东湾社区第一网格"],
    }
    outside = client.get("/cases/where.json", {"lat": "39.9", "lng": "116.4"})
    assert (outside.status_code, outside.json()) == (
        400,
        {"code": "outside_the_city", "message": "That point is outside the city.", "details": {}},
    )
    for params in ({}, {"lat": "north", "lng": "1"}, {"lat": "nan", "lng": "118"}):
        bad = client.get("/cases/where.json", params)
        assert (bad.status_code, bad.json()["code"]) == (400, "invalid_input")


def test_boundary_contains_polygons_holes_and_multipolygons():
    square = [[0, 0], [10, 0], [10, 10], [0, 10], [0, 0]]
    hole = [[4, 4], [6, 4], [6, 6], [4, 6], [4, 4]]
    far = [[20, 20], [30, 20], [30, 30], [20, 30], [20, 20]]
    polygon = {"type": "Polygon", "coordinates": [square]}
    assert pages.boundary_contains(polygon, lat=5, lng=5)
    assert not pages.boundary_contains(polygon, lat=5, lng=11)
    assert not pages.boundary_contains({"type": "Polygon", "coordinates": [square, hole]}, 5, 5)
    assert pages.boundary_contains({"type": "Polygon", "coordinates": [square, hole]}, 2, 2)
    multi = {"type": "MultiPolygon", "coordinates": [[square], [far]]}
    assert pages.boundary_contains(multi, lat=25, lng=25)
    assert not pages.boundary_contains(multi, lat=15, lng=15)
    assert not pages.boundary_contains(None, 5, 5)
    assert not pages.boundary_contains({"type": "Point", "coordinates": [5, 5]}, 5, 5)
