"""The command centre and the public page, against the fixed cases of the evaluation tests
(evaluation/tests/fixtures.py), whose figures are computed by hand there."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gongzhi.cases.queries import LiveCounts
from gongzhi.core.working_days import LOCAL
from gongzhi.dashboards import queries
from gongzhi.demo.testing import World
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

MARCH = dt.date(2026, 3, 1)
# Late on the last day of March: the command centre shows March.
END_OF_MARCH = dt.datetime(2026, 3, 31, 18, 0, tzinfo=LOCAL)


@pytest.fixture
def tallied(world: World) -> World:
    load_cases(world)
    rebuild_tallies(NOW)
    return world


def test_the_command_centre_of_a_district_in_march(tallied: World):
    centre = queries.command_centre(tallied.district_1, END_OF_MARCH)
    figures = centre.figures
    assert (figures.month, figures.case_count, figures.previous_case_count) == (MARCH, 4, 1)
    # 10 % x 0.5 + 50 % x 0.75 + 40 % x 0.95; February: 60.00; no cases a year before.
    assert (figures.score, figures.previous_score, figures.year_before_score) == (
        Decimal("80.50"),
        Decimal("60.00"),
        None,
    )
    assert (figures.grade, figures.score_month_on_month, figures.score_year_on_year) == (
        "B",
        Decimal("20.50"),
        None,
    )
    rows = {row.key: row for row in figures.indicators}
    assert list(rows) == [
        "response_rate",
        "sign_on_time_rate",
        "resolution_rate",
        "satisfaction_rate",
        "on_time_closure_rate",
        "return_rate",
        "rework_rate",
        "repeat_rate",
        "average_handling_hours",
    ]
    response = rows["response_rate"]
    assert (response.current, response.previous, response.month_on_month) == (0.5, 1.0, -0.5)
    assert response.year_on_year is None
    assert rows["satisfaction_rate"].current == pytest.approx(0.95)
    assert rows["satisfaction_rate"].month_on_month == pytest.approx(0.95)
    hours = rows["average_handling_hours"]
    assert (hours.current, hours.previous, hours.is_rate) == (218.25, 26.5, False)
    assert centre.computed_at == NOW


def test_the_streets_and_the_grids_of_the_district(tallied: World):
    centre = queries.command_centre(tallied.district_1, END_OF_MARCH)
    assert centre.area_level == 3
    assert [(a.name, a.case_count, a.score, a.grade) for a in centre.areas] == [
        (tallied.street_1.name, 4, Decimal("80.50"), "B"),
        ("柳秀街道", 0, None, ""),
    ]
    heat = {g.name: g.case_count for g in centre.heat}
    assert len(heat) == 8  # every grid of the district, with or without cases
    assert heat.pop(tallied.grid_1.name) == 4  # A, B, D and E
    assert set(heat.values()) == {0}
    assert all(g.boundary and g.boundary["type"] == "Polygon" for g in centre.heat)


def test_the_trend_is_twelve_months_up_to_this_one(tallied: World):
    trend = queries.command_centre(tallied.district_1, END_OF_MARCH).trend
    assert [p.month for p in trend][:1] == [dt.date(2025, 4, 1)]
    assert [(p.month, p.case_count) for p in trend if p.case_count] == [
        (dt.date(2026, 2, 1), 1),
        (dt.date(2026, 3, 1), 4),
    ]
    assert len(trend) == 12
    assert trend[-1].satisfaction_rate == pytest.approx(0.95)
    assert trend[-1].on_time_closure_rate == 0.5
    assert (trend[-2].satisfaction_rate, trend[-2].on_time_closure_rate) == (0.0, 1.0)
    assert trend[0].satisfaction_rate is None  # nothing to count, not 0 %


def test_live_counters_and_lists_read_the_cases_now(tallied: World):
    centre = queries.command_centre(tallied.district_1, END_OF_MARCH)
    e_number = "H20260330-00001"  # dispatched on 30 March, never signed for
    assert centre.counts == LiveCounts(
        open_count=1,
        submitted_today_count=0,
        near_deadline_count=0,
        overdue_count=1,
        supervised_count=1,
    )
    assert [line.number for line in centre.overdue] == [e_number]
    assert [(line.number, line.unit_name) for line in centre.supervised] == [
        (e_number, "春山街道办事处")
    ]
    other = queries.command_centre(tallied.district_2, END_OF_MARCH)
    assert (other.counts.open_count, other.overdue, other.supervised) == (0, [], [])


def test_a_street_shows_its_communities_and_a_grid_nothing_below(tallied: World):
    assert queries.area_level(tallied.street_1) == 4
    assert queries.area_level(tallied.city) == 3
    centre = queries.command_centre(tallied.grid_1, END_OF_MARCH)
    assert (centre.area_level, centre.areas) == (None, [])
    assert [(g.name, g.case_count) for g in centre.heat] == [(tallied.grid_1.name, 4)]


def test_the_public_figures_are_the_last_full_month_of_the_city(tallied: World):
    shown = queries.public_figures(queries.public_region(), NOW)
    assert shown.region == tallied.city
    figures = shown.figures
    assert (figures.month, figures.case_count, figures.score, figures.grade) == (
        MARCH,
        5,
        Decimal("85.00"),
        "B",
    )
    assert [(a.name, a.case_count, a.score, a.grade) for a in shown.areas] == [
        (tallied.district_2.name, 1, Decimal("96.00"), "A"),  # the best first
        (tallied.district_1.name, 4, Decimal("80.50"), "B"),
    ]
    assert len(shown.heat) == 12
    assert sum(g.case_count for g in shown.heat) == 4  # C is at a street, not in a grid
    assert [(p.month, p.case_count) for p in shown.trend][-2:] == [
        (dt.date(2026, 2, 1), 1),
        (dt.date(2026, 3, 1), 5),
    ]
    assert shown.counts == LiveCounts(1, 0, 0, 1, 1)
    assert shown.rankings == []  # none published (see tests/test_permission_matrix_dashboards.py)
    assert shown.computed_at == NOW
