"""The command centre (staff with ``VIEW_EVALUATION``) and the public page (anyone).

Thin: access the region, call one function of ``queries``, render. Chart data goes to the
page as JSON (``json_script``) beside tables that show the same figures, so the page reads
without JavaScript and without ECharts.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import scope_of
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.dashboards import queries
from gongzhi.dashboards.queries import AreaScore, GridHeat, TrendPoint
from gongzhi.evaluation.policies import access_evaluated_region, evaluated_regions
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.queries import regions_in

ECHARTS = "vendor/echarts/echarts.min.js"
# Colours of the heat map: no case, then up to five classes from few to many.
NO_CASE_COLOUR = "#f2f4f7"
HEAT_COLOURS = ("#fee5d9", "#fcae91", "#fb6a4a", "#de2d26", "#a50f15")


@dataclass(frozen=True)
class HeatClass:
    low: int
    high: int
    colour: str


def heat_classes(most: int) -> list[HeatClass]:
    """Equal steps from 1 to the busiest grid's count, at most five (0 has its own colour)."""
    if most <= 0:
        return []
    count = min(len(HEAT_COLOURS), most)
    step = math.ceil(most / count)
    classes = []
    for index in range(count):
        low = index * step + 1
        if low > most:
            break
        classes.append(HeatClass(low, min(most, (index + 1) * step), HEAT_COLOURS[index]))
    return classes


def echarts_url() -> str | None:
    """Where ECharts is served from, or ``None`` when `make assets` has not installed it
    (the page then shows its tables only, and asks for no missing script)."""
    if not (staticfiles_storage.exists(ECHARTS) or finders.find(ECHARTS)):
        return None
    try:
        return static(ECHARTS)
    except ValueError:  # a manifest without it: collectstatic ran before `make assets`
        return None


def _rate(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def _trend_json(points: list[TrendPoint]) -> dict[str, Any]:
    return {
        "months": [f"{p.month:%Y-%m}" for p in points],
        "cases": [p.case_count for p in points],
        "satisfaction": [_rate(p.satisfaction_rate) for p in points],
        "on_time": [_rate(p.on_time_closure_rate) for p in points],
    }


def _heat_json(grids: list[GridHeat], classes: list[HeatClass]) -> dict[str, Any]:
    return {
        "type": "FeatureCollection",
        "classes": [asdict(c) for c in classes],
        "empty": NO_CASE_COLOUR,
        "features": [
            {
                "type": "Feature",
                "geometry": g.boundary,
                "properties": {"name": g.name, "count": g.case_count},
            }
            for g in grids
            if g.boundary
        ],
    }


def _figures_context(
    areas: list[AreaScore], trend: list[TrendPoint], heat: list[GridHeat]
) -> dict[str, Any]:
    """What both pages draw: chart data (as JSON for ``json_script``) and the map's legend."""
    classes = heat_classes(max((g.case_count for g in heat), default=0))
    charts = {
        "trend": _trend_json(trend),
        "areas": {
            "names": [a.name for a in areas],
            "scores": [None if a.score is None else float(a.score) for a in areas],
        },
        "heat": _heat_json(heat, classes),
        "labels": {
            "cases": _("Cases"),
            "satisfaction": _("Satisfaction rate"),
            "on_time": _("On-time closure rate"),
            "score": _("Score"),
            "no_score": _("No score"),
        },
    }
    return {
        "charts": charts,
        "heat_classes": classes,
        "no_case_colour": NO_CASE_COLOUR,
        "echarts_url": echarts_url(),
        "map_tiles_url": settings.GONGZHI_MAP_TILES_URL,
    }


@require_GET
def command_centre(request: HttpRequest) -> HttpResponse:
    """The figures, live counters and lists of one region in the person's evaluation scope
    (their own at first; ``?region=`` picks another inside it)."""
    user = request.user
    roots = list(evaluated_regions(user))
    if not roots:
        raise PermissionDenied(_("The command centre is for staff who see the figures."))
    chosen = request.GET.get("region")
    region = access_evaluated_region(user, chosen) if chosen else roots[0]
    centre = queries.command_centre(region, timezone.now())
    choices = (
        regions_in(scope_of(user, Capability.VIEW_EVALUATION))
        .filter(level__lte=RegionLevel.STREET)
        .defer("boundary")
        .order_by("path")
    )
    return render(
        request,
        "dashboards/command_centre.html",
        {
            "centre": centre,
            "region": region,
            "region_choices": choices,
            **_figures_context(centre.areas, centre.trend, centre.heat),
        },
    )


def _cached_public_figures(region: Any) -> queries.PublicFigures:
    """The public page's figures, computed at most once a minute per server process and
    language (``GONGZHI_PUBLIC_CACHE_SECONDS``): the one page anyone may load, without login,
    must not cost half a second of database time per request. The page says when its
    figures were computed."""
    seconds = getattr(settings, "GONGZHI_PUBLIC_CACHE_SECONDS", 60)
    if seconds <= 0:
        return queries.public_figures(region, timezone.now())
    key = f"dashboards:public:{region.pk}:{get_language()}"
    shown: queries.PublicFigures | None = cache.get(key)
    if shown is None:
        shown = queries.public_figures(region, timezone.now())
        cache.set(key, shown, seconds)
    return shown


@login_not_required
@require_GET
def public(request: HttpRequest) -> HttpResponse:
    """The city's figures for everyone: counts and rates, no case and no person."""
    region = queries.public_region()
    if region is None:
        raise NotFound(_("No city has been set up yet."))
    shown = _cached_public_figures(region)
    return render(
        request,
        "dashboards/public.html",
        {
            "shown": shown,
            "region": region,
            **_figures_context(shown.areas, shown.trend, shown.heat),
        },
    )
