"""Who may see figures and rankings, and who may publish and configure them.

Figures are aggregates, but a street's figures are still the street's business: people see
the figures and rankings of regions inside their ``VIEW_EVALUATION`` scope. Entry points
fetch through ``access_evaluated_region`` / ``access_ranking`` (same ``NotFound`` for
"missing" and "not yours"). Published rankings are also public (``public_rankings``): they
hold no personal data.
"""

from __future__ import annotations

from typing import Literal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.evaluation.models import Ranking
from gongzhi.territory.models import Region, Unit

RegionAction = Literal["view", "publish", "configure"]
_CAPABILITY = {
    "view": Capability.VIEW_EVALUATION,
    "publish": Capability.PUBLISH_RANKINGS,
    "configure": Capability.MANAGE_EVALUATION,
}


def can_view_evaluation(user: AnyUser) -> bool:
    return not scope_of(user, Capability.VIEW_EVALUATION).is_empty


def can_publish_rankings(user: AnyUser, region: Region) -> bool:
    return scope_of(user, Capability.PUBLISH_RANKINGS).covers(region.path)


def can_configure_evaluation(user: AnyUser, region: Region) -> bool:
    return scope_of(user, Capability.MANAGE_EVALUATION).covers(region.path)


def evaluated_regions(user: AnyUser) -> QuerySet[Region]:
    """The subtree roots whose figures ``user`` may see (usually one)."""
    scope = scope_of(user, Capability.VIEW_EVALUATION)
    regions = Region.objects.defer("boundary").order_by("path")
    if "" in scope.paths:  # everywhere: the city (or cities) at the top
        return regions.filter(parent__isnull=True)
    return regions.filter(path__in=scope.paths)


def access_evaluated_region(
    user: AnyUser, region_id: int | str, *, action: RegionAction = "view"
) -> Region:
    scope = scope_of(user, _CAPABILITY["view"])
    try:
        region = Region.objects.filter(scope.q("path")).defer("boundary").get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such region.")) from None
    if action != "view" and not scope_of(user, _CAPABILITY[action]).covers(region.path):
        raise PermissionDenied(_("You may not do this for this region."))
    return region


def access_evaluated_unit(user: AnyUser, unit_id: int | str) -> Unit:
    """A unit whose own region lies in the person's evaluation scope."""
    scope = scope_of(user, Capability.VIEW_EVALUATION)
    try:
        return (
            Unit.objects.filter(scope.q("region__path"))
            .select_related("region")
            .get(pk=int(unit_id))
        )
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such unit.")) from None


def rankings_visible_to(user: AnyUser) -> QuerySet[Ranking]:
    scope = scope_of(user, Capability.VIEW_EVALUATION)
    return Ranking.objects.filter(scope.q("region_path")).select_related("region", "published_by")


def public_rankings() -> QuerySet[Ranking]:
    """What anyone may read: the current version of every published ranking."""
    return Ranking.objects.filter(is_current=True).select_related("region")


def access_ranking(user: AnyUser, ranking_id: int | str) -> Ranking:
    try:
        return rankings_visible_to(user).get(pk=int(ranking_id))
    except (Ranking.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such ranking.")) from None
