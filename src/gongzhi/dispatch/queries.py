"""Which unit a case should go to, by the routing rules (no writes here)."""

from __future__ import annotations

from dataclasses import dataclass

from gongzhi.core import refdata
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.models import RoutingRule
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.queries import region_with_path


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
    return refdata.memo(
        "dispatch.governments", paths[level - 1], lambda: _government_of(paths[level - 1])
    )


def _government_of(path: str) -> Unit | None:
    home = region_with_path(path)
    if home is None:
        return None
    kinds = [UnitKind.GOVERNMENT, UnitKind.COMMUNITY_COMMITTEE]
    units = Unit.objects.filter(region=home, kind__in=kinds, is_active=True).select_related(
        "region"
    )
    return min(units, key=lambda u: kinds.index(UnitKind(u.kind)), default=None)


def _active_rules() -> dict[str, list[RoutingRule]]:
    """Every active rule, by its region's path (in id order), with what ``route`` reads."""
    rules: dict[str, list[RoutingRule]] = {}
    found = (
        RoutingRule.objects.filter(is_active=True)
        .select_related("category", "region", "unit__region")
        .order_by("pk")
    )
    for rule in found:
        rules.setdefault(rule.region.path, []).append(rule)
    return rules


def route(category_path: str | None, region: Region) -> Route:
    """The unit for a case of this category in this region. The rules and the governments
    are reference data kept in memory (``core.refdata``); the answer is the same as reading
    them now."""
    region_paths = [*region.ancestor_paths, region.path]
    category_paths: set[str] = set()
    if category_path:
        parts = category_path.split("/")
        category_paths = {"/".join(parts[:i]) for i in range(1, len(parts) + 1)}
    by_region = refdata.cached("dispatch.rules", _active_rules)
    rules = [
        rule
        for path in region_paths
        for rule in by_region.get(path, ())
        if rule.category is None or rule.category.path in category_paths
    ]

    def specificity(rule: RoutingRule) -> tuple[int, int, int, int]:
        depth = rule.category.level if rule.category else 0
        return (-depth, -rule.region.level, rule.priority, rule.pk)

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
