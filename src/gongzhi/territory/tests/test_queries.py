from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import scope_of
from gongzhi.demo.testing import World
from gongzhi.territory import queries


def test_subtree_ancestors_and_descendants(world: World):
    assert queries.subtree_of(world.district_1).count() == 1 + 2 + 4 + 8
    assert queries.descendants_of(world.street_1).count() == 2 + 4
    assert [r.code for r in queries.ancestors_of(world.grid_1)] == [
        "990100000000",
        "990102000000",
        "990102001000",
        "990102001001",
    ]
    assert queries.region_level_counts(world.city) == {2: 2, 3: 3, 4: 6, 5: 12}


def test_units_serving_a_street_include_the_city_and_district_bodies(world: World):
    scope = scope_of(world.persona("street_officer"), Capability.VIEW_TERRITORY)
    names = set(queries.units_serving(scope).values_list("name", flat=True))
    assert "示范市社会治理综合指挥中心（12345热线）" in names  # covers the whole city
    assert "明湖区人民政府" in names  # covers the street's district
    assert "东岳区人民政府" not in names  # another district
    assert all(not n.startswith("东岳区") for n in names)


def test_region_detail_page_query_count_is_pinned(world: World, as_persona):
    client = as_persona("dispatcher")
    client.get(f"/regions/{world.city.pk}/")  # warm caches (content types, sessions)
    with CaptureQueriesContext(connection) as small:
        assert client.get(f"/regions/{world.street_1.pk}/").status_code == 200
    with CaptureQueriesContext(connection) as large:
        assert client.get(f"/regions/{world.city.pk}/").status_code == 200
    # session, user, memberships, region, child count, level counts, [ancestors], children,
    # units, unread notices: no query per row. The city has no ancestors: that one is skipped.
    assert (len(small), len(large)) == (10, 9)


def test_unit_list_query_count_is_pinned(world: World, as_persona):
    client = as_persona("city_admin")
    client.get("/units/")
    with CaptureQueriesContext(connection) as captured:
        assert client.get("/units/").status_code == 200
    assert len(captured) == 6  # session, user, memberships, count, page, unread notices


def test_paths_compare_byte_by_byte_on_postgresql(db):
    """Subtree ranges need code-point order; a linguistic collation would break them."""
    if connection.vendor != "postgresql":
        assert connection.vendor == "sqlite"  # SQLite's default collation is BINARY
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns "
            "WHERE (table_name, column_name) IN (('territory_region', 'path'), "
            "('core_auditevent', 'region_path'), ('cases_case', 'region_path')) "
            "ORDER BY table_name"
        )
        assert cursor.fetchall() == [
            ("cases_case", "region_path", "C"),
            ("core_auditevent", "region_path", "C"),
            ("territory_region", "path", "C"),
        ]
