"""A case taken through the whole request loop by the demo personas, and the side paths."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from gongzhi.cases import services
from gongzhi.cases.choices import CaseKind, Channel, Stage, Urgency
from gongzhi.cases.errors import InvalidCase, InvalidTransition, StaleVersion
from gongzhi.cases.models import Case, CaseEvent, CaseRequest, Category
from gongzhi.cases.services import NewCase
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.testing import World
from gongzhi.territory.models import Unit

GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
WATER = "城乡建设/城市建设和市政管理/自来水供应"


def category(path: str) -> Category:
    return Category.objects.get(path=path)


def submit(world: World, path: str = GREENING, **extra) -> Case:
    new = NewCase(
        title="小区门口垃圾堆放多日无人清运",
        description="春山街道华东湾社区3号楼门口的垃圾已经堆了三天，气味很大，请尽快处理。",
        kind=CaseKind.COMPLAINT,
        channel=Channel.WEB,
        region=world.grid_1,
        address="华东湾社区3号楼",
        category=category(path),
        reporter_name="林小雨",
        reporter_phone="13800138000",
        **extra,
    )
    return services.submit_case(new, actor=world.persona("resident"))


def actions_of(case: Case) -> list[str]:
    return list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", flat=True)
    )


def test_the_whole_loop(world: World):
    resident = world.persona("resident")
    case = submit(world)
    assert case.state == "submitted"
    day = timezone.localtime(case.submitted_at).strftime("%Y%m%d")
    assert re.fullmatch(rf"{day}-\d{{5}}", case.number)
    assert len(case.tracking_code) == 10
    assert case.dispatch_region == world.street_1
    assert case.proposed_unit.name == "春山街道办事处"  # 城乡建设: locality first
    assert case.stage == Stage.DISPATCH
    assert case.due_at - case.submitted_at == dt.timedelta(minutes=30)

    case = services.register_case(case, actor=world.persona("dispatcher"))
    assert case.feedback_due_at is not None
    case = services.dispatch_case(case, actor=world.persona("dispatcher"))
    assert (case.state, case.unit.name, case.stage) == ("dispatched", "春山街道办事处", Stage.SIGN)
    case = services.sign_for_case(case, actor=world.persona("street_officer"))
    assert (case.state, case.stage, case.due_at) == (
        "in_progress",
        Stage.FEEDBACK,
        case.feedback_due_at,
    )
    case = services.reply_to_case(
        case,
        actor=world.persona("street_officer"),
        reply="已联系环卫所，当天下午清运完毕，并增加巡查频次。",
    )
    assert (case.state, case.stage, case.due_at) == ("replied", "", None)
    case = services.verify_case(
        case, actor=world.persona("grid_worker"), resolved=True, note="现场已清理干净"
    )
    case = services.close_case(case, actor=world.persona("dispatcher"))
    assert case.state == "closed"
    case = services.follow_up_case(
        case, actor=resident, resolution="resolved", satisfaction="satisfied"
    )
    assert (case.state, case.resolution, case.satisfaction) == ("closed", "resolved", "satisfied")
    assert case.version == 8

    assert actions_of(case) == [
        "submit",
        "register",
        "dispatch",
        "sign_for",
        "reply",
        "verify",
        "close",
        "follow_up",
    ]
    roles = list(
        CaseEvent.objects.filter(case=case).order_by("seq").values_list("actor_role", flat=True)
    )
    assert roles == [
        "resident",
        "dispatcher",
        "dispatcher",
        "handler",
        "handler",
        "grid_worker",
        "dispatcher",
        "reporter",
    ]
    assert list(verify_chains(CaseEvent)) == []


def test_utilities_go_to_their_owner_with_a_24_hour_limit(world: World):
    case = submit(world, WATER)
    assert case.proposed_unit.name == "示范市供水集团有限公司"
    case = services.register_case(case, actor=world.persona("dispatcher"))
    assert case.feedback_due_at - case.registered_at == dt.timedelta(hours=24)


def test_danger_to_life_has_two_hours_whatever_the_category(world: World):
    case = submit(world, WATER, urgency=Urgency.DANGER)
    assert case.due_at - case.submitted_at == dt.timedelta(minutes=10)
    case = services.register_case(case, actor=world.persona("dispatcher"))
    assert case.feedback_due_at - case.registered_at == dt.timedelta(hours=2)


def test_no_rule_falls_back_to_the_district_government(world: World):
    case = submit(world, "政法")
    assert case.proposed_unit.name == "明湖区人民政府"


def test_environment_cases_go_to_the_districts_own_bureau(world: World):
    case = submit(world, "环境保护")
    assert case.proposed_unit.name == "示范市生态环境局明湖分局"


def test_return_and_redispatch_with_an_override(world: World):
    dispatcher = world.persona("dispatcher")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    with pytest.raises(InvalidCase):
        services.return_case(case, actor=world.persona("street_officer"), reason="  ")
    case = services.return_case(
        case, actor=world.persona("street_officer"), reason="属于区城管执法范围"
    )
    assert (case.state, case.unit, case.return_count, case.stage) == (
        "returned",
        None,
        1,
        Stage.DISPATCH,
    )
    urban = Unit.objects.get(name="明湖区城市管理和综合执法局")
    with pytest.raises(InvalidCase, match=r"another unit|另"):
        services.dispatch_case(case, actor=dispatcher, unit=urban)
    case = services.dispatch_case(case, actor=dispatcher, unit=urban, reason="占道堆放属城管执法")
    event = CaseEvent.objects.filter(case=case).order_by("seq").last()
    assert event.data == {
        "unit": urban.pk,
        "proposed_unit": case.proposed_unit_id,
        "override": True,
    }
    assert event.reason == "占道堆放属城管执法"
    case = services.sign_for_case(case, actor=world.persona("handler"))
    assert case.state == "in_progress"


def test_denied_and_illegal_actions_change_nothing(world: World):
    case = submit(world)
    before = (case.state, case.version, CaseEvent.objects.filter(case=case).count())
    with pytest.raises(PermissionDenied):
        services.register_case(case, actor=world.persona("street_officer"))
    with pytest.raises(PermissionDenied):
        services.register_case(case, actor=world.persona("resident"))
    with pytest.raises(InvalidTransition) as error:
        services.close_case(case, actor=world.persona("dispatcher"))
    assert error.value.code == "invalid_transition"
    with pytest.raises(StaleVersion):
        services.register_case(case, actor=world.persona("dispatcher"), expected_version=7)
    case.refresh_from_db()
    assert (case.state, case.version, CaseEvent.objects.filter(case=case).count()) == before


def test_reject_needs_a_reason(world: World):
    case = submit(world)
    with pytest.raises(InvalidCase):
        services.reject_case(case, actor=world.persona("dispatcher"), reason="")
    case = services.reject_case(
        case, actor=world.persona("dispatcher"), reason="属于司法程序，请向法院起诉"
    )
    assert (case.state, case.stage, case.due_at) == ("rejected", "", None)


def test_not_resolved_at_follow_up_reopens_for_the_same_unit(world: World):
    dispatcher, officer = world.persona("dispatcher"), world.persona("street_officer")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    case = services.sign_for_case(case, actor=officer)
    case = services.reply_to_case(case, actor=officer, reply="已安排清运，请耐心等待。")
    case = services.verify_case(case, actor=world.persona("resident"), resolved=True)
    case = services.close_case(case, actor=dispatcher)
    case = services.follow_up_case(
        case,
        actor=world.persona("resident"),
        resolution="not_resolved",
        satisfaction="unsatisfied",
        comment="第二天又堆满了",
    )
    assert (case.state, case.rework_count, case.unit.name) == ("in_progress", 1, "春山街道办事处")
    assert case.satisfaction == "unsatisfied"
    assert actions_of(case)[-2:] == ["follow_up", "reopen"]


def test_failed_verification_sends_it_back(world: World):
    dispatcher, officer = world.persona("dispatcher"), world.persona("street_officer")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    case = services.reply_to_case(
        services.sign_for_case(case, actor=officer), actor=officer, reply="已处理完毕。"
    )
    with pytest.raises(InvalidCase):
        services.verify_case(case, actor=world.persona("grid_worker"), resolved=False)
    case = services.verify_case(
        case, actor=world.persona("grid_worker"), resolved=False, note="现场仍有垃圾"
    )
    assert (case.state, case.rework_count, case.stage) == ("in_progress", 1, Stage.FEEDBACK)


def test_extension_and_suspension(world: World):
    dispatcher, officer, leader = (
        world.persona(n) for n in ("dispatcher", "street_officer", "district_leader")
    )
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    case = services.sign_for_case(case, actor=officer)
    due = case.feedback_due_at
    request = services.request_extension(case, actor=officer, days=3, reason="需协调物业和环卫两家")
    with pytest.raises(InvalidCase):
        services.request_extension(case, actor=officer, days=3, reason="再来一次")
    with pytest.raises(PermissionDenied):
        services.decide_request(request, actor=world.persona("grid_worker"), approve=True)
    services.decide_request(request, actor=leader, approve=True, note="同意")
    case.refresh_from_db()
    assert case.extension_count == 1
    assert case.feedback_due_at > due
    assert case.due_at == case.feedback_due_at

    suspension = services.request_suspension(case, actor=officer, reason="需列入明年财政预算")
    services.decide_request(suspension, actor=leader, approve=True)
    case.refresh_from_db()
    assert (case.state, case.due_at) == ("suspended", None)
    case = services.resume_case(case, actor=officer)
    assert (case.state, case.stage) == ("in_progress", Stage.FEEDBACK)
    assert CaseRequest.objects.get(pk=suspension.pk).state == "approved"


def test_escalation_moves_dispatch_up_the_chain_and_supervision_flags(world: World):
    dispatcher = world.persona("dispatcher")
    case = submit(world)
    case = services.escalate_case(case, actor=dispatcher, reason="涉及多个街道")
    assert (case.state, case.dispatch_region, case.escalation_count) == (
        "registered",
        world.district_1,
        1,
    )
    case = services.escalate_case(case, actor=dispatcher, reason="需市级协调")
    assert case.dispatch_region == world.city
    with pytest.raises(InvalidTransition):
        services.escalate_case(case, actor=dispatcher, reason="再上报")
    with pytest.raises(PermissionDenied):
        services.supervise_case(case, actor=world.persona("grid_worker"), note="快办")
    case = services.supervise_case(
        case, actor=world.persona("district_leader"), note="请三日内办结"
    )
    assert case.is_supervised is True


def test_merge_duplicates_keeps_both_timelines(world: World):
    dispatcher = world.persona("dispatcher")
    original = submit(world)
    duplicate = submit(world)
    merged = services.merge_case(
        duplicate, into=original, actor=dispatcher, reason="同一地点同一事项"
    )
    assert (merged.state, merged.merged_into) == ("merged", original)
    assert actions_of(original) == ["submit", "absorb_duplicate"]
    assert actions_of(merged) == ["submit", "merge"]
    with pytest.raises(InvalidCase):
        services.merge_case(original, into=original, actor=dispatcher)


def test_assisting_units(world: World):
    dispatcher = world.persona("dispatcher")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    urban = Unit.objects.get(name="明湖区城市管理和综合执法局")
    case = services.add_assisting_unit(case, actor=dispatcher, unit=urban, reason="协助执法")
    assert list(case.assisting_units.all()) == [urban]


def test_submission_checks_its_input_and_saves_nothing_when_bad(world: World):
    before = Case.objects.count()
    for bad in (
        NewCase(title=" ", description="有内容", region=world.grid_1),
        NewCase(title="标题", description="", region=world.grid_1),
        NewCase(title="标题", description="内容", region=None),
        NewCase(title="标题", description="内容", region=world.grid_1, kind="weird"),
        NewCase(title="标题", description="内容", region=world.grid_1, urgency="panic"),
    ):
        with pytest.raises(InvalidCase):
            services.submit_case(bad, actor=world.persona("resident"))
    assert Case.objects.count() == before


def test_case_numbers_are_sequential_per_day(world: World):
    first = submit(world)
    second = submit(world)
    day = timezone.localtime(first.submitted_at).strftime("%Y%m%d")
    assert first.number.startswith(day + "-")
    assert int(second.number[-5:]) == int(first.number[-5:]) + 1
    assert first.tracking_code != second.tracking_code
