"""Periods of evaluation: runs of whole calendar months in the city's time zone."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.core.errors import InvalidInput

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


def month_of(moment: dt.datetime) -> dt.date:
    local = timezone.localtime(moment)
    return dt.date(local.year, local.month, 1)


def add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def month_start(month: dt.date) -> dt.datetime:
    """The first moment of ``month`` in the city's time zone."""
    return dt.datetime(month.year, month.month, 1, tzinfo=timezone.get_current_timezone())


def parse_month(text: str) -> dt.date:
    """``"2026-11"`` -> 2026-11-01; anything else is a clear error."""
    found = _MONTH.match(text.strip())
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 2000:
        raise InvalidInput(
            _("“%(value)s” is not a month: write it as YYYY-MM, e.g. 2026-11.") % {"value": text}
        )
    return dt.date(int(found.group(1)), int(found.group(2)), 1)


@dataclass(frozen=True)
class Period:
    """The months ``first`` .. ``last``, both included."""

    first: dt.date
    last: dt.date

    @classmethod
    def month(cls, month: dt.date) -> Period:
        return cls(month, month)

    @classmethod
    def parse(cls, start: str, end: str | None = None) -> Period:
        first = parse_month(start)
        last = parse_month(end) if end else first
        if last < first:
            raise InvalidInput(_("The period ends before it starts."))
        if (last.year - first.year) * 12 + last.month - first.month >= 120:
            raise InvalidInput(_("A period is at most ten years."))
        return cls(first, last)

    @property
    def length(self) -> int:
        return (self.last.year - self.first.year) * 12 + self.last.month - self.first.month + 1

    def months(self) -> Iterator[dt.date]:
        for step in range(self.length):
            yield add_months(self.first, step)

    @property
    def start(self) -> dt.datetime:
        return month_start(self.first)

    @property
    def end(self) -> dt.datetime:
        """The first moment after the period."""
        return month_start(add_months(self.last, 1))

    def previous(self) -> Period:
        """The same number of months just before (month on month)."""
        return Period(add_months(self.first, -self.length), add_months(self.first, -1))

    def year_before(self) -> Period:
        """The same months a year earlier (year on year)."""
        return Period(add_months(self.first, -12), add_months(self.last, -12))

    @property
    def label(self) -> str:
        if self.first == self.last:
            return f"{self.first:%Y-%m}"
        return f"{self.first:%Y-%m} – {self.last:%Y-%m}"
