"""The clock: yellow at 80 %, red when overdue, then escalation or supervision by rule."""

from __future__ import annotations

import datetime as dt

from gongzhi.cases import services
from gongzhi.cases.choices import Stage, Warning
from gongzhi.cases.deadlines import SweepReport, sweep_deadlines
from gongzhi.cases.models import CaseEvent, EscalationRule
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World


def test_nothing_due_nothing_done(world: World):
    case = submit(world)
    assert sweep_deadlines(case.submitted_at + dt.timedelta(minutes=1)) == SweepReport()


def test_yellow_then_red_then_escalated_once(world: World):
    case = submit(world)  # 30 minutes to register and dispatch; yellow at 24
    start = case.submitted_at
    assert sweep_deadlines(start + dt.timedelta(minutes=23)) == SweepReport()
    assert sweep_deadlines(start + dt.timedelta(minutes=25)) == SweepReport(yellow=1)
    assert sweep_deadlines(start + dt.timedelta(minutes=26)) == SweepReport()  # once only
    report = sweep_deadlines(start + dt.timedelta(minutes=31))
    assert report == SweepReport(red=1, escalated=1)
    case.refresh_from_db()
    # Escalated to the district: a new dispatch stage with its own fresh clock.
    assert (case.state, case.dispatch_region, case.warning) == (
        "registered",
        world.district_1,
        Warning.NONE,
    )
    assert case.due_at - case.updated_at == dt.timedelta(minutes=30)
    events = list(CaseEvent.objects.filter(case=case).order_by("seq"))
    assert [(e.action, e.data.get("level"), e.actor.username) for e in events[1:]] == [
        ("warn", "yellow", "gongzhi-system"),
        ("warn", "red", "gongzhi-system"),
        ("escalate", None, "gongzhi-system"),
    ]


def test_overdue_feedback_is_supervised(world: World):
    dispatcher = world.persona("dispatcher")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    case = services.sign_for_case(case, actor=world.persona("street_officer"))
    assert case.feedback_due_at is not None
    report = sweep_deadlines(case.feedback_due_at + dt.timedelta(seconds=1))
    assert report == SweepReport(red=1, supervised=1)
    case.refresh_from_db()
    assert (case.is_supervised, case.warning, case.stage) == (True, Warning.RED, Stage.FEEDBACK)


def test_deadlines_missed_during_an_outage_are_caught_up(world: World):
    cases = [submit(world) for _ in range(3)]
    EscalationRule.objects.filter(stage=Stage.DISPATCH).update(is_active=False)
    later = cases[-1].submitted_at + dt.timedelta(days=2)
    report = sweep_deadlines(later)
    assert report == SweepReport(red=3)
    assert sweep_deadlines(later) == SweepReport()


def test_closed_cases_are_left_alone(world: World):
    case = services.reject_case(submit(world), actor=world.persona("dispatcher"), reason="重复")
    assert sweep_deadlines(case.submitted_at + dt.timedelta(days=30)) == SweepReport()
