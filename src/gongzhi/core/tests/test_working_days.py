"""Deadlines on the Chinese calendar: holidays, make-up working days, office hours."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.working_days import LOCAL, DurationUnit, WorkingCalendar

CAL = WorkingCalendar({})


def at(y: int, m: int, d: int, h: int = 0, mi: int = 0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=LOCAL)


@pytest.mark.parametrize(
    ("start", "amount", "unit", "expected"),
    [
        # Natural time ignores the calendar.
        (at(2026, 10, 1, 10), 30, DurationUnit.MINUTES, at(2026, 10, 1, 10, 30)),
        (at(2026, 10, 1, 23), 2, DurationUnit.HOURS, at(2026, 10, 2, 1)),
        # Wednesday before National Day + 1 working day: the holiday runs to 7 October.
        (at(2026, 9, 30, 15), 1, DurationUnit.WORKING_DAYS, at(2026, 10, 8, 15)),
        # 10 October 2026 is a Saturday worked in exchange (调休): it counts.
        (at(2026, 10, 9, 11), 1, DurationUnit.WORKING_DAYS, at(2026, 10, 10, 11)),
        (at(2026, 10, 9, 11), 2, DurationUnit.WORKING_DAYS, at(2026, 10, 12, 11)),
        # Submitted on a holiday: counting starts at the next working day's office start.
        (at(2026, 10, 3, 20), 1, DurationUnit.WORKING_DAYS, at(2026, 10, 9, 9)),
        # Seven working days from an ordinary Monday.
        (at(2026, 11, 23, 10), 7, DurationUnit.WORKING_DAYS, at(2026, 12, 2, 10)),
        # Working hours: office hours 9:00-17:00 on working days only.
        (at(2026, 11, 27, 16), 2, DurationUnit.WORKING_HOURS, at(2026, 11, 30, 10)),
        (at(2026, 11, 27, 7), 2, DurationUnit.WORKING_HOURS, at(2026, 11, 27, 11)),
        (at(2026, 9, 30, 16, 30), 1, DurationUnit.WORKING_HOURS, at(2026, 10, 8, 9, 30)),
    ],
)
def test_deadlines(start, amount, unit, expected):
    assert CAL.add(start, amount, unit) == expected


def test_years_the_package_does_not_know_fall_back_to_weekends():
    # 2027 has no data in chinese-calendar 1.11: Friday + 1 working day = Monday.
    assert CAL.add(at(2027, 3, 5, 10), 1, DurationUnit.WORKING_DAYS) == at(2027, 3, 8, 10)


def test_a_citys_override_beats_the_package():
    holiday = WorkingCalendar({dt.date(2027, 3, 8): False})
    assert holiday.add(at(2027, 3, 5, 10), 1, DurationUnit.WORKING_DAYS) == at(2027, 3, 9, 10)
    makeup = WorkingCalendar({dt.date(2026, 10, 3): True})
    assert makeup.add(at(2026, 9, 30, 15), 1, DurationUnit.WORKING_DAYS) == at(2026, 10, 3, 15)


def test_negative_durations_are_refused():
    with pytest.raises(ValueError, match="never negative"):
        CAL.add(at(2026, 1, 5), -1, DurationUnit.HOURS)


moments = st.datetimes(
    min_value=dt.datetime(2024, 1, 1),  # noqa: DTZ001 (hypothesis adds the zone)
    max_value=dt.datetime(2026, 12, 1),  # noqa: DTZ001
    timezones=st.just(LOCAL),
)


@given(moments, st.integers(min_value=0, max_value=40))
def test_working_deadlines_land_on_working_days_and_grow_with_the_amount(start, days):
    due = CAL.add(start, days, DurationUnit.WORKING_DAYS)
    later = CAL.add(start, days + 1, DurationUnit.WORKING_DAYS)
    assert due >= start
    assert later > due
    if days:
        assert CAL.is_workday(due.astimezone(LOCAL).date())


@given(moments, st.integers(min_value=1, max_value=100))
def test_working_hours_end_inside_office_hours(start, hours):
    due = CAL.add(start, hours, DurationUnit.WORKING_HOURS).astimezone(LOCAL)
    assert CAL.is_workday(due.date())
    assert dt.time(9) < due.time() <= dt.time(17)
