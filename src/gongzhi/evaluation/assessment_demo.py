"""The demo's indicator systems, as data: the city's annual evaluation of its districts and
the acceptance assessment of the city-level social governance modernisation pilot
(市域社会治理现代化试点), whose indicators follow the pilot guideline's five areas
(政治引领、法治保障、德治教化、自治强基、智治支撑).

``seed_demo_systems(actor)`` creates both through the services and starts them (platform
indicators computed from the tallies); assessors then enter the rest. Running it again
leaves systems that exist alone.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.accounts.queries import AnyUser
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import Indicator, IndicatorSystem
from gongzhi.evaluation.periods import Period
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

YEAR = Period(dt.date(2026, 1, 1), dt.date(2026, 12, 1))


def _linear(floor: str, target: str) -> dict[str, Any]:
    return {"kind": "linear", "floor": floor, "target": target}


def _steps(*steps: tuple[str, str]) -> dict[str, Any]:
    return {"kind": "thresholds", "steps": [list(step) for step in steps]}


def _per_event(points: str) -> dict[str, Any]:
    return {"kind": "deduction", "per_event": points}


# (code, name, points, source, figure, rule, higher is better, criteria); groups first.
ANNUAL: list[tuple[str, str, int, str, str, dict[str, Any] | None, bool, str]] = [
    ("1", "诉求办理", 60, "group", "", None, True, ""),
    ("1.1", "响应率", 15, "computed", "response_rate", _linear("0.60", "1"), True, ""),
    (
        "1.2",
        "按时办结率",
        15,
        "computed",
        "on_time_closure_rate",
        _linear("0.60", "1"),
        True,
        "",
    ),
    ("1.3", "解决率", 15, "computed", "resolution_rate", _linear("0.50", "0.95"), True, ""),
    (
        "1.4",
        "满意率",
        15,
        "computed",
        "satisfaction_rate",
        _steps(("0.95", "15"), ("0.90", "12"), ("0.85", "9"), ("0.80", "6")),
        True,
        "",
    ),
    ("2", "办理质量", 20, "group", "", None, True, ""),
    ("2.1", "退单率", 10, "computed", "return_rate", _linear("0.30", "0.05"), False, ""),
    ("2.2", "重办率", 10, "computed", "rework_rate", _linear("0.20", "0"), False, ""),
    ("3", "平安建设", 20, "group", "", None, True, ""),
    (
        "3.1",
        "群众安全感",
        10,
        "entered",
        "",
        _linear("0.85", "0.98"),
        True,
        "以年度群众安全感第三方抽样调查结果为准（0–1）。",
    ),
    (
        "3.2",
        "重大事件",
        10,
        "entered",
        "",
        _per_event("5"),
        False,
        "每发生一起重大群体性事件、重大安全生产事故或个人极端案事件扣5分。",
    ),
]

PILOT: list[tuple[str, str, int, str, str, dict[str, Any] | None, bool, str]] = [
    ("1", "政治引领", 20, "group", "", None, True, ""),
    (
        "1.1",
        "党委领导体制机制",
        10,
        "entered",
        "",
        _steps(("90", "10"), ("80", "8"), ("60", "5")),
        True,
        "专家组实地评估得分（百分制）：党委统筹、定期研究部署、领导责任制落实。",
    ),
    (
        "1.2",
        "基层党组织引领作用",
        10,
        "entered",
        "",
        _linear("60", "100"),
        True,
        "专家组评估得分（百分制）：党建引领基层治理、网格党支部覆盖。",
    ),
    ("2", "法治保障", 20, "group", "", None, True, ""),
    (
        "2.1",
        "矛盾纠纷调解成功率",
        10,
        "entered",
        "",
        _linear("0.80", "0.98"),
        True,
        "以人民调解、行政调解、司法调解台账核定（0–1）。",
    ),
    ("2.2", "群众满意率", 10, "computed", "satisfaction_rate", _linear("0.70", "0.95"), True, ""),
    ("3", "德治教化", 15, "group", "", None, True, ""),
    (
        "3.1",
        "社会公德与诚信建设",
        15,
        "entered",
        "",
        _steps(("90", "15"), ("80", "12"), ("70", "8"), ("60", "4")),
        True,
        "专家组评估得分（百分制）：村规民约、道德评议、诚信体系建设。",
    ),
    ("4", "自治强基", 20, "group", "", None, True, ""),
    (
        "4.1",
        "城乡社区协商",
        10,
        "entered",
        "",
        _linear("0.50", "1"),
        True,
        "开展民主协商的社区（村）占比（0–1）。",
    ),
    ("4.2", "诉求解决率", 10, "computed", "resolution_rate", _linear("0.60", "0.95"), True, ""),
    ("5", "智治支撑", 25, "group", "", None, True, ""),
    ("5.1", "响应率", 10, "computed", "response_rate", _linear("0.60", "1"), True, ""),
    (
        "5.2",
        "按时办结率",
        10,
        "computed",
        "on_time_closure_rate",
        _linear("0.60", "1"),
        True,
        "",
    ),
    (
        "5.3",
        "网络安全事件",
        5,
        "entered",
        "",
        _per_event("2.5"),
        False,
        "每发生一起造成重大影响的网络安全事件扣2.5分。",
    ),
]


def _define(
    region: Region,
    actor: AnyUser,
    name: str,
    kind: str,
    description: str,
    rows: list[tuple[str, str, int, str, str, dict[str, Any] | None, bool, str]],
) -> IndicatorSystem:
    existing = IndicatorSystem.objects.filter(region=region, name=name).first()
    if existing is not None:
        return existing
    system = assessments.create_system(
        region,
        actor=actor,
        name=name,
        kind=kind,
        period=YEAR,
        subject_level=RegionLevel.DISTRICT,
        description=description,
    )
    groups: dict[str, Indicator] = {}
    for code, title, points, source, figure, rule, higher, criteria in rows:
        parent = groups.get(code.split(".")[0]) if "." in code else None
        indicator = assessments.add_indicator(
            system,
            actor=actor,
            code=code,
            name=title,
            weight=points,
            source=source,
            figure=figure,
            rule=rule,
            higher_is_better=higher,
            parent=parent,
            criteria=criteria,
        )
        if source == "group":
            groups[code] = indicator
    return assessments.activate_system(system, actor=actor)


def seed_demo_systems(actor: AnyUser) -> list[IndicatorSystem]:
    """The demo city's annual evaluation and pilot acceptance, started (idempotent)."""
    city = Region.objects.filter(parent__isnull=True).order_by("path").first()
    if city is None:
        return []
    return [
        _define(
            city,
            actor,
            "2026年度考评",
            "annual",
            "各区2026年度社会治理工作考评：诉求办理指标由平台数据自动计算，"
            "平安建设指标由考评组依据调查和核查材料录入。",
            ANNUAL,
        ),
        _define(
            city,
            actor,
            "市域社会治理现代化试点验收评估",
            "pilot",
            "对照市域社会治理现代化试点工作指引，按政治引领、法治保障、德治教化、"
            "自治强基、智治支撑五个方面评估各区试点成效。",
            PILOT,
        ),
    ]
