from __future__ import annotations

import pytest
from django.contrib.auth import authenticate

from gongzhi.accounts.models import Membership, User
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD, FULL, SMALL, build_demo_city, plan_regions
from gongzhi.demo.names import numeral
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.services import RegionRow


def test_the_full_plan_has_the_promised_shape():
    rows = plan_regions(FULL)
    by_length: dict[int, list[RegionRow]] = {}
    for row in rows:
        by_length.setdefault(len(row.code), []).append(row)
    assert len(rows) == 1 + 8 + 60 + 400 + 2000
    assert len({row.code for row in rows}) == len(rows)
    assert len(by_length[15]) == 2000
    assert rows[0].name == "示范市"
    parents = {row.code: row for row in rows}

    def level(row):
        return 1 if row.parent_code is None else level(parents[row.parent_code]) + 1

    districts = [r.name for r in rows if level(r) == 2]
    assert districts == [
        "明湖区",
        "东岳区",
        "西津区",
        "南屏区",
        "北塘区",
        "临江区",
        "青禾县",
        "云岭县",
    ]
    # Each code extends its parent's significant digits (GB/T 2260: 4, 6, 9, 12).
    significant = {1: 4, 2: 6, 3: 9, 4: 12}
    for row in rows[1:]:
        assert row.parent_code is not None
        parent = parents[row.parent_code]
        digits = significant[level(parent)]
        assert row.code[:digits] == parent.code[:digits], row
    # Counties have towns and villages; villages are numbered from 200.
    county_villages = [r for r in rows if level(r) == 4 and r.code.startswith("990108")]
    assert len(county_villages) == 42  # 云岭县: 6 towns, 7 villages each
    assert all(r.name.endswith("村") and r.code[9] == "2" for r in county_villages)
    grid = next(r for r in rows if len(r.code) == 15)
    assert grid.code.startswith(grid.parent_code or "-")
    assert grid.name.endswith("第一网格")


def test_the_plan_is_deterministic():
    assert plan_regions(FULL) == plan_regions(FULL)


@pytest.mark.parametrize(
    ("n", "text"), [(1, "一"), (5, "五"), (10, "十"), (12, "十二"), (20, "二十"), (25, "二十五")]
)
def test_numerals(n, text):
    assert numeral(n) == text


def test_small_city_is_built_with_every_persona(db):
    assert Region.objects.count() == 1 + 2 + 3 + 6 + 12
    assert sorted(User.objects.filter(is_demo=True).values_list("username", flat=True)) == sorted(
        [
            "resident",
            "grid_worker",
            "dispatcher",
            "street_officer",
            "handler",
            "district_leader",
            "city_admin",
            "auditor",
            "mediator",
            "assessor",
        ]
    )
    assert not Membership.objects.filter(user__username="resident").exists()
    grid_worker = Membership.objects.get(user__username="grid_worker")
    assert (grid_worker.role, grid_worker.region.code) == ("grid_worker", "990102001001001")
    assert authenticate(username="city_admin", password=DEMO_PASSWORD) is not None


def test_building_again_changes_nothing(db):
    before = (
        Region.objects.count(),
        Unit.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )
    report = build_demo_city(SMALL)
    after = (
        Region.objects.count(),
        Unit.objects.count(),
        Membership.objects.count(),
        AuditEvent.objects.count(),
    )
    assert (report.regions_created, report.units_created, report.personas_created) == (0, 0, 0)
    assert after == before


@pytest.mark.slow
def test_full_demo_city_counts(db):
    report = build_demo_city(FULL, cases=0)
    assert report.counts["districts"] == 8
    assert report.counts["streets"] == 60
    assert report.counts["communities"] == 400
    assert report.counts["grids"] == 2000
    assert report.counts["personas"] == 10
    assert 700 <= report.counts["units"] <= 760
