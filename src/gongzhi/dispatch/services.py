"""Changes to the responsibility list."""

from __future__ import annotations

from gongzhi.cases.models import Category
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.models import RoutingRule
from gongzhi.territory.models import Region, Unit


def set_routing_rule(
    *,
    category: Category | None,
    region: Region,
    principle: str,
    unit: Unit | None = None,
    locality_level: int | None = None,
    priority: int = 100,
) -> RoutingRule:
    """Create or replace the rule for (category, region)."""
    defaults: dict[str, object] = {"principle": principle, "unit": unit, "priority": priority}
    if principle == Principle.LOCALITY and locality_level is not None:
        defaults["locality_level"] = locality_level
    rule, _created = RoutingRule.objects.update_or_create(
        category=category, region=region, defaults=defaults
    )
    return rule
