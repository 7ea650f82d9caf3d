"""Scoring rules: exact points for hand-computed cases, and properties for any input."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.evaluation.scoring import (
    Deduction,
    Linear,
    RuleError,
    Thresholds,
    parse_rule,
    points_for,
    positions,
    rule_as_json,
    total,
)

D = Decimal


def score(
    rule: dict[str, Any], value: str | None, weight: str = "20", higher: bool = True
) -> Decimal:
    parsed = parse_rule(rule, weight=D(weight), higher_is_better=higher)
    return points_for(
        parsed, None if value is None else D(value), weight=D(weight), higher_is_better=higher
    )


LINEAR = {"kind": "linear", "floor": "0.40", "target": "0.90"}
LOWER = {"kind": "linear", "floor": "0.30", "target": "0"}
STEPS = {"kind": "thresholds", "steps": [["0.80", "8"], ["0.95", "20"], ["0.90", "15"]]}
LOWER_STEPS = {"kind": "thresholds", "steps": [["5", "10"], ["10", "6"], ["20", "2"]]}
DEDUCT = {"kind": "deduction", "per_event": "2.5"}


@pytest.mark.parametrize(
    ("rule", "value", "higher", "expected"),
    [
        (LINEAR, "0.40", True, "0.00"),
        (LINEAR, "0.30", True, "0.00"),
        (LINEAR, "0.50", True, "4.00"),
        (LINEAR, "0.65", True, "10.00"),
        (LINEAR, "0.90", True, "20.00"),
        (LINEAR, "1", True, "20.00"),
        (LOWER, "0.25", False, "3.33"),
        (LOWER, "0.30", False, "0.00"),
        (LOWER, "0.50", False, "0.00"),
        (LOWER, "0", False, "20.00"),
        (LOWER, "0.075", False, "15.00"),
        (STEPS, "0.96", True, "20.00"),
        (STEPS, "0.95", True, "20.00"),
        (STEPS, "0.9499", True, "15.00"),
        (STEPS, "0.90", True, "15.00"),
        (STEPS, "0.85", True, "8.00"),
        (STEPS, "0.79", True, "0.00"),
        (LOWER_STEPS, "0", False, "10.00"),
        (LOWER_STEPS, "5", False, "10.00"),
        (LOWER_STEPS, "7", False, "6.00"),
        (LOWER_STEPS, "20", False, "2.00"),
        (LOWER_STEPS, "21", False, "0.00"),
        (DEDUCT, "0", False, "20.00"),
        (DEDUCT, "3", False, "12.50"),
        (DEDUCT, "8", False, "0.00"),
        (DEDUCT, "100", False, "0.00"),
        (LINEAR, None, True, "0.00"),
        (DEDUCT, None, False, "0.00"),
    ],
)
def test_points(rule, value, higher, expected):
    assert score(rule, value, higher=higher) == D(expected)
    assert str(score(rule, value, higher=higher)) == expected


def test_half_a_cent_rounds_up():
    # 20 x (0.4125 - 0.40) / 0.50 = 0.5
    assert score(LINEAR, "0.4125") == D("0.50")
    # 10 x 1/3 = 3.333... ; 10 x 2/3 = 6.666...
    assert score({"kind": "linear", "floor": "0", "target": "3"}, "1", weight="10") == D("3.33")
    assert score({"kind": "linear", "floor": "0", "target": "3"}, "2", weight="10") == D("6.67")


def test_rules_are_stored_in_a_normal_form():
    parsed = parse_rule(STEPS, weight=D(20), higher_is_better=True)
    assert parsed == Thresholds(((D("0.95"), D(20)), (D("0.90"), D(15)), (D("0.80"), D(8))))
    assert rule_as_json(parsed) == {
        "kind": "thresholds",
        "steps": [["0.95", "20"], ["0.90", "15"], ["0.80", "8"]],
    }
    lower = parse_rule(LOWER_STEPS, weight=D(10), higher_is_better=False)
    assert [v for v, _p in lower.steps] == [D(5), D(10), D(20)]
    assert rule_as_json(parse_rule(LINEAR, weight=D(20), higher_is_better=True)) == LINEAR
    assert parse_rule(DEDUCT, weight=D(20), higher_is_better=False) == Deduction(D("2.5"))
    assert parse_rule(
        {"kind": "linear", "floor": 60, "target": 100}, weight=D(5), higher_is_better=True
    ) == Linear(D(60), D(100))


@pytest.mark.parametrize(
    ("rule", "weight", "higher", "code"),
    [
        ({"kind": "linear", "floor": "1", "target": "1"}, "10", True, "linear_flat"),
        ({"kind": "linear", "floor": "1", "target": "0"}, "10", True, "linear_direction"),
        ({"kind": "linear", "floor": "0", "target": "1"}, "10", False, "linear_direction"),
        ({"kind": "linear", "floor": "x", "target": "1"}, "10", True, "not_a_number"),
        ({"kind": "linear", "floor": "NaN", "target": "1"}, "10", True, "not_a_number"),
        ({"kind": "linear", "floor": True, "target": "1"}, "10", True, "not_a_number"),
        ({"kind": "linear", "target": "1"}, "10", True, "not_a_number"),
        ({"kind": "thresholds", "steps": []}, "10", True, "no_steps"),
        ({"kind": "thresholds", "steps": [["1", "2", "3"]]}, "10", True, "bad_step"),
        ({"kind": "thresholds", "steps": [["1", "11"]]}, "10", True, "step_points"),
        ({"kind": "thresholds", "steps": [["1", "-1"]]}, "10", True, "step_points"),
        ({"kind": "thresholds", "steps": [["1", "5"], ["1", "4"]]}, "10", True, "duplicate_step"),
        (
            {"kind": "thresholds", "steps": [["1", "5"], ["2", "4"]]},
            "10",
            True,
            "steps_not_monotonic",
        ),
        (
            {"kind": "thresholds", "steps": [["2", "5"], ["1", "4"]]},
            "10",
            False,
            "steps_not_monotonic",
        ),
        ({"kind": "deduction", "per_event": "0"}, "10", False, "deduction_not_positive"),
        ({"kind": "bonus"}, "10", True, "unknown_kind"),
        ({}, "10", True, "unknown_kind"),
    ],
)
def test_unusable_rules_are_refused_with_a_code(rule, weight, higher, code):
    with pytest.raises(RuleError) as error:
        parse_rule(rule, weight=D(weight), higher_is_better=higher)
    assert error.value.code == code


def test_totals_and_positions():
    assert total([D("4.00"), D("20.00"), D("3.33"), D("27.00"), D("5.00")]) == D("59.33")
    assert total([]) == D("0.00")
    ranks = positions([("a", D(90)), ("b", D(80)), ("c", D(90)), ("d", D(70))])
    assert ranks == {"a": 1, "c": 1, "b": 3, "d": 4}


numbers = st.decimals(min_value=-1000, max_value=1000, allow_nan=False, places=4)
weights = st.decimals(min_value="0.01", max_value=1000, allow_nan=False, places=2)


@st.composite
def rules(draw):
    weight = draw(weights)
    higher = draw(st.booleans())
    kind = draw(st.sampled_from(["linear", "thresholds", "deduction"]))
    if kind == "linear":
        a, b = draw(numbers), draw(numbers)
        if a == b:
            b = a + 1
        floor, target = (min(a, b), max(a, b)) if higher else (max(a, b), min(a, b))
        rule = {"kind": kind, "floor": str(floor), "target": str(target)}
    elif kind == "thresholds":
        values = draw(st.lists(numbers, min_size=1, max_size=6, unique=True))
        pts = sorted(
            (draw(st.decimals(min_value=0, max_value=weight, places=2)) for _ in values),
            reverse=True,
        )
        ordered = sorted(values, reverse=higher)
        rule = {
            "kind": kind,
            "steps": [[str(v), str(p)] for v, p in zip(ordered, pts, strict=True)],
        }
    else:
        per = draw(st.decimals(min_value="0.01", max_value=100, places=2))
        rule = {"kind": kind, "per_event": str(per)}
    return parse_rule(rule, weight=weight, higher_is_better=higher), weight, higher


@given(rules(), st.one_of(st.none(), numbers))
def test_points_lie_within_zero_and_the_weight(rule_weight_higher, value):
    rule, weight, higher = rule_weight_higher
    points = points_for(rule, value, weight=weight, higher_is_better=higher)
    assert D(0) <= points <= weight
    assert points == points.quantize(D("0.01"))


@given(rules(), numbers, numbers)
def test_a_better_value_never_earns_fewer_points(rule_weight_higher, a, b):
    rule, weight, higher = rule_weight_higher
    if isinstance(rule, Deduction):
        a, b = abs(a).to_integral_value(), abs(b).to_integral_value()
        worse, better = max(a, b), min(a, b)
    else:
        worse, better = (min(a, b), max(a, b)) if higher else (max(a, b), min(a, b))
    assert points_for(rule, better, weight=weight, higher_is_better=higher) >= points_for(
        rule, worse, weight=weight, higher_is_better=higher
    )


@given(rules())
def test_a_rule_survives_storage(rule_weight_higher):
    rule, weight, higher = rule_weight_higher
    assert parse_rule(rule_as_json(rule), weight=weight, higher_is_better=higher) == rule
