"""Template helpers of the command centre: who sees its link, and how figures read."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import template
from django.utils.formats import number_format

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import units_with
from gongzhi.evaluation.policies import can_view_evaluation

register = template.Library()
NOTHING = "—"  # nothing to count: never 0 % or 100 %


@register.simple_tag(takes_context=True)
def can_see_command_centre(context: dict[str, Any]) -> bool:
    """For the site header: the person may see figures somewhere (memberships are already
    read for the header, so this asks the database nothing more)."""
    user = context.get("user")
    return user is not None and can_view_evaluation(user)


@register.simple_tag(takes_context=True)
def has_rectifications(context: dict[str, Any]) -> bool:
    """For the site header: the person carries out rectifications for a unit (no query:
    memberships are read for the header already)."""
    user = context.get("user")
    return user is not None and bool(units_with(user, Capability.RECTIFY))


@register.filter
def percent(value: float | None) -> str:
    """0.955 > "95.5%"; ``None`` > "—"."""
    if value is None:
        return NOTHING
    return f"{number_format(value * 100, 1)}%"


@register.filter
def points(value: float | None) -> str:
    """A change of a rate in percentage points: 0.05 > "+5.0", -0.5 > "−50.0"."""
    return NOTHING if value is None else _signed(value * 100, 1)


@register.filter
def hours(value: float | None) -> str:
    return NOTHING if value is None else number_format(value, 1)


@register.filter
def change_of(value: float | Decimal | None, digits: int = 1) -> str:
    """A plain difference (hours, scores): +1.5 / −2.0."""
    return NOTHING if value is None else _signed(float(value), digits)


def _signed(value: float, digits: int) -> str:
    """+1.5 / −2.0 / 0.0: no sign on what rounds to zero."""
    rounded = round(value, digits)
    shown = number_format(abs(rounded), digits)
    return f"+{shown}" if rounded > 0 else (f"−{shown}" if rounded < 0 else shown)


@register.filter
def score(value: Decimal | None) -> str:
    return NOTHING if value is None else str(value)


@register.filter
def trend_class(value: float | None, higher_is_better: bool) -> str:
    """``better`` / ``worse`` for colouring a change, ``""`` for none."""
    if value is None or value == 0:
        return ""
    return "better" if (value > 0) == higher_is_better else "worse"
