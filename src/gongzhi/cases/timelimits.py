"""How long each stage of a case may take, from the ``TimeLimit`` rows (time limits as data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from gongzhi.cases.choices import Stage
from gongzhi.cases.models import Case, TimeLimit
from gongzhi.core import refdata
from gongzhi.core.working_days import DurationUnit, WorkingCalendar

# Used only when a city has no row at all for a stage.
FALLBACK = {
    Stage.DISPATCH: (30, DurationUnit.MINUTES),
    Stage.SIGN: (2, DurationUnit.WORKING_HOURS),
    Stage.FEEDBACK: (7, DurationUnit.WORKING_DAYS),
}


@dataclass(frozen=True)
class Limit:
    amount: int
    unit: DurationUnit

    def due(self, start: dt.datetime, calendar: WorkingCalendar) -> dt.datetime:
        return calendar.add(start, self.amount, self.unit)


def _rows_by_stage() -> dict[str, list[TimeLimit]]:
    rows: dict[str, list[TimeLimit]] = {}
    for row in TimeLimit.objects.select_related("category").order_by("pk"):
        rows.setdefault(row.stage, []).append(row)
    return rows


def limit_for(case: Case, stage: Stage) -> Limit:
    """The most specific rule: a matching urgency first (danger to life beats any category),
    then the deepest category, then complexity. The rows are reference data kept in memory
    (``core.refdata``)."""
    category_paths: set[str] = set()
    if case.category_id is not None and case.category is not None:
        category_paths = {*case.category.ancestor_paths, case.category.path}
    rows = [
        row
        for row in refdata.cached("cases.timelimits", _rows_by_stage).get(stage, ())
        if (row.category is None or row.category.path in category_paths)
        and row.urgency in ("", case.urgency)
        and row.complexity in ("", case.complexity)
    ]

    def specificity(row: TimeLimit) -> tuple[int, int, int]:
        depth = row.category.level if row.category else 0
        return (1 if row.urgency else 0, depth, 1 if row.complexity else 0)

    best = max(rows, key=specificity, default=None)
    if best is None:
        amount, unit = FALLBACK[stage]
        return Limit(amount, unit)
    return Limit(best.amount, DurationUnit(best.unit))


def yellow_point(start: dt.datetime, due: dt.datetime) -> dt.datetime:
    """When 80% of the time between start and due has passed."""
    return start + (due - start) * 0.8
