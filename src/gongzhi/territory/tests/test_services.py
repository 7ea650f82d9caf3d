from __future__ import annotations

import pytest
from django.utils import translation

from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.testing import World
from gongzhi.territory import services
from gongzhi.territory.errors import (
    DuplicateRegionCode,
    InvalidBoundary,
    InvalidJurisdiction,
    InvalidRegionCode,
)
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.services import RegionRow


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("99010200100", "exactly 12 digits"),
        ("9901020019999", "exactly 12 digits"),
        ("99010200100a", "exactly 12 digits"),
        ("990103001050", "must start with its parent's digits 990102001"),
    ],
)
def test_region_codes_are_checked(world: World, code, message):
    admin = world.persona("city_admin")
    before = Region.objects.count()
    with translation.override("en"), pytest.raises(InvalidRegionCode, match=message):
        services.create_region(world.street_1, code=code, name="新社区", actor=admin)
    assert Region.objects.count() == before


def test_errors_speak_chinese_by_default(world: World):
    with pytest.raises(InvalidRegionCode) as error:
        services.create_region(
            world.street_1, code="990103001050", name="x", actor=world.persona("city_admin")
        )
    assert error.value.message == "代码必须以上级区域的代码前缀 990102001 开头。"
    assert error.value.code == "invalid_region_code"


def test_create_region_under_a_street(world: World):
    admin = world.persona("city_admin")
    region = services.create_region(
        world.street_1, code="990102001050", name=" 新城社区 ", actor=admin, centre=(31.2, 118.7)
    )
    assert (region.level, region.name, region.path) == (
        4,
        "新城社区",
        world.street_1.path + "990102001050/",
    )
    assert (region.centre_lat, region.centre_lng) == (31.2, 118.7)
    event = AuditEvent.objects.get(stream=f"region:{region.pk}")
    assert (event.action, event.actor, event.actor_role) == (
        "region.created",
        admin,
        "administrator",
    )
    with pytest.raises(DuplicateRegionCode):
        services.create_region(world.street_1, code="990102001050", name="重复", actor=admin)


def test_grid_codes_extend_their_community(world: World):
    admin = world.persona("city_admin")
    grid = services.create_region(
        world.community_1, code="990102001001009", name="第九网格", actor=admin
    )
    assert grid.level == 5
    with translation.override("en"), pytest.raises(InvalidRegionCode, match="smallest region"):
        services.create_region(grid, code="990102001001009", name="x", actor=admin)


def test_only_administrators_over_the_parent_add_regions(world: World):
    with pytest.raises(PermissionDenied):
        services.create_region(
            world.street_1, code="990102001050", name="x", actor=world.persona("street_officer")
        )
    with pytest.raises(PermissionDenied):
        services.create_region(
            None, code="990200000000", name="另一市", actor=world.persona("city_admin")
        )


def test_update_region_records_only_real_changes(world: World):
    admin = world.persona("city_admin")
    stream = f"region:{world.grid_1.pk}"
    services.update_region(world.grid_1, actor=admin, name=world.grid_1.name)
    assert not AuditEvent.objects.filter(stream=stream).exists()
    services.update_region(
        world.grid_1, actor=admin, name="新名字", centre=(31.1, 118.9), reason="更正"
    )
    event = AuditEvent.objects.get(stream=stream)
    assert event.data == {
        "name": [world.grid_1.name, "新名字"],
        "centre": [[world.grid_1.centre_lat, world.grid_1.centre_lng], [31.1, 118.9]],
    }
    assert event.reason == "更正"
    assert list(verify_chains(AuditEvent)) == []


@pytest.mark.parametrize(
    "boundary",
    [
        {"type": "Point", "coordinates": [1, 2]},
        {"type": "Polygon", "coordinates": []},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 1]]]},
        {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [200, 0]]]},
        {"type": "Polygon", "coordinates": [[["a", 0], [1, 0], [1, 1], ["a", 0]]]},
        {"type": "Polygon", "coordinates": [[[float("nan"), 0], [1, 0], [1, 1], [0, 0]]]},
        "not geojson",
    ],
)
def test_bad_boundaries_are_refused_and_nothing_changes(world: World, boundary):
    admin = world.persona("city_admin")
    before = Region.objects.get(pk=world.grid_1.pk).boundary
    with pytest.raises(InvalidBoundary):
        services.update_region(world.grid_1, actor=admin, boundary=boundary)
    assert Region.objects.get(pk=world.grid_1.pk).boundary == before


def test_import_is_repeatable_and_checks_parents(world: World):
    system = world.persona("city_admin")
    system.is_superuser = True
    rows = [
        RegionRow("990104000000", "新区", "990100000000"),
        RegionRow("990104001000", "新区街道", "990104000000"),
    ]
    assert services.import_region_tree(rows, actor=system, reason="扩区") == 2
    assert services.import_region_tree(rows, actor=system, reason="扩区") == 0
    orphan = [RegionRow("990105001000", "孤儿街道", "990105000000")]
    with pytest.raises(InvalidRegionCode, match="990105001000"):
        services.import_region_tree(orphan, actor=system, reason="x")


def test_units_cover_only_their_home_subtree(world: World):
    admin = world.persona("city_admin")
    with pytest.raises(InvalidJurisdiction):
        services.create_unit(
            name="越界单位",
            kind="department",
            region=world.district_1,
            actor=admin,
            jurisdictions=[world.district_2],
        )
    unit = services.create_unit(
        name="区新部门", kind="department", region=world.district_1, actor=admin
    )
    assert list(unit.jurisdictions.all()) == [world.district_1]
    updated = services.update_unit(
        unit, actor=admin, jurisdictions=[world.street_1], phone="0551-1234"
    )
    assert list(updated.jurisdictions.all()) == [world.street_1]
    assert Unit.objects.get(pk=unit.pk).phone == "0551-1234"
    event = AuditEvent.objects.filter(stream=f"unit:{unit.pk}").order_by("seq").last()
    assert event is not None
    assert event.data == {
        "phone": ["", "0551-1234"],
        "jurisdictions": [["990102000000"], ["990102001000"]],
    }
