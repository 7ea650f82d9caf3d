"""Every indicator against values computed by hand from the fixed cases (see fixtures.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gongzhi.cases.models import Assignment, Case
from gongzhi.demo.testing import World
from gongzhi.evaluation import queries
from gongzhi.evaluation.indicators import Figures, Scheme, change
from gongzhi.evaluation.models import Tally
from gongzhi.evaluation.periods import Period
from gongzhi.evaluation.tallies import rebuild_tallies, refresh_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases
from gongzhi.territory.choices import RegionLevel

MARCH = Period.month(dt.date(2026, 3, 1))
FEBRUARY = Period.month(dt.date(2026, 2, 1))


@pytest.fixture
def tallied(world: World) -> World:
    load_cases(world)
    rebuild_tallies(NOW)
    return world


def counts(figures: Figures) -> dict[str, float]:
    return {k: v for k, v in figures.counts.items() if v}


def test_dispatches_record_how_each_unit_answered(tallied: World):
    b = Case.objects.get(number="H20260309-00002")
    answers = [(a.outcome, a.is_on_time) for a in b.assignments.order_by("dispatched_at")]
    assert answers == [("returned", True), ("signed", False)]
    e = Case.objects.get(number="H20260330-00001")
    assert [(a.outcome, a.is_on_time) for a in e.assignments.all()] == [("pending", None)]
    assert Assignment.objects.filter(case__number__startswith="H2026").count() == 6
    replied = dict(
        Case.objects.filter(number__startswith="H2026").values_list("number", "is_replied_on_time")
    )
    assert replied == {
        "H20260309-00001": True,
        "H20260309-00002": False,
        "H20260310-00001": True,
        "H20260312-00001": None,
        "H20260330-00001": None,
        "H20260210-00001": True,
    }


def test_the_counters_of_a_district_in_march(tallied: World):
    figures = queries.figures_for_region(tallied.district_1, MARCH)
    assert counts(figures) == {
        "submitted_count": 4,
        "assigned_count": 4,
        "response_due_count": 4,
        "responded_on_time_count": 2,
        "signed_on_time_count": 1,
        "returned_count": 1,
        "closed_count": 2,
        "closed_on_time_count": 1,
        "handling_hours": 436.5,
        "rated_count": 2,
        "resolved_count": 1,
        "partly_resolved_count": 1,
        "satisfied_count": 1,
        "basically_satisfied_count": 1,
    }


def test_every_indicator_of_a_district_in_march(tallied: World):
    figures = queries.figures_for_region(tallied.district_1, MARCH)
    assert figures.indicators() == {
        "response_rate": 0.5,
        "sign_on_time_rate": pytest.approx(1 / 3),
        "resolution_rate": 0.75,
        "satisfaction_rate": pytest.approx(0.95),
        "on_time_closure_rate": 0.5,
        "return_rate": 0.25,
        "rework_rate": 0.0,
        "repeat_rate": 0.0,
        "average_handling_hours": 218.25,
    }
    # 10 % x 0.5 + 50 % x 0.75 + 40 % x 0.95
    assert figures.score == Decimal("80.50")
    assert figures.grade == "B"


def test_rework_and_the_other_district(tallied: World):
    figures = queries.figures_for_region(tallied.district_2, MARCH)
    assert counts(figures) == {
        "submitted_count": 1,
        "assigned_count": 1,
        "response_due_count": 1,
        "responded_on_time_count": 1,
        "signed_on_time_count": 1,
        "closed_count": 1,
        "closed_on_time_count": 1,
        "reworked_count": 1,
        "handling_hours": 75.0,
        "rated_count": 1,
        "resolved_count": 1,
        "basically_satisfied_count": 1,
    }
    assert figures.rework_rate == 1.0
    assert figures.satisfaction_rate == pytest.approx(0.9)
    assert figures.score == Decimal("96.00")
    assert figures.grade == "A"


def test_the_city_is_the_sum_of_its_districts(tallied: World):
    city = queries.figures_for_region(tallied.city, MARCH)
    one = queries.figures_for_region(tallied.district_1, MARCH)
    two = queries.figures_for_region(tallied.district_2, MARCH)
    assert city.counts == (one + two).counts
    # 10 % x 3/5 + 50 % x 2.5/3 + 40 % x 2.8/3 = 6 + 41.6667 + 37.3333
    assert city.score == Decimal("85.00")


def test_a_unit_is_judged_on_what_was_dispatched_to_it(tallied: World):
    b = Case.objects.get(number="H20260309-00002")
    assert b.unit is not None
    figures = queries.figures_for_unit(b.unit, MARCH)
    assert (figures["assigned_count"], figures["returned_count"]) == (4, 1)
    assert figures.response_rate == 0.5


def test_month_on_month_and_year_on_year(tallied: World):
    comparison = queries.compare_region(tallied.district_1, MARCH)
    assert comparison.previous.indicators()["response_rate"] == 1.0
    assert comparison.previous.satisfaction_rate == 0.0
    assert comparison.previous.score == Decimal("60.00")
    assert change(comparison.current.response_rate, comparison.previous.response_rate) == -0.5
    assert comparison.year_before.score is None
    assert change(comparison.current.response_rate, comparison.year_before.response_rate) is None


def test_a_configured_scheme_changes_the_score_not_the_counts(tallied: World):
    scheme = Scheme(
        response_weight=Decimal(20),
        resolution_weight=Decimal(40),
        satisfaction_weight=Decimal(40),
        basically_satisfied_value=Decimal("0.8"),
        partly_resolved_value=Decimal(0),
    )
    figures = queries.figures_for_region(tallied.district_1, MARCH, scheme)
    assert figures.resolution_rate == 0.5
    assert figures.satisfaction_rate == pytest.approx(0.9)
    # 20 % x 0.5 + 40 % x 0.5 + 40 % x 0.9 = 10 + 20 + 36
    assert figures.score == Decimal("66.00")
    assert figures.grade == "C"


def test_streets_of_the_city(tallied: World):
    by_street = queries.figures_by_child(tallied.city, MARCH, RegionLevel.STREET)
    scores = {street.name: figs.score for street, figs in by_street.items()}
    assert scores == {
        tallied.street_1.name: Decimal("80.50"),
        tallied.street_of_district_2.name: Decimal("96.00"),
        **{
            s.name: None
            for s in by_street
            if s.pk not in (tallied.street_1.pk, tallied.street_of_district_2.pk)
        },
    }
    assert len(by_street) == 3


def test_trend_by_month(tallied: World):
    trend = queries.monthly_figures(tallied.city, Period(dt.date(2026, 1, 1), dt.date(2026, 3, 1)))
    assert [(m.month, f.case_count) for m, f in trend] == [(1, 0), (2, 1), (3, 5)]


def test_empty_means_none_not_a_perfect_rate():
    figures = Figures.of({})
    assert figures.indicators() == dict.fromkeys(figures.indicators(), None)
    assert figures.score is None
    assert figures.grade is None


@pytest.mark.parametrize(
    ("score", "grade"),
    [
        ("90", "A"),
        ("89.99", "B"),
        ("75", "B"),
        ("60", "C"),
        ("40", "D"),
        ("39.99", "E"),
        ("0", "E"),
    ],
)
def test_grades(score, grade):
    assert Scheme().grade(Decimal(score)) == grade


def test_refresh_recomputes_only_months_that_changed(tallied: World):
    later = NOW + dt.timedelta(seconds=30)
    assert refresh_tallies(later).months == []  # nothing changed; April computed 30 s ago
    assert refresh_tallies(later + dt.timedelta(minutes=1)).months == [dt.date(2026, 4, 1)]
    rows_before = Tally.objects.filter(month=dt.date(2026, 2, 1)).count()
    e = Case.objects.get(number="H20260330-00001")
    Case.objects.filter(pk=e.pk).update(updated_at=later)  # as any service would
    report = refresh_tallies(later + dt.timedelta(minutes=10))
    assert report.months == [dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert Tally.objects.filter(month=dt.date(2026, 2, 1)).count() == rows_before


def test_a_late_change_to_an_old_case_reaches_its_months(tallied: World, world: World):
    """A case submitted in February and rated again in March moves figures out of February."""
    f = Case.objects.get(number="H20260210-00001")
    later = NOW + dt.timedelta(hours=1)
    Case.objects.filter(pk=f.pk).update(
        rated_at=dt.datetime(2026, 3, 20, 10, tzinfo=NOW.tzinfo), updated_at=later
    )
    report = refresh_tallies(later)
    assert report.months == [dt.date(2026, 2, 1), dt.date(2026, 3, 1), dt.date(2026, 4, 1)]
    assert queries.figures_for_region(world.district_1, FEBRUARY)["rated_count"] == 0
    assert queries.figures_for_region(world.district_1, MARCH)["rated_count"] == 3


def test_area_tallies_are_the_tallies_summed_to_streets(tallied: World):
    """District and street figures read AreaTally, grid figures Tally: every case of
    明湖区 in March lies in grid 1, so all three agree."""
    from gongzhi.evaluation.models import AreaTally

    district = queries.figures_for_region(tallied.district_1, MARCH)
    street = queries.figures_for_region(tallied.street_1, MARCH)
    grid = queries.figures_for_region(tallied.grid_1, MARCH)
    assert district.counts == street.counts == grid.counts
    assert set(
        AreaTally.objects.filter(month=MARCH.first).values_list("region_path", flat=True)
    ) == {
        tallied.street_1.path,
        tallied.street_of_district_2.path,
    }
