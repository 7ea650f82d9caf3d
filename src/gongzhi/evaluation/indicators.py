"""The indicators (考评指标) and the composite score, computed from summed tally counters.

Each definition, with its formula, is in docs/evaluation.md; keep the two in step. Rates
are fractions (0..1) or ``None`` when nothing was there to count (no division by zero,
and no 100 % for a unit that had no cases).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from gongzhi.evaluation.choices import Grade
from gongzhi.evaluation.models import COUNTERS


@dataclass(frozen=True)
class Scheme:
    """Weights, values and grade thresholds (``ScoreScheme`` rows; these are the defaults)."""

    response_weight: Decimal = Decimal(10)
    resolution_weight: Decimal = Decimal(50)
    satisfaction_weight: Decimal = Decimal(40)
    basically_satisfied_value: Decimal = Decimal("0.90")
    partly_resolved_value: Decimal = Decimal("0.50")
    grade_a: Decimal = Decimal(90)
    grade_b: Decimal = Decimal(75)
    grade_c: Decimal = Decimal(60)
    grade_d: Decimal = Decimal(40)
    list_size: int = 3
    min_cases: int = 1

    def as_json(self) -> dict[str, Any]:
        return {k: str(v) if isinstance(v, Decimal) else v for k, v in asdict(self).items()}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Scheme:
        values: dict[str, Any] = {}
        for name, default in asdict(cls()).items():
            if name in data:
                values[name] = type(default)(data[name])
        return cls(**values)

    def grade(self, score: Decimal) -> Grade:
        for threshold, grade in (
            (self.grade_a, Grade.A),
            (self.grade_b, Grade.B),
            (self.grade_c, Grade.C),
            (self.grade_d, Grade.D),
        ):
            if score >= threshold:
                return grade
        return Grade.E


# The indicators people read, in the order pages and exports show them.
INDICATORS: dict[str, StrOrPromise] = {
    "response_rate": _("Response rate"),
    "sign_on_time_rate": _("On-time sign-for rate"),
    "resolution_rate": _("Resolution rate"),
    "satisfaction_rate": _("Satisfaction rate"),
    "on_time_closure_rate": _("On-time closure rate"),
    "return_rate": _("Return rate"),
    "rework_rate": _("Rework rate"),
    "repeat_rate": _("Repeat-complaint rate"),
    "average_handling_hours": _("Average handling time (hours)"),
}
# Higher is better for these; lower is better for the others.
HIGHER_IS_BETTER = frozenset(
    {
        "response_rate",
        "sign_on_time_rate",
        "resolution_rate",
        "satisfaction_rate",
        "on_time_closure_rate",
    }
)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


@dataclass(frozen=True)
class Figures:
    """Summed counters and the indicators computed from them under a scheme."""

    counts: dict[str, float] = field(default_factory=lambda: dict.fromkeys(COUNTERS, 0))
    scheme: Scheme = field(default_factory=Scheme)

    @classmethod
    def of(cls, counts: Mapping[str, Any], scheme: Scheme | None = None) -> Figures:
        return cls({name: counts.get(name) or 0 for name in COUNTERS}, scheme or Scheme())

    def __getitem__(self, name: str) -> float:
        return self.counts[name]

    @property
    def case_count(self) -> int:
        """Cases the subject had in the period: submitted, or dispatched to it."""
        return int(max(self["submitted_count"], self["assigned_count"]))

    @property
    def response_rate(self) -> float | None:
        return _ratio(self["responded_on_time_count"], self["response_due_count"])

    @property
    def sign_on_time_rate(self) -> float | None:
        return _ratio(
            self["signed_on_time_count"], self["response_due_count"] - self["returned_count"]
        )

    @property
    def resolution_rate(self) -> float | None:
        value = float(self.scheme.partly_resolved_value)
        resolved = self["resolved_count"] + value * self["partly_resolved_count"]
        return _ratio(resolved, self["rated_count"])

    @property
    def satisfaction_rate(self) -> float | None:
        value = float(self.scheme.basically_satisfied_value)
        satisfied = self["satisfied_count"] + value * self["basically_satisfied_count"]
        return _ratio(satisfied, self["rated_count"])

    @property
    def on_time_closure_rate(self) -> float | None:
        return _ratio(self["closed_on_time_count"], self["closed_count"])

    @property
    def return_rate(self) -> float | None:
        return _ratio(self["returned_count"], self["assigned_count"])

    @property
    def rework_rate(self) -> float | None:
        return _ratio(self["reworked_count"], self["closed_count"])

    @property
    def repeat_rate(self) -> float | None:
        return _ratio(self["repeat_count"], self["submitted_count"])

    @property
    def average_handling_hours(self) -> float | None:
        return _ratio(self["handling_hours"], self["closed_count"])

    @property
    def score(self) -> Decimal | None:
        """Composite score 0..100: the weighted mean of the response, resolution and
        satisfaction rates; a rate with nothing to count is left out and the other weights
        carry the score; ``None`` when all three are empty. Rounded to 2 places."""
        parts = [
            (self.scheme.response_weight, self.response_rate),
            (self.scheme.resolution_weight, self.resolution_rate),
            (self.scheme.satisfaction_weight, self.satisfaction_rate),
        ]
        weighted = [(w, Decimal(repr(rate))) for w, rate in parts if rate is not None and w > 0]
        total = sum((w for w, _rate in weighted), Decimal(0))
        if not total:
            return None
        value = sum((w * rate for w, rate in weighted), Decimal(0)) * 100 / total
        return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def grade(self) -> Grade | None:
        score = self.score
        return None if score is None else self.scheme.grade(score)

    def indicators(self) -> dict[str, float | None]:
        return {name: getattr(self, name) for name in INDICATORS}

    def as_json(self) -> dict[str, Any]:
        """Everything a frozen ranking keeps: indicator values (rounded), counters, score."""
        score = self.score
        return {
            "indicators": {
                name: None if value is None else round(value, 6)
                for name, value in self.indicators().items()
            },
            "counts": {
                k: round(v, 4) if isinstance(v, float) else v for k, v in self.counts.items()
            },
            "score": None if score is None else str(score),
            "grade": self.grade.value if self.grade else "",
        }

    def __add__(self, other: Figures) -> Figures:
        return Figures({k: self.counts[k] + other.counts[k] for k in COUNTERS}, self.scheme)


def change(current: float | None, before: float | None) -> float | None:
    """Month on month or year on year: the difference of two rates (percentage points as a
    fraction), ``None`` when either is missing."""
    if current is None or before is None:
        return None
    return current - before
