"""Indicator systems end to end: define, compute from the tallies, enter with evidence, roll
up, rank, close, generate the rectification list and carry it to acceptance. Every point is
computed by hand (assessment_fixtures.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from gongzhi.cases.models import Case
from gongzhi.core.errors import Conflict, InvalidInput, PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.testing import World
from gongzhi.evaluation import assessment_policies as policies
from gongzhi.evaluation import assessment_queries as queries
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import (
    Assessment,
    IndicatorScore,
    IndicatorSystem,
    RectificationEvent,
    RectificationItem,
)
from gongzhi.evaluation.tests.assessment_fixtures import (
    DEADLINE,
    MARCH,
    SHORT_DEADLINE,
    active_system,
    assessment_of,
    closed_system,
    draft_system,
    indicator,
    listed_system,
    scored_system,
    subject_item,
    tallied,
)
from gongzhi.evaluation.tests.fixtures import NOW
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Unit


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English (the msgids); the site itself speaks Chinese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64
PDF = b"%PDF-1.7\n" + b"0" * 64


def points(system: IndicatorSystem, subject: str) -> dict[str, tuple[str | None, str]]:
    return {
        s.indicator.code: (None if s.value is None else str(s.value), str(s.points))
        for s in IndicatorScore.objects.filter(
            assessment=assessment_of(system, subject)
        ).select_related("indicator")
    }


def standings(system: IndicatorSystem) -> list[tuple[int | None, str, Decimal, int]]:
    return [
        (a.position, a.name, a.total, a.scored_count)
        for a in Assessment.objects.filter(system=system).order_by("position", "name")
    ]


def test_activation_computes_the_platform_indicators_from_the_tallies(world: World):
    system = active_system(world)
    assert system.state == "active"
    assert system.activated_at == NOW
    assert points(system, world.district_1.name) == {
        "1.1": ("0.5000", "4.00"),
        "1.2": ("0.9500", "20.00"),
        "1.3": ("0.2500", "3.33"),
    }
    assert points(system, world.district_2.name) == {
        "1.1": ("1.0000", "20.00"),
        "1.2": ("0.9000", "15.00"),
        "1.3": ("0.0000", "20.00"),
    }
    assert standings(system) == [
        (1, world.district_2.name, Decimal("55.00"), 3),
        (2, world.district_1.name, Decimal("27.33"), 3),
    ]
    audit = AuditEvent.objects.filter(stream=f"indicator_system:{system.pk}").order_by("seq")
    assert [e.action for e in audit] == [
        "indicator_system.created",
        *["indicator_system.indicator_added"] * 6,
        "indicator_system.activated",
    ]
    assert audit.last().data == {"subjects": 2, "computed": 6}
    assert audit.last().actor_role == "administrator"


def test_entered_scores_roll_up_to_totals_and_ranks(world: World):
    system = scored_system(world)
    assert points(system, world.district_1.name) == {
        "1.1": ("0.5000", "4.00"),
        "1.2": ("0.9500", "20.00"),
        "1.3": ("0.2500", "3.33"),
        "2": ("0.9620", "27.00"),
        "3": ("1.0000", "5.00"),
    }
    assert points(system, world.district_2.name)["2"] == ("0.8900", "15.00")
    assert points(system, world.district_2.name)["3"] == ("0.0000", "10.00")
    assert standings(system) == [
        (1, world.district_2.name, Decimal("80.00"), 5),
        (2, world.district_1.name, Decimal("59.33"), 5),
    ]
    score = IndicatorScore.objects.get(
        assessment=assessment_of(system, world.district_1.name), indicator__code="2"
    )
    assert (score.is_computed, score.entered_by.username, score.evidence_reference) == (
        False,
        "assessor",
        "考评办〔2026〕3号",
    )
    entered = AuditEvent.objects.filter(action="assessment.score_entered").order_by("pk").first()
    assert entered.reason == "2026年一季度群众安全感调查：96.2%"
    assert entered.data == {
        "indicator": "2",
        "value": "0.9620",
        "points": "27.00",
        "evidence_reference": "考评办〔2026〕3号",
        "evidence_sha256": None,
        "previous": None,
    }


def test_the_results_table_has_group_subtotals(world: World):
    system = scored_system(world)
    rows = queries.results(system, Assessment.objects.filter(system=system))
    group = indicator(system, "1")
    assert [(r.assessment.name, r.group_points[group.pk], r.assessment.total) for r in rows] == [
        (world.district_2.name, Decimal("55.00"), Decimal("80.00")),
        (world.district_1.name, Decimal("27.33"), Decimal("59.33")),
    ]
    assert [c.shown_value for c in rows[1].cells] == ["50.00%", "95.00%", "25.00%", "0.962", "1"]


def test_entering_again_replaces_the_value_and_keeps_the_history(world: World):
    system = scored_system(world)
    subject = assessment_of(system, world.district_1.name)
    assessments.enter_score(
        subject,
        indicator(system, "3"),
        actor=world.persona("assessor"),
        value="0",
        evidence="复核：该事件不属于重大群体性事件。",
        evidence_file=PDF,
        now=NOW,
    )
    assert points(system, world.district_1.name)["3"] == ("0.0000", "10.00")
    assert standings(system)[1] == (2, world.district_1.name, Decimal("64.33"), 5)
    last = AuditEvent.objects.filter(stream=f"assessment:{subject.pk}").order_by("-seq").first()
    assert last.data["previous"] == {"value": "1.0000", "points": "5.00"}
    score = IndicatorScore.objects.get(assessment=subject, indicator__code="3")
    assert (score.evidence_file.content_type, score.evidence_file.size) == ("application/pdf", 73)
    assert last.data["evidence_sha256"] == score.evidence_file.sha256


def test_equal_totals_share_a_position(world: World):
    system = scored_system(world)
    east = assessment_of(system, world.district_2.name)
    assessor = world.persona("assessor")
    # 东岳区: two events take all 10 points; 0.8260 earns 30 x 0.026 / 0.18 = 4.33
    assessments.enter_score(
        east, indicator(system, "3"), actor=assessor, value="2", evidence="两起。", now=NOW
    )
    assessments.enter_score(
        east, indicator(system, "2"), actor=assessor, value="0.8260", evidence="复核。", now=NOW
    )
    assert standings(system) == [  # ties are listed by name
        (1, world.district_2.name, Decimal("59.33"), 5),
        (1, world.district_1.name, Decimal("59.33"), 5),
    ]


def test_closing_needs_every_entered_score(world: World):
    system = active_system(world)
    with pytest.raises(Conflict) as error:
        assessments.close_system(system, actor=world.persona("city_admin"), now=NOW)
    assert (error.value.code, error.value.details) == ("scores_missing", {"missing": 4})
    assert IndicatorSystem.objects.get(pk=system.pk).state == "active"


def test_a_closed_system_takes_no_more_scores(world: World):
    system = closed_system(world)
    assert (system.state, system.closed_at) == ("closed", NOW)
    before = points(system, world.district_1.name)
    with pytest.raises(Conflict) as error:
        assessments.enter_score(
            assessment_of(system, world.district_1.name),
            indicator(system, "2"),
            actor=world.persona("assessor"),
            value="0.99",
            evidence="迟到的材料。",
            now=NOW,
        )
    assert error.value.code == "wrong_state"
    assert points(system, world.district_1.name) == before
    closed = AuditEvent.objects.get(action="indicator_system.closed")
    assert closed.data == {
        "results": [[world.district_2.name, "80.00", 1], [world.district_1.name, "59.33", 2]]
    }


def test_the_rectification_list_of_the_bottom_results(world: World):
    system = listed_system(world)
    items = RectificationItem.objects.filter(system=system).select_related(
        "assessment", "indicator", "owner_unit"
    )
    listed = sorted(
        (i.assessment.name, i.indicator.code if i.indicator else "", i.owner_unit.name)
        for i in items
    )
    one, two = world.district_1.name, world.district_2.name
    assert listed == sorted(
        [
            (one, "", f"{one}人民政府"),
            (one, "1.1", f"{one}人民政府"),
            (one, "1.3", f"{one}人民政府"),
            (one, "3", f"{one}人民政府"),
            (two, "2", world.district_2_government.name),
        ]
    )
    assert {(i.state, i.deadline) for i in items} == {("open", DEADLINE)}
    assert subject_item(system, world).problem == (
        "Total 59.33 points, position 2 of 2: among the bottom 1."
    )
    item = items.get(indicator__code="1.3")
    assert item.problem == "1.3 退单率: 3.33 of 20.00 points (value 25.00%)."
    created = RectificationEvent.objects.get(item=item)
    assert (created.action, created.from_state, created.to_state, created.seq) == (
        "create",
        "",
        "open",
        1,
    )
    assert created.data == {"owner_unit": f"{one}人民政府", "deadline": "2026-04-30"}


def test_generating_again_adds_only_what_is_new(world: World):
    system = listed_system(world)
    again = assessments.generate_rectifications(
        system,
        actor=world.persona("city_admin"),
        deadline=DEADLINE,
        below=Decimal("0.8"),  # 东岳区 1.2 scores 15 < 16
        bottom=1,
        now=NOW,
    )
    assert [(i.assessment.name, i.indicator.code) for i in again] == [
        (world.district_2.name, "1.2")
    ]
    assert RectificationItem.objects.filter(system=system).count() == 6


def test_rectification_is_submitted_with_evidence_and_accepted(world: World):
    system = listed_system(world)
    item = subject_item(system, world)
    leader = world.persona("district_leader")
    assessments.submit_rectification(
        item,
        actor=leader,
        report="已召开专题会议，制定整改方案，落实专人负责。",
        evidence_reference="明政办〔2026〕12号",
        evidence_file=JPEG,
        now=NOW,
    )
    item.refresh_from_db()
    assert (item.state, item.submitted_at, item.evidence_file.content_type) == (
        "submitted",
        NOW,
        "image/jpeg",
    )
    accepted = assessments.accept_rectification(
        item, actor=world.persona("assessor"), note="整改到位，同意销号。", now=NOW
    )
    assert (accepted.state, accepted.accepted_at) == ("accepted", NOW)
    events = RectificationEvent.objects.filter(item=item).order_by("seq")
    assert [
        (e.action, e.from_state, e.to_state, e.actor_role, e.actor_unit_name) for e in events
    ] == [
        ("create", "", "open", "administrator", world.command_centre.name),
        ("submit", "open", "submitted", "leader", f"{world.district_1.name}人民政府"),
        ("accept", "submitted", "accepted", "assessor", world.command_centre.name),
    ]
    assert events[1].data["evidence_reference"] == "明政办〔2026〕12号"
    assert list(verify_chains(RectificationEvent)) == []


def test_a_rejected_rectification_goes_back_and_then_overdue(world: World):
    system = listed_system(world)
    item = subject_item(system, world)
    assessments.submit_rectification(
        item, actor=world.persona("district_leader"), report="已整改。", now=NOW
    )
    with pytest.raises(InvalidInput):
        assessments.reject_rectification(item, actor=world.persona("assessor"), reason=" ")
    rejected = assessments.reject_rectification(
        item, actor=world.persona("assessor"), reason="材料不全，请补充整改前后对比。", now=NOW
    )
    assert rejected.state == "open"
    after = dt.datetime(2026, 5, 1, 0, 0, tzinfo=NOW.tzinfo)
    on_the_day = dt.datetime(2026, 4, 30, 23, 59, tzinfo=NOW.tzinfo)
    assert assessments.mark_overdue_rectifications(on_the_day) == 0
    assert assessments.mark_overdue_rectifications(after) == 5
    assert assessments.mark_overdue_rectifications(after) == 0  # idempotent
    item.refresh_from_db()
    assert (item.state, item.overdue_at) == ("overdue", after)
    last = RectificationEvent.objects.filter(item=item).order_by("-seq").first()
    assert (last.action, last.actor, last.data) == (
        "mark_overdue",
        None,
        {"deadline": "2026-04-30"},
    )
    late = assessments.submit_rectification(
        item, actor=world.persona("district_leader"), report="已补充材料。", now=after
    )
    assert late.state == "submitted"
    assert RectificationEvent.objects.filter(item=item).order_by("-seq").first().data["late"]


def test_who_may_do_what_with_rectifications(world: World):
    system = listed_system(world)
    item = subject_item(system, world)
    for persona in ("handler", "street_officer", "assessor", "city_admin"):
        with pytest.raises(PermissionDenied):
            assessments.submit_rectification(item, actor=world.persona(persona), report="已整改。")
    with pytest.raises(Conflict):  # not submitted yet
        assessments.accept_rectification(item, actor=world.persona("assessor"))
    with pytest.raises(PermissionDenied):
        assessments.accept_rectification(item, actor=world.persona("district_leader"))
    item.refresh_from_db()
    assert item.state == "open"
    assert RectificationEvent.objects.filter(item=item).count() == 1
    assert policies.rectifications_visible_to(world.persona("handler")).count() == 0
    assert policies.rectifications_visible_to(world.persona("district_leader")).count() == 4
    assert policies.rectifications_visible_to(world.persona("assessor")).count() == 5


def test_denied_and_invalid_calls_change_nothing(world: World):
    tallied(world)
    system = draft_system(world)
    audit_before = AuditEvent.objects.count()
    with pytest.raises(PermissionDenied):
        assessments.activate_system(system, actor=world.persona("assessor"), now=NOW)
    with pytest.raises(PermissionDenied):
        assessments.add_indicator(
            system,
            actor=world.persona("district_leader"),
            code="9",
            name="x",
            weight=1,
            source="entered",
            rule={"kind": "deduction", "per_event": "1"},
        )
    with pytest.raises(InvalidInput) as error:
        assessments.add_indicator(
            system,
            actor=world.persona("city_admin"),
            code="9",
            name="退单率",
            weight=10,
            source="computed",
            figure="return_rate",
            rule={"kind": "linear", "floor": "0", "target": "0.3"},
            higher_is_better=False,
        )
    assert error.value.details == {"field": "rule", "problem": "linear_direction"}
    with pytest.raises(InvalidInput):
        assessments.add_indicator(
            system,
            actor=world.persona("city_admin"),
            code="9",
            name="x",
            weight=10,
            source="computed",
            figure="no_such_figure",
            rule={"kind": "deduction", "per_event": "1"},
        )
    with pytest.raises(Conflict):
        assessments.add_indicator(
            system,
            actor=world.persona("city_admin"),
            code="1.1",
            name="重复",
            weight=10,
            source="entered",
            rule={"kind": "deduction", "per_event": "1"},
        )
    assert system.indicators.count() == 6
    assert AuditEvent.objects.count() == audit_before
    assert IndicatorSystem.objects.get(pk=system.pk).state == "draft"


def test_scores_are_checked(world: World):
    system = active_system(world)
    subject = assessment_of(system, world.district_1.name)
    assessor = world.persona("assessor")
    cases = [
        (indicator(system, "3"), "1.5", "证据", InvalidInput),  # events are whole
        (indicator(system, "3"), "-1", "证据", InvalidInput),
        (indicator(system, "2"), "abc", "证据", InvalidInput),
        (indicator(system, "2"), "0.9", "  ", InvalidInput),  # evidence is required
        (indicator(system, "1.1"), "0.9", "证据", InvalidInput),  # computed, not entered
    ]
    for target, value, evidence, error in cases:
        with pytest.raises(error):
            assessments.enter_score(subject, target, actor=assessor, value=value, evidence=evidence)
    with pytest.raises(InvalidInput):
        assessments.enter_score(
            subject,
            indicator(system, "2"),
            actor=assessor,
            value="0.9",
            evidence="证据",
            evidence_file=b"<html>not evidence</html>",
        )
    for persona in ("district_leader", "city_admin", "handler"):
        with pytest.raises(PermissionDenied):
            assessments.enter_score(
                subject,
                indicator(system, "2"),
                actor=world.persona(persona),
                value="1",
                evidence="x",
            )
    assert IndicatorScore.objects.filter(assessment=subject, is_computed=False).count() == 0
    assert AuditEvent.objects.filter(action="assessment.score_entered").count() == 0


def test_a_system_must_hang_together_before_it_starts(world: World):
    admin = world.persona("city_admin")
    system = assessments.create_system(
        world.city,
        actor=admin,
        name="空的体系",
        kind="pilot",
        period=MARCH,
        subject_level=RegionLevel.DISTRICT,
        now=NOW,
    )
    with pytest.raises(InvalidInput):
        assessments.activate_system(system, actor=admin, now=NOW)
    group = assessments.add_indicator(
        system, actor=admin, code="1", name="政治引领", weight=10, source="group"
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1.1",
        name="党建引领基层治理",
        weight=5,
        source="entered",
        rule={"kind": "linear", "floor": "0", "target": "100"},
        parent=group,
    )
    with pytest.raises(InvalidInput) as error:
        assessments.activate_system(system, actor=admin, now=NOW)
    assert error.value.code == "group_weight"
    assert Assessment.objects.filter(system=system).count() == 0
    with pytest.raises(Conflict):
        assessments.create_system(
            world.city,
            actor=admin,
            name="空的体系",
            kind="pilot",
            period=MARCH,
            subject_level=RegionLevel.DISTRICT,
        )
    with pytest.raises(InvalidInput):
        assessments.create_system(
            world.district_1,
            actor=admin,
            name="街道考评",
            kind="annual",
            period=MARCH,
            subject_level=RegionLevel.DISTRICT,  # not below the district
        )


def test_units_can_be_the_subjects(world: World):
    tallied(world)
    admin = world.persona("city_admin")
    handling = Case.objects.get(number="H20260309-00002").unit
    system = assessments.create_system(
        handling.region,
        actor=admin,
        name="街道办事处考评",
        kind="annual",
        period=MARCH,
        subject_kind="unit",
        subject_unit_kind=handling.kind,
        now=NOW,
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1",
        name="响应率",
        weight=100,
        source="computed",
        figure="response_rate",
        rule={"kind": "thresholds", "steps": [["0.9", "100"], ["0.5", "60"]]},
    )
    assessments.activate_system(system, actor=admin, now=NOW)
    subject = Assessment.objects.get(system=system, unit=handling)
    assert (subject.total, subject.position, subject.subject_path) == (
        Decimal("60.00"),
        1,
        handling.region.path,
    )
    others = Assessment.objects.filter(system=system).exclude(unit=handling)
    units = Unit.objects.filter(region=handling.region, kind=handling.kind, is_active=True)
    assert others.count() == units.count() - 1


def test_the_composite_score_can_be_an_indicator(world: World):
    tallied(world)
    admin = world.persona("city_admin")
    system = assessments.create_system(
        world.city,
        actor=admin,
        name="综合得分",
        kind="annual",
        period=MARCH,
        subject_level=RegionLevel.DISTRICT,
        now=NOW,
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1",
        name="综合得分",
        weight=40,
        source="computed",
        figure="score",
        rule={"kind": "linear", "floor": "60", "target": "100"},
    )
    assessments.activate_system(system, actor=admin, now=NOW)
    # 明湖区 80.50 -> 40 x 20.5 / 40 = 20.50; 东岳区 96.00 -> 40 x 36 / 40 = 36.00
    assert standings(system) == [
        (1, world.district_2.name, Decimal("36.00"), 1),
        (2, world.district_1.name, Decimal("20.50"), 1),
    ]


def test_generation_needs_a_closed_system_and_a_later_deadline(world: World):
    system = scored_system(world)
    admin = world.persona("city_admin")
    with pytest.raises(Conflict):
        assessments.generate_rectifications(
            system, actor=admin, deadline=DEADLINE, bottom=1, now=NOW
        )
    system = assessments.close_system(system, actor=admin, now=NOW)
    with pytest.raises(InvalidInput):
        assessments.generate_rectifications(
            system, actor=admin, deadline=dt.date(2026, 4, 2), bottom=1, now=NOW
        )
    with pytest.raises(InvalidInput):
        assessments.generate_rectifications(system, actor=admin, deadline=DEADLINE, now=NOW)
    with pytest.raises(PermissionDenied):
        assessments.generate_rectifications(
            system, actor=world.persona("assessor"), deadline=DEADLINE, bottom=1, now=NOW
        )
    assert RectificationItem.objects.count() == 0
    created = assessments.generate_rectifications(
        system, actor=admin, deadline=SHORT_DEADLINE, bottom=2, now=NOW
    )
    assert sorted(i.assessment.name for i in created) == sorted(
        [world.district_1.name, world.district_2.name]
    )


def test_the_demo_systems(world: World):
    from gongzhi.accounts.services import system_actor
    from gongzhi.evaluation.assessment_demo import seed_demo_systems

    systems = seed_demo_systems(system_actor())
    assert [(s.name, s.kind, s.state, s.assessments.count()) for s in systems] == [
        ("2026年度考评", "annual", "active", 2),
        ("市域社会治理现代化试点验收评估", "pilot", "active", 2),
    ]
    totals = {s.name: sum(i.weight for i in s.indicators.all() if not i.is_group) for s in systems}
    assert totals == {"2026年度考评": 100, "市域社会治理现代化试点验收评估": 100}
    assert [g.name for g in systems[1].indicators.filter(source="group")] == [
        "政治引领",
        "法治保障",
        "德治教化",
        "自治强基",
        "智治支撑",
    ]
    again = seed_demo_systems(system_actor())
    assert [s.pk for s in again] == [s.pk for s in systems]
    assert IndicatorSystem.objects.count() == 2
