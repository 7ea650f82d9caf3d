"""Importing historical cases: the same timelines the live services and clock would write."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any
from unittest import mock

import pytest
from django.db.models import Count, Q
from django.utils.translation import gettext as _

from gongzhi.accounts.services import system_actor
from gongzhi.cases import services
from gongzhi.cases.choices import CaseKind, Channel, Complexity, Stage, Urgency, Warning
from gongzhi.cases.deadlines import SweepReport, sweep_deadlines
from gongzhi.cases.imports import (
    Clock,
    HistoricalCase,
    HistoricalStep,
    ImportReport,
    InvalidHistory,
    Routes,
    history_number,
    import_historical_cases,
)
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.cases.services import NewCase
from gongzhi.cases.timelimits import limit_for
from gongzhi.cases.workflow import next_state
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import GENESIS, event_hash, verify_chains
from gongzhi.core.working_days import LOCAL, city_calendar
from gongzhi.demo.build import UTILITIES
from gongzhi.demo.history import TEMPLATES, generate_history
from gongzhi.demo.testing import World
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.queries import route
from gongzhi.dispatch.services import set_routing_rule
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
REPLY = "已安排环卫人员清运，并增加巡查频次。"


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    """A moment in March 2026 (no holidays in the middle of the month), local time."""
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


def step(action: str, when: dt.datetime, **extra) -> HistoricalStep:
    return HistoricalStep(action=action, at=when, **extra)


def spec(world: World, steps, *, number: str = "H20260309-00001", **extra) -> HistoricalCase:
    fields: dict[str, Any] = {
        "number": number,
        "tracking_code": "HIST" + number[-6:],
        "kind": CaseKind.COMPLAINT,
        "channel": Channel.WEB,
        "urgency": Urgency.NORMAL,
        "title": "小区门口垃圾堆放多日无人清运",
        "description": "垃圾已经堆了三天，气味很大，请尽快处理。",
        "category_id": Category.objects.get(path=GREENING).pk,
        "region_id": world.grid_1.pk,
        "submitted_at": at(9, 9),
        "reporter_name": "林先生",
        "reporter_phone": "138****0000",
        "steps": tuple(steps),
    }
    fields.update(extra)
    return HistoricalCase(**fields)


def run(*specs: HistoricalCase, now: dt.datetime | None = None, **options) -> int:
    now = now or at(27, 12)
    return import_historical_cases(list(specs), actor=system_actor(), now=now, **options)


def timeline(case: Case) -> list[CaseEvent]:
    return list(CaseEvent.objects.filter(case=case).order_by("seq"))


def actions(case: Case) -> list[str]:
    return [e.action for e in timeline(case)]


def replayed_state(events: list[CaseEvent]) -> str:
    """The state the workflow reaches through the events, checking each event's states."""
    state = ""
    for event in events:
        if event.action == "submit":
            assert (event.seq, event.from_state, event.to_state) == (1, "", "submitted")
            state = "submitted"
            continue
        assert event.from_state == state, (event.stream, event.seq)
        state = next_state(state, event.action).value
        assert event.to_state == state, (event.stream, event.seq)
    return state


# --- One case, step by step ---------------------------------------------------------------------


def test_a_case_on_time_gets_exactly_its_steps(world: World):
    steps = [
        step("register", at(9, 9, 3)),
        step("dispatch", at(9, 9, 8)),
        step("sign_for", at(9, 9, 40)),
        step("reply", at(11, 15), text=REPLY),
        step("verify", at(12, 10), reason="现场已清理干净"),
        step("close", at(12, 11)),
        step("follow_up", at(13, 10), resolution="resolved", satisfaction="satisfied"),
    ]
    assert run(spec(world, steps)) == 1
    case = Case.objects.get(number="H20260309-00001")
    events = timeline(case)
    assert [e.action for e in events] == [
        "submit",
        "register",
        "dispatch",
        "sign_for",
        "reply",
        "verify",
        "close",
        "follow_up",
    ]
    assert [e.seq for e in events] == list(range(1, 9))
    assert [e.prev_hash for e in events] == [GENESIS] + [e.hash for e in events[:-1]]
    assert all(e.hash == event_hash(e, CaseEvent.hashed_fields) for e in events)
    assert all(e.stream == f"case:{case.pk}" for e in events)
    assert [e.occurred_at for e in events] == [at(9, 9)] + [s.at for s in steps]
    assert all(e.actor == system_actor() for e in events)
    assert events[0].data == {"channel": "web", "kind": "complaint", "imported": True}
    street_office = route(GREENING, world.grid_1).unit
    assert street_office.name == "春山街道办事处"
    assert events[2].data == {
        "unit": street_office.pk,
        "proposed_unit": street_office.pk,
        "override": False,
    }
    assert [(e.actor_role, e.unit_name) for e in events[2:5]] == [
        ("dispatcher", street_office.name),
        ("handler", street_office.name),
        ("handler", street_office.name),
    ]
    assert events[4].data == {"on_time": True}
    assert events[5].actor_role == "grid_worker"
    assert events[7].data == {"resolution": "resolved", "satisfaction": "satisfied"}

    feedback_due = limit_for(case, Stage.FEEDBACK).due(at(9, 9, 3), city_calendar())
    assert feedback_due == at(18, 9, 3)  # 7 working days
    assert (case.state, case.version, case.updated_at) == ("closed", 8, at(13, 10))
    assert (case.unit, case.proposed_unit, case.dispatch_region) == (
        street_office,
        street_office,
        world.street_1,
    )
    assert (case.stage, case.due_at, case.yellow_at, case.warning) == ("", None, None, "none")
    assert case.feedback_due_at == feedback_due
    assert (case.registered_at, case.dispatched_at, case.signed_at) == (
        at(9, 9, 3),
        at(9, 9, 8),
        at(9, 9, 40),
    )
    assert (case.replied_at, case.closed_at, case.rated_at) == (at(11, 15), at(12, 11), at(13, 10))
    assert (case.reply, case.resolution, case.satisfaction) == (REPLY, "resolved", "satisfied")
    assert (case.region_path, case.reporter_phone) == (world.grid_1.path, "138****0000")
    assert list(verify_chains(CaseEvent)) == []


def test_the_clock_warns_escalates_and_supervises_between_steps(world: World):
    steps = [
        step("register", at(9, 9, 5)),
        # Dispatch is due at 9:30 (yellow at 9:24): the rule escalates to the district,
        # whose own 30 minutes run until 10:00.
        step("dispatch", at(9, 9, 50)),
        step("sign_for", at(9, 10, 30)),
        # Feedback was due on the 18th at 9:05: late, so yellow, red and supervised first.
        step("reply", at(19, 10), text=REPLY),
    ]
    run(spec(world, steps))
    case = Case.objects.get()
    events = timeline(case)
    assert [(e.action, e.data.get("level")) for e in events] == [
        ("submit", None),
        ("register", None),
        ("warn", "yellow"),
        ("warn", "red"),
        ("escalate", None),
        ("dispatch", None),
        ("sign_for", None),
        ("warn", "yellow"),
        ("warn", "red"),
        ("supervise", None),
        ("reply", None),
    ]
    assert [e.occurred_at for e in events[2:5]] == [at(9, 9, 24), at(9, 9, 30), at(9, 9, 30)]
    assert events[3].data == {
        "level": "red",
        "stage": "dispatch",
        "due_at": at(9, 9, 30).astimezone(dt.UTC).isoformat(),
    }
    assert events[4].data == {"from": world.street_1.code, "to": world.district_1.code}
    assert events[4].reason == _("Overdue: escalated by rule.")
    assert events[9].reason == _("Overdue: supervised by rule. Act on it now.")
    assert events[8].occurred_at == at(18, 9, 5)
    assert events[10].data == {"on_time": False}
    assert {e.actor_role for e in events if e.action in ("warn", "escalate", "supervise")} == {
        "system"
    }
    assert (case.state, case.dispatch_region, case.escalation_count) == (
        "replied",
        world.district_1,
        1,
    )
    assert (case.is_supervised, case.warning, case.version) == (True, "none", 11)


def test_an_open_case_is_swept_up_to_now_and_the_live_sweeper_carries_on(world: World):
    steps = [
        step("register", at(9, 9, 3)),
        step("dispatch", at(9, 9, 8)),
        step("sign_for", at(9, 9, 40)),
    ]
    yellow_only = at(17, 12)  # the feedback clock is past 80% but not due (18th, 9:03)
    run(spec(world, steps), now=yellow_only)
    case = Case.objects.get()
    assert actions(case) == ["submit", "register", "dispatch", "sign_for", "warn"]
    assert (case.state, case.stage, case.warning, case.due_at) == (
        "in_progress",
        Stage.FEEDBACK,
        Warning.YELLOW,
        at(18, 9, 3),
    )
    # The live sweeper finds nothing left to do, then picks up where the import stopped.
    assert sweep_deadlines(yellow_only) == SweepReport()
    assert sweep_deadlines(at(18, 9, 4)) == SweepReport(red=1, supervised=1)
    assert actions(case)[-2:] == ["warn", "supervise"]
    assert list(verify_chains(CaseEvent)) == []


def test_a_case_overdue_at_import_is_red_and_supervised_once(world: World):
    steps = [step("register", at(9, 9, 3)), step("dispatch", at(9, 9, 8))]
    run(spec(world, steps), now=at(20, 12))
    case = Case.objects.get()
    # Never signed for: the sign stage ran out at 11:08; its rule supervises.
    assert actions(case) == ["submit", "register", "dispatch", "warn", "warn", "supervise"]
    assert (case.state, case.warning, case.is_supervised) == ("dispatched", "red", True)
    assert sweep_deadlines(at(20, 12)) == SweepReport()


def test_returned_then_sent_elsewhere_with_a_reason(world: World):
    steps = [
        step("register", at(9, 9, 3)),
        step("dispatch", at(9, 9, 8)),
        step("return", at(9, 9, 30), reason="不属于本单位职责"),
        step("dispatch", at(9, 9, 40), unit_id=world.committee_1.pk, reason="改派属地社区"),
    ]
    run(spec(world, steps), now=at(9, 9, 45))
    case = Case.objects.get()
    events = timeline(case)
    street_office = route(GREENING, world.grid_1).unit
    assert [e.action for e in events] == ["submit", "register", "dispatch", "return", "dispatch"]
    assert (events[3].data, events[3].unit_name, events[3].actor_unit_name) == (
        {"returned_by": street_office.name},
        "",
        street_office.name,
    )
    assert events[4].data == {
        "unit": world.committee_1.pk,
        "proposed_unit": street_office.pk,
        "override": True,
    }
    assert (events[4].reason, events[4].unit_name) == ("改派属地社区", world.committee_1.name)
    assert (case.unit, case.return_count, case.state) == (world.committee_1, 1, "dispatched")


def test_not_resolved_at_follow_up_reopens_the_case(world: World):
    steps = [
        step("register", at(9, 9, 3)),
        step("dispatch", at(9, 9, 8)),
        step("sign_for", at(9, 9, 40)),
        step("reply", at(11, 15), text=REPLY),
        step("verify", at(12, 10)),
        step("close", at(12, 11)),
        step(
            "follow_up",
            at(13, 10),
            resolution="not_resolved",
            satisfaction="unsatisfied",
            reason="还是老样子",
        ),
    ]
    run(spec(world, steps), now=at(13, 11))
    case = Case.objects.get()
    events = timeline(case)
    assert [e.action for e in events[-2:]] == ["follow_up", "reopen"]
    assert (events[-1].reason, events[-1].from_state, events[-1].to_state) == (
        "还是老样子",
        "closed",
        "in_progress",
    )
    assert (case.state, case.rework_count, case.closed_at, case.stage) == (
        "in_progress",
        1,
        None,
        Stage.FEEDBACK,
    )
    assert case.feedback_due_at == case.due_at == at(24, 10)  # 7 working days again


def test_the_importer_writes_what_the_live_services_and_sweeper_write(world: World):
    """The same path taken live (the clock patched to each moment, the sweeper called when
    a warning is due) and imported gives the same events and the same case."""
    dispatcher, officer = world.persona("dispatcher"), world.persona("street_officer")
    grid_worker = world.persona("grid_worker")
    fail_note, comment = "现场还有垃圾", "没有解决"
    path = [
        ("register", at(9, 9, 5), lambda c: services.register_case(c, actor=dispatcher)),
        ("dispatch", at(9, 9, 45), lambda c: services.dispatch_case(c, actor=dispatcher)),
        ("return", at(9, 10), lambda c: services.return_case(c, actor=officer, reason="不归我们")),
        ("dispatch", at(9, 10, 10), lambda c: services.dispatch_case(c, actor=dispatcher)),
        ("sign_for", at(9, 10, 20), lambda c: services.sign_for_case(c, actor=officer)),
        ("reply", at(19, 10), lambda c: services.reply_to_case(c, actor=officer, reply=REPLY)),
        (
            "fail_verification",
            at(19, 15),
            lambda c: services.verify_case(c, actor=grid_worker, resolved=False, note=fail_note),
        ),
        ("reply", at(20, 9), lambda c: services.reply_to_case(c, actor=officer, reply=REPLY)),
        ("verify", at(20, 11), lambda c: services.verify_case(c, actor=grid_worker, resolved=True)),
        ("close", at(20, 11, 30), lambda c: services.close_case(c, actor=dispatcher)),
        (
            "follow_up",
            at(20, 14),
            lambda c: services.follow_up_case(
                c,
                actor=dispatcher,
                resolution="not_resolved",
                satisfaction="unsatisfied",
                comment=comment,
            ),
        ),
        ("reply", at(23, 10), lambda c: services.reply_to_case(c, actor=officer, reply=REPLY)),
        ("verify", at(23, 15), lambda c: services.verify_case(c, actor=grid_worker, resolved=True)),
        ("close", at(23, 16), lambda c: services.close_case(c, actor=dispatcher)),
        (
            "follow_up",
            at(24, 10),
            lambda c: services.follow_up_case(
                c, actor=dispatcher, resolution="resolved", satisfaction="satisfied"
            ),
        ),
    ]

    def sweep_until(case: Case, moment: dt.datetime) -> None:
        while True:
            case.refresh_from_db()
            due, yellow = case.due_at, case.yellow_at
            if case.state in ("replied", "verified", "closed") or due is None:
                return
            if case.warning == "none" and yellow < due and yellow < moment:
                when = yellow
            elif case.warning != "red" and due < moment:
                when = due
            else:
                return
            with mock.patch("django.utils.timezone.now", return_value=when):
                sweep_deadlines(when)

    new = NewCase(
        title="小区门口垃圾堆放多日无人清运",
        description="垃圾已经堆了三天，气味很大，请尽快处理。",
        kind=CaseKind.COMPLAINT,
        channel=Channel.WEB,
        region=world.grid_1,
        category=Category.objects.get(path=GREENING),
        reporter_name="林先生",
        reporter_phone="138****0000",
    )
    with mock.patch("django.utils.timezone.now", return_value=at(9, 9)):
        live = services.submit_case(new, actor=world.persona("resident"))
    for _action, when, act in path:
        sweep_until(live, when)
        with mock.patch("django.utils.timezone.now", return_value=when):
            act(Case.objects.get(pk=live.pk))
    live.refresh_from_db()

    steps = [
        step(action, when, **extra)
        for (action, when, _act), extra in zip(
            path,
            [
                {},
                {},
                {"reason": "不归我们"},
                {},
                {},
                {"text": REPLY},
                {"reason": fail_note},
                {"text": REPLY},
                {},
                {},
                {"resolution": "not_resolved", "satisfaction": "unsatisfied", "reason": comment},
                {"text": REPLY},
                {},
                {},
                {"resolution": "resolved", "satisfaction": "satisfied"},
            ],
            strict=True,
        )
    ]
    run(spec(world, steps), now=at(24, 10, 1))
    imported = Case.objects.get(number="H20260309-00001")

    def comparable(event: CaseEvent) -> tuple[Any, ...]:
        data = {k: v for k, v in event.data.items() if k != "imported"}
        return (
            event.action,
            event.from_state,
            event.to_state,
            event.reason,
            data,
            event.occurred_at,
            event.unit_name,
        )

    live_events, imported_events = timeline(live), timeline(imported)
    assert [comparable(e) for e in imported_events] == [comparable(e) for e in live_events]
    assert {"warn", "escalate", "supervise", "reopen"} <= set(actions(imported))
    fields = [
        f.attname
        for f in Case._meta.concrete_fields
        if f.attname not in ("id", "number", "tracking_code", "reporter_id")
    ]
    assert {f: getattr(imported, f) for f in fields} == {f: getattr(live, f) for f in fields}

    def dispatches(case: Case) -> list[tuple[Any, ...]]:
        return [
            (
                a.unit_id,
                a.region_path,
                a.dispatched_at,
                a.sign_due_at,
                a.outcome,
                a.responded_at,
                a.is_on_time,
                a.updated_at,
            )
            for a in case.assignments.order_by("dispatched_at")
        ]

    assert dispatches(imported) == dispatches(live)
    assert [row[4:5] + row[6:7] for row in dispatches(live)] == [
        ("returned", True),
        ("signed", True),
    ]
    assert list(verify_chains(CaseEvent)) == []


# --- What an import refuses -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("steps", "problem"),
    [
        ([("sign_for", at(9, 9, 5))], "sign_for is not allowed in state submitted"),
        ([("register", at(9, 9, 5)), ("dispatch", at(9, 9, 1))], "out of order"),
        ([("register", at(30, 9))], "in the future"),
        ([("reject", at(9, 9, 5))], "a rejection needs a reason"),
        ([("warn", at(9, 9, 5))], "warn cannot be imported"),
    ],
)
def test_steps_the_workflow_does_not_allow_are_refused(world: World, steps, problem):
    good = spec(world, [step("register", at(9, 9, 3))], number="H20260309-00002")
    bad = spec(world, [step(a, w) for a, w in steps])
    with pytest.raises(InvalidHistory, match=problem):
        run(good, bad)
    assert not Case.objects.filter(number__startswith="H").exists()  # the whole batch


def test_naive_times_are_refused(world: World):
    naive = dt.datetime(2026, 3, 9, 9, 0)  # noqa: DTZ001 (the point of the test)
    with pytest.raises(InvalidHistory, match="aware"):
        run(spec(world, [], submitted_at=naive))


def test_an_override_needs_a_reason_and_numbers_start_with_h(world: World):
    override = [
        step("register", at(9, 9, 3)),
        step("dispatch", at(9, 9, 8), unit_id=world.committee_1.pk),
    ]
    with pytest.raises(InvalidHistory, match="override needs a reason"):
        run(spec(world, override))
    with pytest.raises(InvalidHistory, match="start with H"):
        run(spec(world, [], number="20260309-00001"))


def test_only_a_superuser_imports(world: World):
    with pytest.raises(PermissionDenied):
        import_historical_cases([spec(world, [])], actor=world.persona("city_admin"))


# --- Numbers, idempotency, the audit log -----------------------------------------------------


def test_history_is_imported_once_and_live_numbering_ignores_it(world: World):
    today = dt.datetime.now(LOCAL).replace(microsecond=0)
    first = spec(world, [], number=history_number(today.date(), 1), submitted_at=today)
    report = ImportReport()
    assert run(first, now=today, report=report) == 1
    assert (report.cases, report.events) == (1, 1)
    second = spec(world, [], number=history_number(today.date(), 2), submitted_at=today)
    assert run(second, now=today) == 0  # history exists: nothing more
    assert Case.objects.filter(number__startswith="H").count() == 1

    live = services.submit_case(
        NewCase(title="路灯不亮", description="晚上很黑", region=world.grid_1),
        actor=world.persona("resident"),
    )
    assert live.number == f"{today:%Y%m%d}-00001"
    audit = AuditEvent.objects.get(action="import_historical_cases")
    assert (audit.data, audit.region_path) == ({"cases": 1, "events": 1}, world.grid_1.path)


# --- The caches give the answers of the functions they cache -----------------------------------


def test_routes_remember_what_route_answers(world: World):
    # Every first level, and below them the categories of the demo's templates and rules.
    below = {t.path for t in TEMPLATES[::4]} | {
        "城乡建设/城市建设和市政管理/自来水供应",
        "城乡建设/城市建设和市政管理/燃气供应",
        "环境保护/环境污染/噪音污染",
        "民政/社会救助/城镇低保",
    }
    categories = [c for c in Category.objects.all() if c.level == 1 or c.path in below]
    # A rule set at a street and a locality-first rule at community level: places must
    # then be told apart by their community, not only by their district.
    set_routing_rule(
        category=Category.objects.get(path="环境保护"),
        region=world.street_1,
        principle=Principle.OWNER,
        unit=world.committee_1,
    )
    set_routing_rule(
        category=Category.objects.get(path="民政"),
        region=world.city,
        principle=Principle.LOCALITY,
        locality_level=RegionLevel.COMMUNITY,
    )
    places = list(
        Region.objects.filter(level__in=[RegionLevel.STREET, RegionLevel.GRID]).order_by("code")
    )
    routes = Routes()
    for category, region in itertools.product([None, *categories], places):
        path = category.path if category else None
        assert routes.unit_for(category, region) == route(path, region).unit, (path, region)
    assert routes.calls < len(categories) * len(places) / 4


def test_the_clock_remembers_what_limit_for_answers(world: World):
    clock = Clock()
    start = at(9, 9)
    # Every first level; the utilities have rows of their own (24 hours to answer).
    categories = Category.objects.filter(
        Q(level=1) | Q(path__in=[*UTILITIES, GREENING, "城乡建设/城市建设和市政管理"])
    ).order_by("path")
    assert len(categories) == 15 + 4 + 2
    for category in categories:
        for urgency, complexity, stage in itertools.product(
            Urgency.values, Complexity.values, list(Stage)
        ):
            probe = Case(category=category, urgency=urgency, complexity=complexity)
            expected = limit_for(probe, stage)
            assert clock.limit(stage, category, urgency, complexity) == expected
            assert clock.due(stage, start, category, urgency, complexity) == expected.due(
                start, city_calendar()
            )
    utility = Category.objects.get(path="城乡建设/城市建设和市政管理/自来水供应")
    assert clock.limit(Stage.FEEDBACK, utility, Urgency.NORMAL, Complexity.ORDINARY).amount == 24


# --- A generated year ----------------------------------------------------------------------------

NOW = dt.datetime(2026, 11, 27, 20, 0, tzinfo=LOCAL)


def test_every_generated_timeline_is_chained_and_replays_to_its_state(world: World):
    clock, routes = Clock(), Routes()
    specs = generate_history(600, seed=11, now=NOW, clock=clock, routes=routes)
    report = ImportReport()
    assert run(*specs, now=NOW, clock=clock, routes=routes, batch_size=250, report=report) == 600
    assert list(verify_chains(CaseEvent)) == []
    cases = {c.pk: c for c in Case.objects.all()}
    assert len(cases) == 600 == len({c.number for c in cases.values()})
    events = CaseEvent.objects.order_by("case_id", "seq")
    assert events.count() == report.events
    for case_id, group in itertools.groupby(events, key=lambda e: e.case_id):
        stream = list(group)
        case = cases[case_id]
        assert replayed_state(stream) == case.state, case.number
        assert [e.seq for e in stream] == list(range(1, len(stream) + 1))
        assert case.version == len(stream)
        assert case.updated_at == stream[-1].occurred_at
        assert case.submitted_at == stream[0].occurred_at <= NOW
    # Nothing is left for the live clock: open cases carry the warnings they are due.
    assert sweep_deadlines(NOW) == SweepReport()
    states = dict(Case.objects.values_list("state").annotate(n=Count("id")))
    assert states["closed"] > 480
    assert {"rejected", "in_progress"} <= states.keys()
