"""Fixed cases for the evaluation tests, with every figure computed by hand in the tests.

March 2026 (local time; no public holidays in it). Category 园林绿化环卫: dispatch within 30
minutes, sign for within 2 working hours, reply within 7 working days of registration.

- A, grid 1 (明湖区, street 1): signed on time, replied on time, resolved and satisfied.
- B, grid 1: returned on time, dispatched again, signed late, replied late, partly resolved,
  basically satisfied.
- C, street of 东岳区: on time; at follow-up not resolved and unsatisfied (reopened: rework),
  replied again on time, resolved, basically satisfied.
- D, grid 1: not accepted.
- E, grid 1: dispatched on 30 March and never signed for (overdue at the end of the month).
- F, grid 1, February 2026: on time, resolved, unsatisfied.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.accounts.services import system_actor
from gongzhi.cases.choices import CaseKind, Channel, Urgency
from gongzhi.cases.imports import HistoricalCase, HistoricalStep, import_historical_cases
from gongzhi.cases.models import Category
from gongzhi.core.working_days import LOCAL
from gongzhi.demo.testing import World

GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
REPLY = "已安排环卫人员清运，并增加巡查频次。"
NOW = dt.datetime(2026, 4, 2, 12, 0, tzinfo=LOCAL)


def at(day: int, hour: int, minute: int = 0, month: int = 3) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=LOCAL)


def _step(action: str, when: dt.datetime, **extra: Any) -> HistoricalStep:
    return HistoricalStep(action=action, at=when, **extra)


def _done(day: int, *, month: int = 3) -> list[HistoricalStep]:
    """Register, dispatch and sign for on time on ``day`` (submitted at 09:00)."""
    return [
        _step("register", at(day, 9, 5, month)),
        _step("dispatch", at(day, 9, 10, month)),
        _step("sign_for", at(day, 9, 20, month)),
    ]


def _finish(
    day: int, hour: int, resolution: str, satisfaction: str, *, month: int = 3
) -> list[HistoricalStep]:
    return [
        _step("reply", at(day, hour, 0, month), text=REPLY),
        _step("verify", at(day, hour + 1, 0, month)),
        _step("close", at(day, hour + 1, 30, month)),
        _step(
            "follow_up",
            at(day + 1, 10, 0, month),
            resolution=resolution,
            satisfaction=satisfaction,
        ),
    ]


def load_cases(world: World) -> None:
    greening = Category.objects.get(path=GREENING).pk

    def case(
        number: str, region: int, submitted: dt.datetime, steps: list[HistoricalStep]
    ) -> HistoricalCase:
        return HistoricalCase(
            number=number,
            tracking_code="EVAL" + number[1:9] + number[-2:],
            kind=CaseKind.COMPLAINT,
            channel=Channel.HOTLINE,
            urgency=Urgency.NORMAL,
            title="小区门口垃圾堆放多日无人清运",
            description="垃圾已经堆了三天，气味很大。",
            category_id=greening,
            region_id=region,
            submitted_at=submitted,
            steps=tuple(steps),
        )

    grid, street_2 = world.grid_1.pk, world.street_of_district_2.pk
    specs = [
        case(
            "H20260309-00001",
            grid,
            at(9, 9),
            [
                _step("register", at(9, 9, 5)),
                _step("dispatch", at(9, 9, 10)),
                _step("sign_for", at(9, 9, 30)),
                _step("reply", at(10, 10), text=REPLY),
                _step("verify", at(10, 11)),
                _step("close", at(10, 11, 30)),
                _step("follow_up", at(11, 10), resolution="resolved", satisfaction="satisfied"),
            ],
        ),
        case(
            "H20260309-00002",
            grid,
            at(9, 10),
            [
                _step("register", at(9, 10, 5)),
                _step("dispatch", at(9, 10, 10)),
                _step("return", at(9, 10, 20), reason="不是我们的辖区"),
                _step("dispatch", at(9, 10, 25)),
                _step("sign_for", at(10, 15)),
                _step("reply", at(26, 10), text=REPLY),
                _step("verify", at(26, 11)),
                _step("close", at(26, 12)),
                _step("follow_up", at(27, 10), resolution="partly", satisfaction="basically"),
            ],
        ),
        case(
            "H20260310-00001",
            street_2,
            at(10, 9),
            [
                *_done(10),
                *_finish(11, 10, "not_resolved", "unsatisfied"),
                _step("reply", at(13, 10), text=REPLY),
                _step("verify", at(13, 11)),
                _step("close", at(13, 12)),
                _step("follow_up", at(16, 10), resolution="resolved", satisfaction="basically"),
            ],
        ),
        case(
            "H20260312-00001",
            grid,
            at(12, 9),
            [_step("reject", at(12, 9, 10), reason="不属于受理范围")],
        ),
        case(
            "H20260330-00001",
            grid,
            at(30, 9),
            [_step("register", at(30, 9, 5)), _step("dispatch", at(30, 9, 10))],
        ),
        case(
            "H20260210-00001",
            grid,
            at(10, 9, 0, 2),
            [*_done(10, month=2), *_finish(11, 10, "resolved", "unsatisfied", month=2)],
        ),
    ]
    assert import_historical_cases(specs, actor=system_actor(), now=NOW) == len(specs)
