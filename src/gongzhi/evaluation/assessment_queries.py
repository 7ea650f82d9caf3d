"""Reads over indicator systems: the indicator tree, the roll-up table of a system, one
subject's scores, rectification items and their history. Callers fetch the system or the
item through ``assessment_policies`` first; lists come scoped from there too."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise

from gongzhi.core.scoping import subtree_q
from gongzhi.evaluation.indicators import INDICATORS
from gongzhi.evaluation.models import (
    Assessment,
    Indicator,
    IndicatorScore,
    IndicatorSource,
    IndicatorSystem,
    RectificationEvent,
    RectificationItem,
    SubjectKind,
)
from gongzhi.evaluation.periods import Period
from gongzhi.territory.choices import UnitKind
from gongzhi.territory.models import Region, Unit

# The platform figures a computed indicator can use: every indicator, and the composite score.
FIGURES: dict[str, StrOrPromise] = {**INDICATORS, "score": _("Composite score (0–100)")}
# Figures that are fractions (shown as percentages).
RATE_FIGURES = frozenset(name for name in INDICATORS if name.endswith("_rate"))


def period_of(system: IndicatorSystem) -> Period:
    return Period(system.first_month, system.last_month)


def show_value(indicator: Indicator, value: Decimal | None) -> str:
    """A value as people read it: rates as percentages, other numbers as they are."""
    if value is None:
        return "—"
    if indicator.figure in RATE_FIGURES:
        return f"{(value * 100).quantize(Decimal('0.01'))}%"
    return f"{value.normalize():f}"


def indicators_of(system: IndicatorSystem) -> list[Indicator]:
    """Every indicator in reading order: each group followed by its indicators."""
    everything = list(system.indicators.all().order_by("position", "code"))
    children: dict[int | None, list[Indicator]] = {}
    for indicator in everything:
        children.setdefault(indicator.parent_id, []).append(indicator)
    ordered: list[Indicator] = []
    for top in children.get(None, []):
        ordered.append(top)
        ordered.extend(children.get(top.pk, []))
    return ordered


def scored_indicators(system: IndicatorSystem) -> list[Indicator]:
    """The indicators that earn points (not groups), in reading order."""
    return [i for i in indicators_of(system) if not i.is_group]


def subjects_of(system: IndicatorSystem) -> list[Region | Unit]:
    """The regions or units a system assesses, as they are now."""
    if system.subject_kind == SubjectKind.REGION and system.subject_level is not None:
        return list(
            Region.objects.filter(subtree_q("path", system.region_path), level=system.subject_level)
            .defer("boundary")
            .order_by("path")
        )
    return list(
        Unit.objects.filter(
            subtree_q("region__path", system.region_path),
            kind=system.subject_unit_kind,
            is_active=True,
        )
        .select_related("region")
        .order_by("region__path", "name")
    )


def owner_unit_for(assessment: Assessment) -> Unit | None:
    """Who rectifies a subject's shortcomings: a unit subject itself; for a region, its
    people's government (or office), else its party committee."""
    if assessment.unit_id is not None:
        return assessment.unit
    if assessment.region_id is None:
        return None
    for kind in (UnitKind.GOVERNMENT, UnitKind.PARTY_COMMITTEE):
        found = (
            Unit.objects.filter(region_id=assessment.region_id, kind=kind, is_active=True)
            .order_by("pk")
            .first()
        )
        if found is not None:
            return found
    return None


@dataclass
class Cell:
    indicator: Indicator
    score: IndicatorScore | None
    shown_value: str

    @property
    def points(self) -> Decimal | None:
        return None if self.score is None else self.score.points


@dataclass
class ResultRow:
    assessment: Assessment
    cells: list[Cell] = field(default_factory=list)
    group_points: dict[int, Decimal] = field(default_factory=dict)
    # The subtotals in the order of the system's groups (for tables).
    group_totals: list[Decimal] = field(default_factory=list)

    def cell(self, indicator_id: int) -> Cell | None:
        return next((c for c in self.cells if c.indicator.pk == indicator_id), None)


def results(system: IndicatorSystem, assessments: QuerySet[Assessment]) -> list[ResultRow]:
    """The roll-up table: each subject (best first) with every indicator's score and each
    group's subtotal. Three queries whatever the number of subjects."""
    ordered = indicators_of(system)
    leaves = [i for i in ordered if not i.is_group]
    groups = [i for i in ordered if i.is_group]
    rows = [
        ResultRow(a)
        for a in assessments.select_related("region", "unit").order_by("position", "name")
    ]
    by_pair = {
        (s.assessment_id, s.indicator_id): s
        for s in IndicatorScore.objects.filter(assessment__in=[r.assessment for r in rows])
    }
    for row in rows:
        for indicator in leaves:
            score = by_pair.get((row.assessment.pk, indicator.pk))
            row.cells.append(
                Cell(indicator, score, show_value(indicator, score.value if score else None))
            )
            if indicator.parent_id is not None and score is not None:
                row.group_points[indicator.parent_id] = (
                    row.group_points.get(indicator.parent_id, Decimal(0)) + score.points
                )
        row.group_totals = [row.group_points.get(g.pk, Decimal("0.00")) for g in groups]
    return rows


def assessment_cells(assessment: Assessment) -> list[Cell]:
    """One subject's scores, every indicator in reading order (groups with no score)."""
    scores = {
        s.indicator_id: s
        for s in IndicatorScore.objects.filter(assessment=assessment).select_related(
            "entered_by", "evidence_file"
        )
    }
    cells = []
    for indicator in indicators_of(assessment.system):
        score = scores.get(indicator.pk)
        cells.append(Cell(indicator, score, show_value(indicator, score.value if score else None)))
    return cells


def missing_entries(system: IndicatorSystem) -> int:
    """How many entered scores are still missing (subjects x entered indicators)."""
    entered = system.indicators.filter(source=IndicatorSource.ENTERED).count()
    expected = entered * system.assessments.count()
    done = IndicatorScore.objects.filter(
        assessment__system=system, indicator__source=IndicatorSource.ENTERED
    ).count()
    return expected - done


def events_of(item: RectificationItem) -> QuerySet[RectificationEvent]:
    return RectificationEvent.objects.filter(item=item).select_related("actor").order_by("seq")


def rectifications_of(
    items: QuerySet[RectificationItem],
    *,
    system_id: int | None = None,
    state: str | None = None,
    unit_ids: frozenset[int] | None = None,
) -> QuerySet[RectificationItem]:
    """A visible list narrowed by system, state and owner units, soonest deadline first."""
    if system_id is not None:
        items = items.filter(system_id=system_id)
    if state:
        items = items.filter(state=state)
    if unit_ids is not None:
        items = items.filter(owner_unit_id__in=sorted(unit_ids))
    return items.order_by("deadline", "pk")
