"""Which unit a case should go to, by the routing rules (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Q

from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.models import RoutingRule
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit


@dataclass(frozen=True)
class Route:
    unit: Unit
    rule: RoutingRule | None  # None: no rule matched, the district government answers (兜底)
    explanation: str


def _government_at(region: Region, level: int) -> Unit | None:
    """The government (or else the committee) of ``region``'s ancestor at ``level``."""
    paths = [*region.ancestor_paths, region.path]
    if len(paths) < level:
        return None
    home = Region.objects.filter(path=paths[level - 1]).first()
    if home is None:
        return None
    kinds = [UnitKind.GOVERNMENT, UnitKind.COMMUNITY_COMMITTEE]
    units = Unit.objects.filter(region=home, kind__in=kinds, is_active=True).select_related(
        "region"
    )
    return min(units, key=lambda u: kinds.index(UnitKind(u.kind)), default=None)


def route(category_path: str | None, region: Region) -> Route:
    """The unit for a case of this category in this region."""
    region_paths = [*region.ancestor_paths, region.path]
    category_filter = Q(category__isnull=True)
    if category_path:
        parts = category_path.split("/")
        category_paths = ["/".join(parts[:i]) for i in range(1, len(parts) + 1)]
        category_filter |= Q(category__path__in=category_paths)
    rules = list(
        RoutingRule.objects.filter(
            category_filter, region__path__in=region_paths, is_active=True
        ).select_related("category", "region", "unit__region")
    )

    def specificity(rule: RoutingRule) -> tuple[int, int, int]:
        depth = rule.category.level if rule.category else 0
        return (-depth, -rule.region.level, rule.priority)

    for rule in sorted(rules, key=specificity):
        if rule.principle == Principle.OWNER and rule.unit is not None and rule.unit.is_active:
            return Route(rule.unit, rule, f"owner first: {rule}")
        if rule.principle == Principle.LOCALITY:
            unit = _government_at(region, rule.locality_level)
            if unit is not None:
                return Route(unit, rule, f"locality first: {rule}")
    fallback = _government_at(region, RegionLevel.DISTRICT) or _government_at(
        region, RegionLevel.CITY
    )
    if fallback is None:
        raise LookupError(f"no government unit above region {region.code}")
    return Route(fallback, None, "no rule matched: the district government answers")
