"""Read-only helpers for the request loop's web pages: where a map pin falls, which units a
case may go to, what the case map shows. Cases always come from ``policies``/``queries``."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.queries import AnyUser
from gongzhi.cases import policies
from gongzhi.cases.choices import RequestState
from gongzhi.cases.errors import OutsideTheCity
from gongzhi.cases.models import Case, CaseRequest, Category
from gongzhi.cases.proposals import DuplicateProposal, find_duplicates
from gongzhi.cases.workflow import CLOSED_STATES, OPEN_STATES
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.policies import units_visible_to
from gongzhi.territory.queries import contains, region_at, units_covering

# --- Where a point on the map falls -----------------------------------------------------------


# The geometry lives with the regions; the pages only turn "nowhere" into an error.
boundary_contains = contains


def region_at_point(lat: float, lng: float) -> Region:
    """The grid a point lies in (``territory.queries.region_at``); raises ``OutsideTheCity``
    when no city contains the point."""
    found = region_at(lat, lng)
    if found is None:
        raise OutsideTheCity(_("That point is outside the city."))
    return found


def orientation_map() -> dict[str, Any]:
    """The outlines and names of the cities and their districts (public knowledge), as a
    GeoJSON FeatureCollection, so people find their way on a map without tiles."""
    regions = Region.objects.filter(
        level__lte=RegionLevel.DISTRICT, boundary__isnull=False
    ).order_by("path")
    return {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": r.boundary,
                "properties": {"name": r.name, "level": r.level},
            }
            for r in regions
        ],
    }


def region_trail(region: Region) -> list[str]:
    """The names from the district down to the region (the city is implied)."""
    above = Region.objects.filter(path__in=region.ancestor_paths, level__gt=RegionLevel.CITY)
    return [*above.order_by("level").values_list("name", flat=True), region.name]


# --- Choices for the action forms -------------------------------------------------------------


def units_for_dispatch(user: AnyUser, case: Case) -> QuerySet[Unit]:
    """Active units that serve the case's region and that this person can see, nearest first."""
    visible = units_visible_to(user).values("pk")
    return units_covering(case.region).filter(pk__in=visible, is_active=True)


def active_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True).order_by("path")


def top_categories() -> QuerySet[Category]:
    return Category.objects.filter(is_active=True, level=1).order_by("path")


def pending_requests(case: Case) -> QuerySet[CaseRequest]:
    return (
        CaseRequest.objects.filter(case=case, state=RequestState.PENDING)
        .select_related("requested_by")
        .order_by("requested_at")
    )


def visible_case_by_number(user: AnyUser, number: str) -> Case | None:
    return policies.cases_visible_to(user).filter(number=number.strip()).first()


def still_visible(user: AnyUser, case: Case) -> bool:
    """After an action: may the person still open the case (a returned case leaves the unit)?"""
    return policies.cases_visible_to(user).filter(pk=case.pk).exists()


# --- The map of cases -------------------------------------------------------------------------

MAP_LIMIT = 2000


def cases_on_map(
    user: AnyUser, *, group: str = "", category: Category | None = None, warning: str = ""
) -> QuerySet[Case]:
    """Visible cases that have a point, filtered; only the columns the map needs."""
    qs = policies.cases_visible_to(user).filter(latitude__isnull=False, longitude__isnull=False)
    if group == "open":
        qs = qs.filter(state__in=[s.value for s in OPEN_STATES])
    elif group == "closed":
        qs = qs.filter(state__in=[s.value for s in CLOSED_STATES])
    if category is not None:
        qs = qs.filter(Q(category=category) | Q(category__path__startswith=category.path + "/"))
    if warning:
        qs = qs.filter(warning=warning)
    return qs.only(
        "id",
        "number",
        "title",
        "state",
        "warning",
        "is_supervised",
        "latitude",
        "longitude",
        "region_path",
        "unit_id",
        "reporter_id",
        "is_anonymous",
    ).order_by("-submitted_at")


# --- Probable duplicates ----------------------------------------------------------------------


def probable_duplicates(user: AnyUser, case: Case) -> list[DuplicateProposal]:
    """Open cases the finder (``proposals.find_duplicates``) thinks are the same matter as
    ``case``, best first, keeping only cases ``user`` may see."""
    found = find_duplicates(case)
    if not found:
        return []
    visible = {
        str(pk)
        for pk in policies.cases_visible_to(user)
        .filter(pk__in=[d.case_id for d in found])
        .values_list("pk", flat=True)
    }
    return [d for d in found if d.case_id in visible]
