"""Builds the demo city 示范市 through the ordinary services. Idempotent: run it again and
nothing changes; deterministic: every machine gets the same names, codes and shapes.

Full size: 8 districts (two of them counties), 60 streets, 400 communities, 2,000 grids,
about 700 units, and one persona per role with the password ``gongzhi-demo``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

from django.db import transaction

from gongzhi.accounts import services as account_services
from gongzhi.accounts.choices import MembershipRole
from gongzhi.accounts.models import User
from gongzhi.cases import services as cases_services
from gongzhi.cases.choices import Complexity, Stage, Urgency
from gongzhi.cases.models import Category, EscalationRule
from gongzhi.core.working_days import DurationUnit
from gongzhi.demo.geometry import Box
from gongzhi.demo.names import NamePool, numeral
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.services import set_routing_rule
from gongzhi.territory import services as territory_services
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.services import RegionRow

CITY_CODE = "990100000000"
CITY_NAME = "示范市"
CITY_BOX = Box(west=118.60, south=31.00, east=119.30, north=31.45)
DEMO_PASSWORD = "gongzhi-demo"  # noqa: S105 (published on purpose; locked when DEBUG is off)

# (name, is_county): counties have towns (镇) and villages (村) instead of streets and communities.
DISTRICTS = [
    ("明湖区", False),
    ("东岳区", False),
    ("西津区", False),
    ("南屏区", False),
    ("北塘区", False),
    ("临江区", False),
    ("青禾县", True),
    ("云岭县", True),
]
STREETS_PER_DISTRICT = [9, 8, 8, 8, 7, 7, 7, 6]  # 60
COMMUNITIES = 400
GRIDS_PER_COMMUNITY = 5

CITY_DEPARTMENTS = [
    ("示范市住房和城乡建设局", "市住建局"),
    ("示范市城市管理局", "市城管局"),
    ("示范市生态环境局", "市生态环境局"),
    ("示范市交通运输局", "市交通局"),
    ("示范市教育局", "市教育局"),
    ("示范市卫生健康委员会", "市卫健委"),
    ("示范市人力资源和社会保障局", "市人社局"),
    ("示范市商务局", "市商务局"),
    ("示范市文化和旅游局", "市文旅局"),
    ("示范市水务局", "市水务局"),
    ("示范市市场监督管理局", "市市场监管局"),
    ("示范市民政局", "市民政局"),
    ("示范市应急管理局", "市应急局"),
    ("示范市自然资源和规划局", "市自然资源局"),
    ("示范市司法局", "市司法局"),
    ("示范市信访局", "市信访局"),
]
CITY_OTHERS = [
    ("中共示范市委员会", "市委", UnitKind.PARTY_COMMITTEE),
    ("中共示范市委政法委员会", "市委政法委", UnitKind.POLITICAL_LEGAL),
    ("示范市人民政府", "市政府", UnitKind.GOVERNMENT),
    ("示范市社会治理综合指挥中心（12345热线）", "市指挥中心", UnitKind.COMMAND_CENTRE),
    ("示范市公安局", "市公安局", UnitKind.POLICE),
    ("示范市中级人民法院", "市中院", UnitKind.COURT),
    ("示范市人民检察院", "市检察院", UnitKind.PROCURATORATE),
    ("示范市总工会", "市总工会", UnitKind.TRADE_UNION),
    ("共青团示范市委员会", "团市委", UnitKind.YOUTH_LEAGUE),
    ("示范市妇女联合会", "市妇联", UnitKind.WOMENS_FEDERATION),
    ("示范市阳光社会工作服务中心", "阳光社工", UnitKind.SOCIAL_ORGANISATION),
    ("示范市邻里和谐调解志愿者协会", "邻里调解协会", UnitKind.SOCIAL_ORGANISATION),
    ("示范市颐康居家养老服务中心", "颐康养老", UnitKind.SOCIAL_ORGANISATION),
    ("示范市供水集团有限公司", "市供水集团", UnitKind.ENTERPRISE),
    ("示范市燃气有限公司", "市燃气公司", UnitKind.ENTERPRISE),
    ("国网示范市供电公司", "市供电公司", UnitKind.ENTERPRISE),
    ("示范市热力有限公司", "市热力公司", UnitKind.ENTERPRISE),
]
# {d} is the district's name, e.g. 明湖区; {s} its short stem, e.g. 明湖.
DISTRICT_UNITS = [
    ("中共{d}委员会", UnitKind.PARTY_COMMITTEE),
    ("中共{d}委政法委员会", UnitKind.POLITICAL_LEGAL),
    ("{d}人民政府", UnitKind.GOVERNMENT),
    ("{d}社会治理指挥中心", UnitKind.COMMAND_CENTRE),
    ("{d}住房和城乡建设局", UnitKind.DEPARTMENT),
    ("{d}城市管理和综合执法局", UnitKind.DEPARTMENT),
    ("{d}教育局", UnitKind.DEPARTMENT),
    ("{d}卫生健康局", UnitKind.DEPARTMENT),
    ("{d}人力资源和社会保障局", UnitKind.DEPARTMENT),
    ("{d}市场监督管理局", UnitKind.DEPARTMENT),
    ("{d}民政局", UnitKind.DEPARTMENT),
    ("示范市生态环境局{s}分局", UnitKind.DEPARTMENT),
    ("示范市公安局{s}分局", UnitKind.POLICE),
    ("{d}人民法院", UnitKind.COURT),
]


@dataclass(frozen=True)
class DemoSize:
    streets_per_district: tuple[int, ...]
    communities: int
    grids_per_community: int


FULL = DemoSize(tuple(STREETS_PER_DISTRICT), COMMUNITIES, GRIDS_PER_COMMUNITY)
# A small city for tests: the same shape with every level present, built in a second.
SMALL = DemoSize((2, 1), 6, 2)


@dataclass
class DemoReport:
    regions_created: int = 0
    units_created: int = 0
    personas_created: int = 0
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Persona:
    username: str
    display_name: str
    role: str | None  # None for a resident
    unit: str | None  # key into the built units
    region: str | None  # key into the built regions
    title: str = ""
    is_staff: bool = False


PERSONAS = [
    Persona("resident", "林小雨", None, None, None),
    Persona(
        "grid_worker", "王建国", MembershipRole.GRID_WORKER, "committee-1", "grid-1", "专职网格员"
    ),
    Persona("dispatcher", "陈思远", MembershipRole.DISPATCHER, "command-centre", "city", "派单员"),
    Persona(
        "street_officer",
        "赵海峰",
        MembershipRole.HANDLER,
        "street-office-1",
        "street-1",
        "街道综治办干部",
    ),
    Persona("handler", "周敏", MembershipRole.HANDLER, "district-urban-1", "district-1", "承办人"),
    Persona(
        "district_leader",
        "孙立平",
        MembershipRole.LEADER,
        "district-government-1",
        "district-1",
        "副区长",
    ),
    Persona(
        "city_admin",
        "吴磊",
        MembershipRole.ADMINISTRATOR,
        "command-centre",
        "city",
        "系统管理员",
        True,
    ),
    Persona("auditor", "郑清", MembershipRole.AUDITOR, "political-legal", "city", "审计员"),
    Persona(
        "mediator", "何静", MembershipRole.MEDIATOR, "street-centre-1", "street-1", "人民调解员"
    ),
    Persona("assessor", "冯涛", MembershipRole.ASSESSOR, "command-centre", "city", "考评员"),
]


def plan_regions(size: DemoSize) -> list[RegionRow]:
    """Every region of the city, parents first, with codes, names and boundaries."""
    pool = NamePool(seed=20261127)
    rows = [RegionRow(CITY_CODE, CITY_NAME, None, CITY_BOX.polygon(), CITY_BOX.centre)]
    district_boxes = CITY_BOX.split(len(size.streets_per_district))
    streets: list[tuple[str, bool, Box]] = []
    for index, (street_count, box) in enumerate(
        zip(size.streets_per_district, district_boxes, strict=False)
    ):
        name, county = DISTRICTS[index]
        code = f"9901{index + 2:02d}000000"
        rows.append(RegionRow(code, name, CITY_CODE, box.polygon(), box.centre))
        for s_index, s_box in enumerate(box.split(street_count)):
            stem = pool.stem()
            street_name = (f"{stem}镇" if s_index % 3 else f"{stem}乡") if county else f"{stem}街道"
            street_code = f"{code[:6]}{s_index + 1:03d}000"
            rows.append(RegionRow(street_code, street_name, code, s_box.polygon(), s_box.centre))
            streets.append((street_code, county, s_box))
    base, extra = divmod(size.communities, len(streets))
    for s_index, (street_code, county, s_box) in enumerate(streets):
        count = base + (1 if s_index < extra else 0)
        for c_index, c_box in enumerate(s_box.split(count)):
            community_name = pool.community(rural=county)
            number = (200 if county else 1) + c_index
            community_code = f"{street_code[:9]}{number:03d}"
            rows.append(
                RegionRow(
                    community_code, community_name, street_code, c_box.polygon(), c_box.centre
                )
            )
            for g_index, g_box in enumerate(c_box.split(size.grids_per_community)):
                rows.append(
                    RegionRow(
                        f"{community_code}{g_index + 1:03d}",
                        f"{community_name}第{numeral(g_index + 1)}网格",
                        community_code,
                        g_box.polygon(),
                        g_box.centre,
                    )
                )
    return rows


def _ensure_unit(
    name: str, kind: str, region: Region, actor: User, *, short_name: str = "", phone: str = ""
) -> tuple[Unit, bool]:
    existing = Unit.objects.filter(region=region, name=name).first()
    if existing is not None:
        return existing, False
    unit = territory_services.create_unit(
        name=name, kind=kind, region=region, actor=actor, short_name=short_name, phone=phone
    )
    return unit, True


def build_demo_city(size: DemoSize = FULL, cases: int | None = None) -> DemoReport:
    """``cases``: how many historical cases to import (``demo.history``); by default 20,000
    for the full city and none for the small one."""
    report = DemoReport()
    actor = account_services.system_actor()
    with transaction.atomic():
        rows = plan_regions(size)
        report.regions_created = territory_services.import_region_tree(
            rows, actor=actor, reason="demo city"
        )
        regions = {r.code: r for r in Region.objects.filter(code__in=[row.code for row in rows])}
        city = regions[CITY_CODE]
        units: dict[str, Unit] = {}

        def ensure(key: str | None, name: str, kind: str, region: Region, short: str = "") -> Unit:
            unit, created = _ensure_unit(name, kind, region, actor, short_name=short)
            report.units_created += created
            if key:
                units[key] = unit
            return unit

        keys = {
            UnitKind.COMMAND_CENTRE: "command-centre",
            UnitKind.POLITICAL_LEGAL: "political-legal",
        }
        for name, short, kind in CITY_OTHERS:
            ensure(keys.get(kind), name, kind, city, short)
        for name, short in CITY_DEPARTMENTS:
            ensure(None, name, UnitKind.DEPARTMENT, city, short)

        districts = sorted(
            (r for r in regions.values() if r.level == RegionLevel.DISTRICT), key=lambda r: r.code
        )
        for d_index, district in enumerate(districts, start=1):
            stem = district.name[:-1]
            for template, kind in DISTRICT_UNITS:
                unit = ensure(None, template.format(d=district.name, s=stem), kind, district)
                if kind == UnitKind.GOVERNMENT:
                    units[f"district-government-{d_index}"] = unit
                if "城市管理" in template:
                    units[f"district-urban-{d_index}"] = unit

        streets = sorted(
            (r for r in regions.values() if r.level == RegionLevel.STREET), key=lambda r: r.code
        )
        for s_index, street in enumerate(streets, start=1):
            office = "人民政府" if street.name.endswith(("镇", "乡")) else "办事处"
            units[f"street-office-{s_index}"] = ensure(
                None, f"{street.name}{office}", UnitKind.GOVERNMENT, street
            )
            units[f"street-centre-{s_index}"] = ensure(
                None, f"{street.name}综治中心", UnitKind.COMMAND_CENTRE, street
            )
            ensure(
                None,
                f"{street.name[:-2] if office == '办事处' else street.name[:-1]}派出所",
                UnitKind.POLICE,
                street,
            )

        communities = sorted(
            (r for r in regions.values() if r.level == RegionLevel.COMMUNITY), key=lambda r: r.code
        )
        for c_index, community in enumerate(communities, start=1):
            suffix = "村民委员会" if community.name.endswith("村") else "居民委员会"
            units[f"committee-{c_index}"] = ensure(
                None, f"{community.name}{suffix}", UnitKind.COMMUNITY_COMMITTEE, community
            )

        seed_request_loop(actor, city, districts)

        first_grid = min(
            (r for r in regions.values() if r.level == RegionLevel.GRID), key=lambda r: r.code
        )
        places = {
            "city": city,
            "district-1": districts[0],
            "street-1": streets[0],
            "grid-1": first_grid,
        }
        for persona in PERSONAS:
            report.personas_created += _ensure_persona(persona, units, places, actor)

    report.counts = {
        "regions": Region.objects.count(),
        "districts": Region.objects.filter(level=RegionLevel.DISTRICT).count(),
        "streets": Region.objects.filter(level=RegionLevel.STREET).count(),
        "communities": Region.objects.filter(level=RegionLevel.COMMUNITY).count(),
        "grids": Region.objects.filter(level=RegionLevel.GRID).count(),
        "units": Unit.objects.count(),
        "personas": User.objects.filter(is_demo=True).count(),
    }
    from gongzhi.demo.history import HISTORY_CASES, historical_cases, import_history

    if import_history(HISTORY_CASES if cases is None and size == FULL else cases or 0):
        from gongzhi.evaluation.tallies import rebuild_tallies

        rebuild_tallies()  # the command centre's figures include the history at once
        _train_demo_classifier()
        from gongzhi.evaluation.assessment_demo import seed_demo_systems

        seed_demo_systems(account_services.system_actor())
    report.counts["historical cases"] = historical_cases()
    return report


def _train_demo_classifier() -> None:
    """Train the intake classifier on the history's registered cases (the categories the
    dispatchers chose) and activate it, so new demo cases get a proposed category. The
    demo's texts are made from templates, so this model only knows the demo's phrasing:
    a real city trains on its own records (docs/triage.md)."""
    from gongzhi.triage import queries as triage_queries
    from gongzhi.triage import services as triage_services
    from gongzhi.triage.dataset import parse_labelled
    from gongzhi.triage.recipes import DEFAULT, RECIPES

    raw = triage_queries.dispatcher_choices_csv(limit=4000)
    data = parse_labelled(raw, name="dispatcher-choices.csv")
    if len(set(data.labels)) < 2:
        return
    record = triage_services.train_model(
        data,
        recipe=RECIPES[DEFAULT],
        name="demo",
        actor=account_services.system_actor(),
        cv_repeats=0,
    )
    triage_services.activate_model(record.version, actor=account_services.system_actor())


CATEGORIES_CSV = Path(__file__).resolve().parent.parent / "cases" / "data" / "categories.csv"
UTILITIES = {
    "城乡建设/城市建设和市政管理/自来水供应": "示范市供水集团有限公司",
    "城乡建设/城市建设和市政管理/燃气供应": "示范市燃气有限公司",
    "城乡建设/城市建设和市政管理/电力供应": "国网示范市供电公司",
    "城乡建设/城市建设和市政管理/冬季采暖": "示范市热力有限公司",
}
# First-level category > the district department that answers for it in each district.
DISTRICT_OWNERS = {
    "环境保护": "示范市生态环境局{s}分局",
    "教育文体": "{d}教育局",
    "卫生计生": "{d}卫生健康局",
    "劳动和社会保障": "{d}人力资源和社会保障局",
    "商贸旅游": "{d}市场监督管理局",
    "民政": "{d}民政局",
}
CITY_OWNERS = {"交通运输": "示范市交通运输局"}


def read_categories() -> list[tuple[str, ...]]:
    with CATEGORIES_CSV.open(encoding="utf-8") as f:
        return [tuple(row) for row in csv.reader(f)][1:]


def seed_request_loop(actor: User, city: Region, districts: list[Region]) -> None:
    """Categories, time limits, escalation and routing rules: the city's defaults."""
    cases_services.import_categories(read_categories(), actor=actor)
    categories = {c.path: c for c in Category.objects.filter(level__lte=3)}
    limits = [
        (Stage.DISPATCH, 30, DurationUnit.MINUTES, None, ""),
        (Stage.DISPATCH, 10, DurationUnit.MINUTES, None, Urgency.URGENT),
        (Stage.DISPATCH, 10, DurationUnit.MINUTES, None, Urgency.DANGER),
        (Stage.SIGN, 2, DurationUnit.WORKING_HOURS, None, ""),
        (Stage.SIGN, 30, DurationUnit.MINUTES, None, Urgency.URGENT),
        (Stage.SIGN, 15, DurationUnit.MINUTES, None, Urgency.DANGER),
        (Stage.FEEDBACK, 7, DurationUnit.WORKING_DAYS, None, ""),
        (Stage.FEEDBACK, 2, DurationUnit.HOURS, None, Urgency.DANGER),
    ]
    for stage, amount, duration_unit, category, urgency in limits:
        cases_services.set_time_limit(
            stage=stage, amount=amount, unit=duration_unit, category=category, urgency=urgency
        )
    cases_services.set_time_limit(
        stage=Stage.FEEDBACK,
        amount=15,
        unit=DurationUnit.WORKING_DAYS,
        complexity=Complexity.COMPLEX,
    )
    for path in UTILITIES:
        cases_services.set_time_limit(
            stage=Stage.FEEDBACK, amount=24, unit=DurationUnit.HOURS, category=categories[path]
        )
    cases_services.set_escalation_rule(
        stage=Stage.DISPATCH, response=EscalationRule.Response.ESCALATE
    )
    cases_services.set_escalation_rule(stage=Stage.SIGN, response=EscalationRule.Response.SUPERVISE)
    cases_services.set_escalation_rule(
        stage=Stage.FEEDBACK, response=EscalationRule.Response.SUPERVISE
    )

    units = {u.name: u for u in Unit.objects.all()}
    for path, name in UTILITIES.items():
        set_routing_rule(
            category=categories[path], region=city, principle=Principle.OWNER, unit=units[name]
        )
    for path, name in CITY_OWNERS.items():
        set_routing_rule(
            category=categories[path], region=city, principle=Principle.OWNER, unit=units[name]
        )
    set_routing_rule(
        category=categories["城乡建设"],
        region=city,
        principle=Principle.LOCALITY,
        locality_level=RegionLevel.STREET,
    )
    for district in districts:
        stem = district.name[:-1]
        for path, template in DISTRICT_OWNERS.items():
            unit = units.get(template.format(d=district.name, s=stem))
            if unit is not None:
                set_routing_rule(
                    category=categories[path], region=district, principle=Principle.OWNER, unit=unit
                )


def _ensure_persona(
    persona: Persona, units: dict[str, Unit], places: dict[str, Region], actor: User
) -> bool:
    user = User.objects.filter(username=persona.username).first()
    created = user is None
    if user is None:
        user = User(
            username=persona.username,
            display_name=persona.display_name,
            is_demo=True,
            is_staff=persona.is_staff,
        )
        user.set_password(DEMO_PASSWORD)
        user.save(force_insert=True)
    if persona.role and persona.unit and persona.region:
        account_services.grant_membership(
            user,
            unit=units[persona.unit],
            role=persona.role,
            region=places[persona.region],
            title=persona.title,
            actor=actor,
        )
    return created
