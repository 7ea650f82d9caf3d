"""The working-day clock: deadlines in natural or working time on the Chinese calendar.

Public holidays and make-up working days (调休) come from ``chinese-calendar``, which the
State Council's yearly notice updates; a city can override any day with a
``core.CalendarDay`` row (for a year the package does not know yet, or a local holiday).
Beyond the package's years and without overrides, Saturdays and Sundays are rest days.

Working hours are office hours on working days (``OFFICE_START``..``OFFICE_END``, local time).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

import chinese_calendar

from gongzhi.core import refdata

refdata.watch("core.CalendarDay")

LOCAL = ZoneInfo("Asia/Shanghai")
OFFICE_START = dt.time(9, 0)
OFFICE_END = dt.time(17, 0)


class DurationUnit(StrEnum):
    MINUTES = "minutes"
    HOURS = "hours"
    WORKING_HOURS = "working_hours"
    WORKING_DAYS = "working_days"


def package_says_workday(day: dt.date) -> bool:
    try:
        return bool(chinese_calendar.is_workday(day))
    except NotImplementedError:  # a year the package has no data for
        return day.weekday() < 5


@dataclass(frozen=True)
class WorkingCalendar:
    """Which days are working days: the package, corrected by a city's overrides."""

    overrides: dict[dt.date, bool]

    def is_workday(self, day: dt.date) -> bool:
        if day in self.overrides:
            return self.overrides[day]
        return package_says_workday(day)

    def add(self, start: dt.datetime, amount: int, unit: DurationUnit | str) -> dt.datetime:
        """The moment ``amount`` units after ``start`` (an aware datetime)."""
        unit = DurationUnit(unit)
        if amount < 0:
            raise ValueError("durations are never negative")
        if unit is DurationUnit.MINUTES:
            return start + dt.timedelta(minutes=amount)
        if unit is DurationUnit.HOURS:
            return start + dt.timedelta(hours=amount)
        local = start.astimezone(LOCAL)
        if unit is DurationUnit.WORKING_DAYS:
            return self._add_working_days(local, amount)
        return self._add_working_minutes(local, amount * 60)

    def _add_working_days(self, local: dt.datetime, days: int) -> dt.datetime:
        """N working days later, at the same clock time; counted from the next working day.

        Submitted on Friday 15:00 with 1 working day: Monday 15:00 (or later if Monday is a
        holiday). Submitted on a rest day: counting starts at the next working day's office
        start.
        """
        if not self.is_workday(local.date()):
            local = self._next_office_start(local)
        day = local.date()
        remaining = days
        while remaining > 0:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                remaining -= 1
        return dt.datetime.combine(day, local.timetz()).astimezone(dt.UTC)

    def _next_office_start(self, local: dt.datetime) -> dt.datetime:
        day = local.date()
        if self.is_workday(day) and local.time() < OFFICE_START:
            return dt.datetime.combine(day, OFFICE_START, tzinfo=LOCAL)
        day += dt.timedelta(days=1)
        while not self.is_workday(day):
            day += dt.timedelta(days=1)
        return dt.datetime.combine(day, OFFICE_START, tzinfo=LOCAL)

    def _add_working_minutes(self, local: dt.datetime, minutes: int) -> dt.datetime:
        current = local
        if not self.is_workday(current.date()) or current.time() >= OFFICE_END:
            current = self._next_office_start(current)
        elif current.time() < OFFICE_START:
            current = dt.datetime.combine(current.date(), OFFICE_START, tzinfo=LOCAL)
        remaining = minutes
        while True:
            end_of_day = dt.datetime.combine(current.date(), OFFICE_END, tzinfo=LOCAL)
            available = int((end_of_day - current).total_seconds() // 60)
            if remaining <= available:
                return (current + dt.timedelta(minutes=remaining)).astimezone(dt.UTC)
            remaining -= available
            current = self._next_office_start(end_of_day)


def city_calendar() -> WorkingCalendar:
    """The calendar with the city's ``CalendarDay`` overrides (a small table, kept per process
    as reference data: ``core.refdata``). Shared: never change its ``overrides``."""
    return refdata.cached("core.calendar", _load_calendar)


def _load_calendar() -> WorkingCalendar:
    from gongzhi.core.models import CalendarDay

    return WorkingCalendar(dict(CalendarDay.objects.values_list("date", "is_workday")))
