"""What the evaluation pages, the exports and the API share: the period a request asks
for, and how figures read (one decimal, percentage points, "—" for nothing to count)."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.evaluation.indicators import Figures
from gongzhi.evaluation.periods import Period, add_months, month_of

HOURS = "average_handling_hours"
NOTHING = "—"  # nothing to count: never 0 % or 100 %


def last_full_month(now: dt.datetime | None = None) -> dt.date:
    return add_months(month_of(now or timezone.now()), -1)


def period_from(params: QueryDict) -> Period:
    """``?from=YYYY-MM&to=YYYY-MM`` (either may be left out); the last full month if both are."""
    start, end = params.get("from", "").strip(), params.get("to", "").strip()
    if not start and not end:
        return Period.month(last_full_month())
    return Period.parse(start or end, end or None)


def fixed(value: float, *, sign: bool = False) -> str:
    """One decimal place, halves rounded up (218.25 > "218.3"), as people round."""
    shown = Decimal(repr(value)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
    if not shown:
        return f"{abs(shown)}"  # no "-0.0" or "+0.0"
    return f"{shown:+}" if sign else f"{shown}"


def show_value(name: str, value: float | None) -> str:
    if value is None:
        return NOTHING
    return fixed(value) if name == HOURS else f"{fixed(value * 100)}%"


def show_change(name: str, delta: float | None) -> str:
    """Percentage points for rates, hours for the handling time."""
    if delta is None:
        return NOTHING
    if name == HOURS:
        return _("%(value)s h") % {"value": fixed(delta, sign=True)}
    return _("%(value)s pp") % {"value": fixed(delta * 100, sign=True)}


def score_change(current: Figures, before: Figures) -> Decimal | None:
    if current.score is None or before.score is None:
        return None
    return current.score - before.score


def show_score_change(delta: Decimal | None) -> str:
    return NOTHING if delta is None else f"{delta:+.2f}"
