"""Reads over the tallies: figures for a region subtree or a unit, per child region, per
unit, per month. Every read sums ``Tally`` rows (a few thousand at most), never cases.
Callers check who may see what (``policies``) before asking."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet, Sum

from gongzhi.core.scoping import subtree_q
from gongzhi.evaluation.indicators import Figures, Scheme
from gongzhi.evaluation.models import (
    COUNTERS,
    AreaTally,
    ScoreScheme,
    TalliedMonth,
    Tally,
)
from gongzhi.evaluation.periods import Period
from gongzhi.evaluation.tallies import AREA_DEPTH
from gongzhi.territory.models import Region, Unit

SCHEME_FIELDS = tuple(Scheme.__dataclass_fields__)


def scheme_for(region: Region) -> Scheme:
    """The score scheme of the nearest region at or above ``region`` (defaults if none)."""
    paths = [region.path, *reversed(region.ancestor_paths)]
    rows = {
        s.region.path: s
        for s in ScoreScheme.objects.filter(region__path__in=paths).select_related("region")
    }
    for path in paths:
        if path in rows:
            row = rows[path]
            return Scheme(**{name: getattr(row, name) for name in SCHEME_FIELDS})
    return Scheme()


def _tallies(period: Period) -> QuerySet[Tally]:
    return Tally.objects.filter(month__gte=period.first, month__lte=period.last)


def _rows(period: Period, depth: int) -> QuerySet[Any]:
    """The roll-up rows that answer at ``depth`` (region level): the street sums
    (``AreaTally``) down to streets, the full tallies below."""
    if depth <= AREA_DEPTH:
        return AreaTally.objects.filter(month__gte=period.first, month__lte=period.last)
    return _tallies(period)


def _sum(rows: QuerySet[Any]) -> dict[str, float]:
    found = rows.aggregate(**{name: Sum(name) for name in COUNTERS})
    return {name: found[name] or 0 for name in COUNTERS}


def figures_for_region(region: Region, period: Period, scheme: Scheme | None = None) -> Figures:
    """Everything that happened to cases located in ``region``'s subtree."""
    rows = _rows(period, region.level).filter(subtree_q("region_path", region.path))
    return Figures.of(_sum(rows), scheme or scheme_for(region))


def figures_for_unit(unit: Unit, period: Period, scheme: Scheme | None = None) -> Figures:
    """Everything the unit received and handled, wherever the matters were."""
    rows = _tallies(period).filter(unit=unit)
    return Figures.of(_sum(rows), scheme or scheme_for(unit.region))


def _grouped(rows: QuerySet[Any], *keys: str) -> dict[tuple[object, ...], dict[str, float]]:
    sums: dict[tuple[object, ...], dict[str, float]] = {}
    found = rows.values(*keys).annotate(**{f"s_{n}": Sum(n) for n in COUNTERS}).order_by()
    for row in found:
        sums[tuple(row[k] for k in keys)] = {n: row[f"s_{n}"] or 0 for n in COUNTERS}
    return sums


def figures_by_child(
    region: Region, period: Period, level: int, scheme: Scheme | None = None
) -> dict[Region, Figures]:
    """Figures of every region at ``level`` inside ``region`` (e.g. its streets), including
    regions that had no cases (all counters 0)."""
    scheme = scheme or scheme_for(region)
    children = list(
        Region.objects.filter(subtree_q("path", region.path), level=level)
        .defer("boundary")
        .order_by("path")
    )
    by_prefix: dict[str, dict[str, float]] = defaultdict(lambda: dict.fromkeys(COUNTERS, 0))
    depth = level  # a path at level L has L segments
    sums = _grouped(
        _rows(period, level).filter(subtree_q("region_path", region.path)), "region_path"
    )
    for (path,), counts in sums.items():
        segments = str(path).split("/")
        if len(segments) - 1 < depth:
            continue  # a case located above the level (e.g. at the district itself)
        prefix = "/".join(segments[:depth]) + "/"
        target = by_prefix[prefix]
        for name in COUNTERS:
            target[name] += counts[name]
    return {child: Figures.of(by_prefix.get(child.path, {}), scheme) for child in children}


def submitted_by_child(region: Region, period: Period, level: int) -> dict[str, int]:
    """Cases submitted in the period per region path at ``level`` inside ``region`` (only
    regions that had cases): the heat map's numbers, without building figures."""
    counts: dict[str, int] = defaultdict(int)
    found = (
        _rows(period, level)
        .filter(subtree_q("region_path", region.path))
        .values("region_path")
        .annotate(n=Sum("submitted_count"))
        .order_by()
    )
    for row in found:
        segments = str(row["region_path"]).split("/")
        if len(segments) - 1 >= level:
            counts["/".join(segments[:level]) + "/"] += int(row["n"] or 0)
    return dict(counts)


def figures_by_unit(
    region: Region, period: Period, scheme: Scheme | None = None
) -> dict[Unit, Figures]:
    """Figures of every unit that had cases located in ``region``'s subtree in the period."""
    scheme = scheme or scheme_for(region)
    sums = _grouped(
        _tallies(period).filter(subtree_q("region_path", region.path), unit__isnull=False),
        "unit_id",
    )
    units = Unit.objects.filter(pk__in=[key[0] for key in sums]).select_related("region")
    return {unit: Figures.of(sums[(unit.pk,)], scheme) for unit in units}


def monthly_figures(region: Region, period: Period) -> list[tuple[dt.date, Figures]]:
    """One ``Figures`` per month of the period (for trend charts), months without cases too."""
    scheme = scheme_for(region)
    sums = _grouped(
        _rows(period, region.level).filter(subtree_q("region_path", region.path)), "month"
    )
    return [(month, Figures.of(sums.get((month,), {}), scheme)) for month in period.months()]


@dataclass(frozen=True)
class Comparison:
    """Figures for a period with month on month and year on year beside them."""

    period: Period
    current: Figures
    previous: Figures
    year_before: Figures


def compare_region(region: Region, period: Period) -> Comparison:
    scheme = scheme_for(region)
    return Comparison(
        period,
        figures_for_region(region, period, scheme),
        figures_for_region(region, period.previous(), scheme),
        figures_for_region(region, period.year_before(), scheme),
    )


def computed_at(period: Period) -> dt.datetime | None:
    """When the latest of the period's months was computed (``None``: never)."""
    found = TalliedMonth.objects.filter(month__gte=period.first, month__lte=period.last)
    times = [m.computed_at for m in found]
    return max(times) if times else None
