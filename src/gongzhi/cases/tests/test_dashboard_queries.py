"""The command centre's reads over cases: live counters and the overdue and supervised lists
of a region subtree, with cases raised and moved through the services at fixed times."""

from __future__ import annotations

import datetime as dt
from typing import Any
from unittest import mock

import pytest

from gongzhi.cases import services
from gongzhi.cases.deadlines import sweep_deadlines
from gongzhi.cases.models import Case, Category, EscalationRule
from gongzhi.cases.queries import (
    CaseLine,
    LiveCounts,
    live_counts,
    overdue_cases,
    supervised_cases,
)
from gongzhi.cases.services import NewCase
from gongzhi.core.scoping import Scope
from gongzhi.core.working_days import LOCAL
from gongzhi.demo.testing import World
from gongzhi.territory.models import Region

GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
# A Wednesday with working days around it.
NOW = dt.datetime(2026, 6, 10, 10, 15, tzinfo=LOCAL)


def on(day: int, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime(2026, 6, day, hour, minute, tzinfo=LOCAL)


def at(when: dt.datetime) -> Any:
    """Services read the clock from ``timezone.now``: stop it at ``when``."""
    return mock.patch("django.utils.timezone.now", return_value=when)


def raise_case(
    world: World, when: dt.datetime, region: Region, title: str, *, with_point: bool = False
) -> Case:
    """A case raised by the resident at ``when`` through ``submit_case``, with a distinctive
    name, phone and address (the public page must show none of them)."""
    new = NewCase(
        title=title,
        description="路灯坏了一个星期，晚上很黑。",
        region=region,
        category=Category.objects.get(path=GREENING),
        reporter_name="欧阳娜娜",
        reporter_phone="13912345678",
        address="翠湖路88号3号楼",
        latitude=region.centre_lat if with_point else None,
        longitude=region.centre_lng if with_point else None,
    )
    with at(when):
        return services.submit_case(new, actor=world.persona("resident"), submitted_at=when)


@pytest.fixture
def cases(world: World) -> dict[str, Case]:
    """Given, in 明湖区 (district 1) unless said otherwise:
    a: raised yesterday, never registered (overdue by now);
    b: raised today at 09:50 (near its 10:20 deadline by 10:15);
    c: raised today and rejected (closed);
    d: raised today in 东岳区 (district 2), overdue (outside district 1);
    e: raised two days ago, dispatched, signed for and supervised by the district leader;
    f: raised three days ago and closed."""
    EscalationRule.objects.update(is_active=False)  # the clock only warns here
    dispatcher, leader = world.persona("dispatcher"), world.persona("district_leader")
    officer = world.persona("street_officer")
    made = {
        "a": raise_case(world, on(9, 9), world.grid_1, "小区路灯不亮"),
        "b": raise_case(world, on(10, 9, 50), world.grid_1, "井盖缺失"),
        "c": raise_case(world, on(10, 9), world.grid_1, "咨询公交线路"),
        "d": raise_case(world, on(10, 9, 30), world.street_of_district_2, "噪音扰民"),
        "e": raise_case(world, on(8, 9), world.grid_1, "垃圾清运不及时，电话13800138000"),
        "f": raise_case(world, on(7, 9), world.grid_1, "绿化带杂草"),
    }
    with at(on(10, 9, 5)):
        services.reject_case(made["c"], actor=dispatcher, reason="不属于受理范围")
    with at(on(8, 9, 10)):
        e = services.register_case(made["e"], actor=dispatcher)
        e = services.dispatch_case(e, actor=dispatcher)
        e = services.sign_for_case(e, actor=officer)
    with at(on(9, 11)):
        services.supervise_case(e, actor=leader, note="请加快办理")
    with at(on(7, 9, 10)):
        f = services.register_case(made["f"], actor=dispatcher)
        f = services.dispatch_case(f, actor=dispatcher)
        f = services.sign_for_case(f, actor=officer)
        f = services.reply_to_case(f, actor=officer, reply="已安排人员清理杂草，并增加巡查。")
        f = services.verify_case(f, actor=world.persona("grid_worker"), resolved=True, note="")
        services.close_case(f, actor=dispatcher)
    with at(NOW):
        sweep_deadlines(NOW)
    return {key: Case.objects.get(pk=case.pk) for key, case in made.items()}


def test_the_warnings_are_as_the_fixture_says(cases: dict[str, Case]):
    states = {k: (c.state, c.warning, c.is_supervised) for k, c in cases.items()}
    assert states == {
        "a": ("submitted", "red", False),
        "b": ("submitted", "yellow", False),
        "c": ("rejected", "none", False),
        "d": ("submitted", "red", False),
        "e": ("in_progress", "none", True),
        "f": ("closed", "none", False),
    }


def test_live_counts_of_a_district(world: World, cases: dict[str, Case]):
    found = live_counts(Scope.of([world.district_1.path]), NOW)
    assert found == LiveCounts(
        open_count=3,  # a, b, e
        submitted_today_count=2,  # b, c
        near_deadline_count=1,  # b
        overdue_count=1,  # a
        supervised_count=1,  # e
    )


def test_live_counts_of_the_city_and_of_an_empty_scope(world: World, cases: dict[str, Case]):
    assert live_counts(Scope.of([world.city.path]), NOW) == LiveCounts(4, 3, 1, 2, 1)
    assert live_counts(Scope(), NOW) == LiveCounts(0, 0, 0, 0, 0)


def test_today_is_the_local_day_up_to_now(world: World, cases: dict[str, Case]):
    scope = Scope.of([world.district_1.path])
    # At 09:30 b was not raised yet; just after midnight nothing was raised today.
    assert live_counts(scope, on(10, 9, 30)).submitted_today_count == 1
    assert live_counts(scope, on(10, 0, 1)).submitted_today_count == 0


def test_the_overdue_list_shows_no_person(world: World, cases: dict[str, Case]):
    a = cases["a"]
    assert overdue_cases(Scope.of([world.district_1.path])) == [
        CaseLine(
            id=a.pk,
            number=a.number,
            title="小区路灯不亮",
            unit_name="",
            region_name=world.grid_1.name,
            due_at=on(9, 9, 30),
            warning="red",
            is_supervised=False,
        )
    ]
    city = overdue_cases(Scope.of([world.city.path]))
    assert [line.number for line in city] == [a.number, cases["d"].number]  # longest first
    assert [line.number for line in overdue_cases(Scope.of([world.city.path]), limit=1)] == [
        a.number
    ]


def test_the_supervised_list_redacts_titles(world: World, cases: dict[str, Case]):
    e = cases["e"]
    (line,) = supervised_cases(Scope.of([world.district_1.path]))
    assert (line.number, line.title, line.unit_name, line.due_at, line.is_supervised) == (
        e.number,
        "垃圾清运不及时，电话138****8000",
        "春山街道办事处",
        e.due_at,
        True,
    )
    assert supervised_cases(Scope.of([world.district_2.path])) == []
