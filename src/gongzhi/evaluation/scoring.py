"""Scoring rules of indicator systems (指标评分规则), as data. Pure Python: no Django.

An indicator is worth ``weight`` points (its 分值). A rule turns the indicator's value into
points between 0 and the weight, rounded to 2 places (half up). Three kinds of rule, each a
small JSON object stored on the indicator (docs/evaluation-systems.md has the formulas and a
worked example):

- ``{"kind": "linear", "floor": "0.60", "target": "0.95"}``: the floor earns nothing, the
  target earns the full weight, in between in proportion. When lower is better the target
  lies below the floor (a return rate: floor 0.20, target 0.05).
- ``{"kind": "thresholds", "steps": [["0.95", "10"], ["0.90", "8"], ["0.80", "5"]]}``: the
  points of the best step the value reaches (at least the step's value when higher is better,
  at most when lower is better); nothing when it reaches none.
- ``{"kind": "deduction", "per_event": "2"}``: the value counts events (a major incident, a
  petition to Beijing, a verified false report ...); each takes ``per_event`` points off the
  weight, never below 0.

A missing value (nothing to count) earns 0 points: a subject earns no points for work it
did not do.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

CENT = Decimal("0.01")
MAX_STEPS = 20
MAX_NUMBER = Decimal("1000000")


class RuleError(ValueError):
    """A rule that cannot be used; ``code`` names the problem for a translated message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Linear:
    floor: Decimal
    target: Decimal

    kind = "linear"


@dataclass(frozen=True)
class Thresholds:
    steps: tuple[tuple[Decimal, Decimal], ...]  # (value, points)

    kind = "thresholds"


@dataclass(frozen=True)
class Deduction:
    per_event: Decimal

    kind = "deduction"


Rule = Linear | Thresholds | Deduction
KINDS = ("linear", "thresholds", "deduction")


def _number(value: Any, name: str) -> Decimal:
    if isinstance(value, bool):
        raise RuleError("not_a_number", f"{name} must be a number")
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise RuleError("not_a_number", f"{name} must be a number") from None
    if not number.is_finite() or abs(number) > MAX_NUMBER:
        raise RuleError("not_a_number", f"{name} must be a number")
    return number


def parse_rule(data: Mapping[str, Any], *, weight: Decimal, higher_is_better: bool) -> Rule:
    """The rule that ``data`` describes, checked against the indicator's weight and
    direction; ``RuleError`` when it cannot be used."""
    if not isinstance(data, Mapping):
        raise RuleError("unknown_kind", "a rule is an object with a kind")
    kind = data.get("kind")
    if kind == "linear":
        floor, target = _number(data.get("floor"), "floor"), _number(data.get("target"), "target")
        if floor == target:
            raise RuleError("linear_flat", "the target must differ from the floor")
        if (target > floor) != higher_is_better:
            raise RuleError(
                "linear_direction",
                "the target must lie above the floor when higher is better, below when lower is",
            )
        return Linear(floor, target)
    if kind == "thresholds":
        raw = data.get("steps")
        if not isinstance(raw, list | tuple) or not 1 <= len(raw) <= MAX_STEPS:
            raise RuleError("no_steps", f"give between 1 and {MAX_STEPS} steps")
        steps: list[tuple[Decimal, Decimal]] = []
        for step in raw:
            if not isinstance(step, list | tuple) or len(step) != 2:
                raise RuleError("bad_step", "each step is a pair [value, points]")
            value, points = _number(step[0], "value"), _number(step[1], "points")
            if not Decimal(0) <= points <= weight:
                raise RuleError("step_points", "a step's points lie between 0 and the weight")
            steps.append((value, points))
        if len({value for value, _points in steps}) != len(steps):
            raise RuleError("duplicate_step", "two steps have the same value")
        # Best first: the highest value when higher is better, the lowest otherwise.
        steps.sort(key=lambda s: s[0], reverse=higher_is_better)
        if any(later[1] > earlier[1] for earlier, later in itertools.pairwise(steps)):
            raise RuleError("steps_not_monotonic", "a better step must not earn fewer points")
        return Thresholds(tuple(steps))
    if kind == "deduction":
        per_event = _number(data.get("per_event"), "per_event")
        if per_event <= 0:
            raise RuleError("deduction_not_positive", "each event must take off some points")
        return Deduction(per_event)
    raise RuleError("unknown_kind", f"the kind of rule is one of {', '.join(KINDS)}")


def rule_as_json(rule: Rule) -> dict[str, Any]:
    if isinstance(rule, Linear):
        return {"kind": rule.kind, "floor": str(rule.floor), "target": str(rule.target)}
    if isinstance(rule, Thresholds):
        return {"kind": rule.kind, "steps": [[str(v), str(p)] for v, p in rule.steps]}
    return {"kind": rule.kind, "per_event": str(rule.per_event)}


def _round(points: Decimal, weight: Decimal) -> Decimal:
    rounded = min(max(points, Decimal(0)), weight).quantize(CENT, rounding=ROUND_HALF_UP)
    return rounded if rounded else Decimal(0).quantize(CENT)  # never "-0.00"


def points_for(
    rule: Rule, value: Decimal | None, *, weight: Decimal, higher_is_better: bool
) -> Decimal:
    """The points ``value`` earns under ``rule``: within [0, weight], 2 places."""
    if value is None or weight <= 0:
        return Decimal(0).quantize(CENT)
    if isinstance(rule, Linear):
        share = (value - rule.floor) / (rule.target - rule.floor)
        return _round(weight * min(max(share, Decimal(0)), Decimal(1)), weight)
    if isinstance(rule, Thresholds):
        for step_value, step_points in rule.steps:
            reached = value >= step_value if higher_is_better else value <= step_value
            if reached:
                return _round(step_points, weight)
        return _round(Decimal(0), weight)
    events = max(value, Decimal(0))
    return _round(weight - rule.per_event * events, weight)


def total(points: list[Decimal]) -> Decimal:
    """The roll-up of a subject: the sum of its indicators' points."""
    return sum(points, Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def positions(totals: list[tuple[Any, Decimal]]) -> dict[Any, int]:
    """Rank subjects by total, highest first; equal totals share a position (1, 2, 2, 4)."""
    ordered = sorted(totals, key=lambda pair: pair[1], reverse=True)
    result: dict[Any, int] = {}
    previous: Decimal | None = None
    position = 0
    for index, (key, value) in enumerate(ordered, start=1):
        if value != previous:
            position, previous = index, value
        result[key] = position
    return result
