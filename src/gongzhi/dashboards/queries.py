"""What the command centre and the public page show, each gathered by one function.

Figures come from the evaluation tallies (sums of a few thousand rows, whatever the number
of cases; ADR 0005); only the live counters and the two short lists read cases, through
indexed, bounded queries in ``cases.queries``. Nothing here knows who is asking: views
check access first (``evaluation.policies.access_evaluated_region``).

Regions are ``territory.models.Region`` objects, typed ``Any`` here because the
import-linter contract keeps this app away from other apps' models, even for annotations.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django_stubs_ext import StrOrPromise

from gongzhi.accounts.queries import EVERYWHERE
from gongzhi.cases.queries import CaseLine, LiveCounts, live_counts, overdue_cases, supervised_cases
from gongzhi.core.redaction import redact
from gongzhi.core.scoping import Scope, subtree_q
from gongzhi.evaluation import queries as figures
from gongzhi.evaluation.choices import RankingList, RankingSubject
from gongzhi.evaluation.indicators import HIGHER_IS_BETTER, INDICATORS, Figures, Scheme, change
from gongzhi.evaluation.periods import Period, add_months, month_of
from gongzhi.evaluation.policies import public_rankings
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.queries import regions_in, subtree_of
from gongzhi.triage.queries import HotIssueView, hot_issues_for

LIST_LIMIT = 20
RED, BLACK = RankingList.RED.value, RankingList.BLACK.value
TREND_MONTHS = 12


@dataclass(frozen=True)
class IndicatorRow:
    """One indicator this month, the month before and a year before."""

    key: str
    label: StrOrPromise
    current: float | None
    previous: float | None
    year_before: float | None
    is_rate: bool
    higher_is_better: bool

    @property
    def month_on_month(self) -> float | None:
        return change(self.current, self.previous)

    @property
    def year_on_year(self) -> float | None:
        return change(self.current, self.year_before)


@dataclass(frozen=True)
class MonthFigures:
    """The headline figures of a region for a month, with month on month and year on year."""

    month: dt.date
    case_count: int
    previous_case_count: int
    score: Decimal | None
    previous_score: Decimal | None
    year_before_score: Decimal | None
    grade: str
    indicators: list[IndicatorRow]

    @property
    def score_month_on_month(self) -> Decimal | None:
        return _difference(self.score, self.previous_score)

    @property
    def score_year_on_year(self) -> Decimal | None:
        return _difference(self.score, self.year_before_score)


def _difference(current: Decimal | None, before: Decimal | None) -> Decimal | None:
    return None if current is None or before is None else current - before


@dataclass(frozen=True)
class AreaScore:
    """A region below (a street, a district) with its score for the month."""

    region_id: int
    name: str
    case_count: int
    score: Decimal | None
    grade: str


@dataclass(frozen=True)
class GridHeat:
    """Cases submitted in one grid this month, with the grid's outline for the map."""

    region_id: int
    name: str
    case_count: int
    boundary: dict[str, Any] | None


@dataclass(frozen=True)
class TrendPoint:
    month: dt.date
    case_count: int
    satisfaction_rate: float | None
    on_time_closure_rate: float | None


@dataclass(frozen=True)
class ListedEntry:
    position: int | None
    name: str
    score: Decimal | None


@dataclass(frozen=True)
class RankingSummary:
    """A published ranking's red and black lists (红黑榜)."""

    ranking_id: int
    month: dt.date
    subject: StrOrPromise
    region_name: str
    version: int
    red: list[ListedEntry]
    black: list[ListedEntry]


@dataclass(frozen=True)
class CommandCentre:
    """Everything the command centre shows for one region at one moment."""

    region: Any
    now: dt.datetime
    counts: LiveCounts
    overdue: list[CaseLine]
    supervised: list[CaseLine]
    figures: MonthFigures
    area_level: int | None
    areas: list[AreaScore]
    heat: list[GridHeat]
    trend: list[TrendPoint]
    rankings: list[RankingSummary]
    computed_at: dt.datetime | None
    hot_issues: list[HotIssueView] = field(default_factory=list)


@dataclass(frozen=True)
class PublicFigures:
    """What anyone may read about a city: counts and rates only, no case, no person."""

    region: Any
    now: dt.datetime
    counts: LiveCounts
    figures: MonthFigures
    areas: list[AreaScore]
    heat: list[GridHeat]
    trend: list[TrendPoint]
    rankings: list[RankingSummary]
    computed_at: dt.datetime | None


# --- The parts ----------------------------------------------------------------------------------


def month_figures(region: Any, month: dt.date) -> tuple[MonthFigures, Scheme]:
    """The figures and the score scheme they were computed under (the region's)."""
    comparison = figures.compare_region(region, Period.month(month))
    current, previous, year_before = (
        comparison.current,
        comparison.previous,
        comparison.year_before,
    )
    rows = [
        IndicatorRow(
            key=key,
            label=label,
            current=getattr(current, key),
            previous=getattr(previous, key),
            year_before=getattr(year_before, key),
            is_rate=key != "average_handling_hours",
            higher_is_better=key in HIGHER_IS_BETTER,
        )
        for key, label in INDICATORS.items()
    ]
    grade = current.grade
    headline = MonthFigures(
        month=month,
        case_count=current.case_count,
        previous_case_count=previous.case_count,
        score=current.score,
        previous_score=previous.score,
        year_before_score=year_before.score,
        grade=grade.value if grade else "",
        indicators=rows,
    )
    return headline, current.scheme


def area_level(region: Any) -> int | None:
    """Which regions below ``region`` are scored side by side: the streets of a city or a
    district, the communities of a street, the grids of a community; none below a grid."""
    if region.level >= RegionLevel.GRID:
        return None
    return max(int(RegionLevel.STREET), int(region.level) + 1)


def area_scores(
    region: Any, month: dt.date, level: int, scheme: Scheme | None = None
) -> list[AreaScore]:
    """The regions at ``level`` inside ``region``, the best score first (unscored last)."""
    found = figures.figures_by_child(region, Period.month(month), level, scheme)
    areas = [_area(child, result) for child, result in found.items()]
    return sorted(areas, key=lambda a: (a.score is None, -(a.score or 0)))


def _area(child: Any, result: Figures) -> AreaScore:
    grade = result.grade
    return AreaScore(
        region_id=child.pk,
        name=child.name,
        case_count=result.case_count,
        score=result.score,
        grade=grade.value if grade else "",
    )


def grid_heat(region: Any, month: dt.date, scheme: Scheme | None = None) -> list[GridHeat]:
    """Cases submitted per grid in the month (from the tallies), grids without cases too.
    Plain values throughout: a city has thousands of grids."""
    counts = figures.submitted_by_child(region, Period.month(month), RegionLevel.GRID)
    grids = (
        subtree_of(region)
        .filter(level=RegionLevel.GRID)
        .order_by("path")
        .values_list("pk", "name", "path", "boundary")
    )
    return [GridHeat(pk, name, counts.get(path, 0), boundary) for pk, name, path, boundary in grids]


def trend(region: Any, last: dt.date) -> list[TrendPoint]:
    period = Period(add_months(last, 1 - TREND_MONTHS), last)
    return [
        TrendPoint(
            month=month,
            case_count=int(result["submitted_count"]),
            satisfaction_rate=result.satisfaction_rate,
            on_time_closure_rate=result.on_time_closure_rate,
        )
        for month, result in figures.monthly_figures(region, period)
    ]


def _summaries(rankings: Any) -> list[RankingSummary]:
    """The red and black lists of the latest month's current rankings among ``rankings``."""
    found = list(rankings.filter(is_current=True).order_by("-month", "region_path", "subject"))
    if not found:
        return []
    latest = found[0].month
    summaries = []
    for ranking in (r for r in found if r.month == latest):
        listed = sorted(ranking.entries.all(), key=lambda e: (e.position or 0, e.name))
        red = [ListedEntry(e.position, e.name, e.score) for e in listed if e.listed == RED]
        black = [ListedEntry(e.position, e.name, e.score) for e in listed if e.listed == BLACK]
        summaries.append(
            RankingSummary(
                ranking_id=ranking.pk,
                month=ranking.month,
                subject=RankingSubject(ranking.subject).label,
                region_name=ranking.region.name,
                version=ranking.version,
                red=red,
                black=list(reversed(black)),  # the worst first
            )
        )
    return summaries


def rankings_for(region: Any) -> list[RankingSummary]:
    """Published rankings within the region, or of a region above it that ranks its streets
    and units too (rankings are public, see ``evaluation.policies.public_rankings``)."""
    around = Q(region_path__in=region.ancestor_paths) | subtree_q("region_path", region.path)
    return _summaries(public_rankings().filter(around).prefetch_related("entries"))


# --- The pages ----------------------------------------------------------------------------------


def command_centre(region: Any, now: dt.datetime) -> CommandCentre:
    """The command centre of ``region`` (its whole subtree) at ``now``: this month's figures
    so far beside last month's and last year's, live counters and lists of open cases."""
    month = month_of(now)
    scope = Scope.of([region.path])
    level = area_level(region)
    headline, scheme = month_figures(region, month)
    return CommandCentre(
        region=region,
        now=now,
        counts=live_counts(scope, now),
        overdue=overdue_cases(scope, limit=LIST_LIMIT),
        supervised=supervised_cases(scope, limit=LIST_LIMIT),
        figures=headline,
        area_level=level,
        areas=area_scores(region, month, level, scheme) if level else [],
        heat=grid_heat(region, month, scheme),
        trend=trend(region, month),
        rankings=rankings_for(region),
        computed_at=figures.computed_at(Period.month(month)),
        hot_issues=[_redacted(issue) for issue in hot_issues_for(region.path)],
    )


def _redacted(issue: HotIssueView) -> HotIssueView:
    """Case titles may name people or give an address: the command centre shows them as
    every other list does (``core.redaction``); the case page shows the rest to those who
    may see it."""
    cases = tuple({**c, "title": redact(c["title"])} for c in issue.cases)
    return replace(issue, cases=cases)


def public_region() -> Any:
    """The city the public page shows: the first region at the top of the tree."""
    return (
        regions_in(EVERYWHERE)
        .filter(parent__isnull=True)
        .defer("boundary")
        .order_by("path")
        .first()
    )


def public_figures(region: Any, now: dt.datetime) -> PublicFigures:
    """The public page of a city: the last full month's figures, the trend up to it, every
    district's score, the open cases now and the published rankings. Counts and rates only."""
    month = add_months(month_of(now), -1)
    headline, scheme = month_figures(region, month)
    return PublicFigures(
        region=region,
        now=now,
        counts=live_counts(Scope.of([region.path]), now),
        figures=headline,
        areas=area_scores(region, month, RegionLevel.DISTRICT, scheme),
        heat=grid_heat(region, month, scheme),
        trend=trend(region, month),
        rankings=_summaries(public_rankings().prefetch_related("entries")),
        computed_at=figures.computed_at(Period.month(month)),
    )
