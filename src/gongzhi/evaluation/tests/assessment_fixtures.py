"""A small annual evaluation of the two districts in March 2026, with every point computed
by hand from the fixed cases (fixtures.py; figures in test_figures.py).

Indicator (points)                     rule                         明湖区          东岳区
1   工作成效 (60, group)
1.1 response_rate (20)                 linear 0.40 -> 0.90          0.5 -> 4.00     1.0 -> 20.00
1.2 satisfaction_rate (20)             >=.95:20 >=.90:15 >=.80:8    0.95 -> 20.00   0.9 -> 15.00
1.3 return_rate (20), lower is better  linear 0.30 -> 0.00          0.25 -> 3.33    0.0 -> 20.00
2   群众安全感 (30), entered           linear 0.80 -> 0.98          0.962 -> 27.00  0.89 -> 15.00
3   重大事件 (10), entered             5 per event                  1 -> 5.00       0 -> 10.00
total                                                               59.33 (2nd)     80.00 (1st)
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from gongzhi.demo.testing import World
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import Assessment, Indicator, IndicatorSystem, RectificationItem
from gongzhi.evaluation.periods import Period
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases
from gongzhi.territory.choices import RegionLevel

MARCH = Period.month(dt.date(2026, 3, 1))
DEADLINE = dt.date(2026, 4, 30)
SHORT_DEADLINE = dt.date(2026, 4, 3)


def draft_system(world: World, *, name: str = "2026年3月 试评") -> IndicatorSystem:
    admin = world.persona("city_admin")
    system = assessments.create_system(
        world.city,
        actor=admin,
        name=name,
        kind="annual",
        period=MARCH,
        subject_level=RegionLevel.DISTRICT,
        description="按月试运行的年度考评。",
        now=NOW,
    )
    group = assessments.add_indicator(
        system, actor=admin, code="1", name="工作成效", weight=60, source="group"
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1.1",
        name="响应率",
        weight=20,
        source="computed",
        figure="response_rate",
        rule={"kind": "linear", "floor": "0.40", "target": "0.90"},
        parent=group,
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1.2",
        name="满意率",
        weight=20,
        source="computed",
        figure="satisfaction_rate",
        rule={"kind": "thresholds", "steps": [["0.95", "20"], ["0.90", "15"], ["0.80", "8"]]},
        parent=group,
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="1.3",
        name="退单率",
        weight=20,
        source="computed",
        figure="return_rate",
        rule={"kind": "linear", "floor": "0.30", "target": "0"},
        higher_is_better=False,
        parent=group,
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="2",
        name="群众安全感",
        weight=30,
        source="entered",
        rule={"kind": "linear", "floor": "0.80", "target": "0.98"},
        criteria="以第三方抽样调查结果为准。",
    )
    assessments.add_indicator(
        system,
        actor=admin,
        code="3",
        name="重大事件",
        weight=10,
        source="entered",
        rule={"kind": "deduction", "per_event": "5"},
        higher_is_better=False,
        criteria="每发生一起重大群体性事件扣5分。",
    )
    return system


def tallied(world: World) -> None:
    load_cases(world)
    rebuild_tallies(NOW)


def active_system(world: World) -> IndicatorSystem:
    tallied(world)
    system = draft_system(world)
    return assessments.activate_system(system, actor=world.persona("city_admin"), now=NOW)


def assessment_of(system: IndicatorSystem, region_name: str) -> Assessment:
    return Assessment.objects.get(system=system, name=region_name)


def indicator(system: IndicatorSystem, code: str) -> Indicator:
    return Indicator.objects.get(system=system, code=code)


def scored_system(world: World) -> IndicatorSystem:
    system = active_system(world)
    assessor = world.persona("assessor")
    entries = [
        (world.district_1.name, "2", "0.962", "2026年一季度群众安全感调查：96.2%"),
        (world.district_1.name, "3", "1", "3月12日发生一起群体性上访事件。"),
        (world.district_2.name, "2", "0.89", "2026年一季度群众安全感调查：89%"),
        (world.district_2.name, "3", "0", "经核查，未发生重大事件。"),
    ]
    for subject, code, value, evidence in entries:
        assessments.enter_score(
            assessment_of(system, subject),
            indicator(system, code),
            actor=assessor,
            value=value,
            evidence=evidence,
            evidence_reference="考评办〔2026〕3号",
            now=NOW,
        )
    return system


def closed_system(world: World) -> IndicatorSystem:
    system = scored_system(world)
    return assessments.close_system(system, actor=world.persona("city_admin"), now=NOW)


def listed_system(world: World) -> IndicatorSystem:
    system = closed_system(world)
    assessments.generate_rectifications(
        system,
        actor=world.persona("city_admin"),
        deadline=DEADLINE,
        below=Decimal("0.6"),
        bottom=1,
        now=NOW,
    )
    return system


def subject_item(system: IndicatorSystem, world: World) -> RectificationItem:
    """The rectification of 明湖区 as a whole (owned by 明湖区人民政府)."""
    return RectificationItem.objects.get(
        system=system, assessment__region=world.district_1, indicator__isnull=True
    )
