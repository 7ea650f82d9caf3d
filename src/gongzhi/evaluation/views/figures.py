"""The figures page (考评数据): every indicator of a region for a period, with month on
month and year on year, the composite score, the regions below and the units.

Thin: the region comes through ``policies.access_evaluated_region`` (404 outside the
person's scope), the figures from ``queries`` (sums of tallies, never cases). Nothing here
names a person: figures are aggregates of regions and units.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django_stubs_ext import StrOrPromise

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of
from gongzhi.core.errors import InvalidInput, PermissionDenied
from gongzhi.evaluation import policies, queries
from gongzhi.evaluation.forms import region_choices
from gongzhi.evaluation.indicators import HIGHER_IS_BETTER, INDICATORS, Figures, change
from gongzhi.evaluation.pages import (
    period_from,
    score_change,
    show_change,
    show_score_change,
    show_value,
)
from gongzhi.evaluation.periods import Period
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region


def require_evaluation(user: AnyUser) -> None:
    if not policies.can_view_evaluation(user):
        raise PermissionDenied(_("Figures and rankings are for the staff who evaluate the work."))


def regions_to_pick(user: AnyUser) -> list[Region]:
    """The regions of the person's evaluation scope down to the streets, top first."""
    scope = scope_of(user, Capability.VIEW_EVALUATION)
    return list(
        Region.objects.filter(scope.q("path"))
        .filter(Q(level__lte=RegionLevel.STREET) | Q(path__in=scope.paths))
        .defer("boundary")
        .order_by("path")
    )


def child_level(region: Region) -> int | None:
    """Streets below a city or a district, then communities, then grids."""
    if region.level < RegionLevel.STREET:
        return int(RegionLevel.STREET)
    if region.level < RegionLevel.GRID:
        return region.level + 1
    return None


# --- Display -----------------------------------------------------------------------------------


def trend(name: str, delta: float | Decimal | None) -> str:
    """``better``, ``worse`` or ``""`` (no change, or nothing to compare)."""
    if delta is None or delta == 0:
        return ""
    higher_is_better = name in HIGHER_IS_BETTER or name == "score"
    return "better" if (delta > 0) == higher_is_better else "worse"


@dataclass(frozen=True)
class IndicatorRow:
    name: str
    label: StrOrPromise
    value: str
    mom: str
    mom_trend: str
    yoy: str
    yoy_trend: str


@dataclass(frozen=True)
class SubjectRow:
    name: str
    url: str
    case_count: int
    score: Decimal | None
    grade: str
    values: list[str]


def indicator_rows(comparison: queries.Comparison) -> list[IndicatorRow]:
    current = comparison.current.indicators()
    previous = comparison.previous.indicators()
    year_before = comparison.year_before.indicators()
    rows = []
    for name, label in INDICATORS.items():
        mom = change(current[name], previous[name])
        yoy = change(current[name], year_before[name])
        rows.append(
            IndicatorRow(
                name,
                label,
                show_value(name, current[name]),
                show_change(name, mom),
                trend(name, mom),
                show_change(name, yoy),
                trend(name, yoy),
            )
        )
    return rows


def subject_row(name: str, url: str, figures: Figures) -> SubjectRow:
    values = figures.indicators()
    return SubjectRow(
        name=name,
        url=url,
        case_count=figures.case_count,
        score=figures.score,
        grade=figures.grade or "",
        values=[show_value(key, values[key]) for key in INDICATORS],
    )


def period_query(region: Region, period: Period) -> str:
    """``region=..&from=..&to=..`` for links to the same figures."""
    months = {"from": f"{period.first:%Y-%m}", "to": f"{period.last:%Y-%m}"}
    return urlencode({"region": str(region.pk), **months})


def _link(region: Region, period: Period) -> str:
    return f"{reverse('evaluation:figures')}?{period_query(region, period)}"


def figures_context(user: AnyUser, region: Region, period: Period) -> dict[str, Any]:
    scheme = queries.scheme_for(region)
    comparison = queries.Comparison(
        period,
        queries.figures_for_region(region, period, scheme),
        queries.figures_for_region(region, period.previous(), scheme),
        queries.figures_for_region(region, period.year_before(), scheme),
    )
    level = child_level(region)
    children = queries.figures_by_child(region, period, level, scheme) if level is not None else {}
    units = sorted(
        queries.figures_by_unit(region, period, scheme).items(), key=lambda item: item[0].name
    )
    current = comparison.current
    mom = score_change(current, comparison.previous)
    yoy = score_change(current, comparison.year_before)
    return {
        "current": current,
        "score_mom": show_score_change(mom),
        "score_mom_trend": trend("score", mom),
        "score_yoy": show_score_change(yoy),
        "score_yoy_trend": trend("score", yoy),
        "indicators": indicator_rows(comparison),
        "child_level": RegionLevel(level).label if level is not None else "",
        "children": [subject_row(r.name, _link(r, period), f) for r, f in children.items()],
        "units": [subject_row(u.name, "", f) for u, f in units],
        "computed_at": queries.computed_at(period),
        "can_configure": policies.can_configure_evaluation(user, region),
        "export_query": period_query(region, period),
        "report_query": urlencode({"region": str(region.pk), "month": f"{period.last:%Y-%m}"}),
    }


@require_GET
def figures(request: HttpRequest) -> HttpResponse:
    user = request.user
    require_evaluation(user)
    regions = regions_to_pick(user)
    if request.GET.get("region"):
        region = policies.access_evaluated_region(user, request.GET["region"])
    elif regions:
        region = regions[0]  # the top of the person's scope
    else:
        raise PermissionDenied(_("You have no region to evaluate."))
    context: dict[str, Any] = {
        "region": region,
        # A community or grid reached from a table is offered too, so the form keeps it.
        "region_choices": region_choices(
            regions if region in regions else sorted([*regions, region], key=lambda r: r.path)
        ),
        "labels": list(INDICATORS.values()),
        "start": request.GET.get("from", ""),
        "end": request.GET.get("to", ""),
    }
    status = 200
    try:
        period = period_from(request.GET)
    except InvalidInput as exc:
        context["error"] = exc.message
        status = exc.status
    else:
        context.update(figures_context(user, region, period))
        context.update(period=period, start=f"{period.first:%Y-%m}", end=f"{period.last:%Y-%m}")
    return render(request, "evaluation/figures.html", context, status=status)
