from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class RegionLevel(models.IntegerChoices):
    """Depth in the command chain; the value is the depth (city = 1)."""

    CITY = 1, _("City")
    DISTRICT = 2, _("District / county")
    STREET = 3, _("Street / township")
    COMMUNITY = 4, _("Community / village")
    GRID = 5, _("Grid")


# Administrative codes: 12 digits for city to community (GB/T 2260 + 3 + 3), and grids
# extend their community's code by three digits.
CODE_LENGTH = {
    RegionLevel.CITY: 12,
    RegionLevel.DISTRICT: 12,
    RegionLevel.STREET: 12,
    RegionLevel.COMMUNITY: 12,
    RegionLevel.GRID: 15,
}


class UnitKind(models.TextChoices):
    PARTY_COMMITTEE = "party_committee", _("Party committee")
    POLITICAL_LEGAL = "political_legal", _("Political-legal committee")
    GOVERNMENT = "government", _("Government")
    DEPARTMENT = "department", _("Government department")
    COMMAND_CENTRE = "command_centre", _("Governance command centre")
    TRADE_UNION = "trade_union", _("Trade union")
    YOUTH_LEAGUE = "youth_league", _("Youth league")
    WOMENS_FEDERATION = "womens_federation", _("Women's federation")
    SOCIAL_ORGANISATION = "social_organisation", _("Social organisation")
    COMMUNITY_COMMITTEE = "community_committee", _("Community / village committee")
    COURT = "court", _("Court")
    PROCURATORATE = "procuratorate", _("Procuratorate")
    POLICE = "police", _("Police")
    ENTERPRISE = "enterprise", _("Public service enterprise")


class TerritoryAuditAction(models.TextChoices):
    REGION_CREATED = "region.created", _("Region created")
    REGION_UPDATED = "region.updated", _("Region changed")
    REGION_IMPORTED = "region.imported", _("Regions imported")
    UNIT_CREATED = "unit.created", _("Unit created")
    UNIT_UPDATED = "unit.updated", _("Unit changed")


MASS_ORGANISATIONS = frozenset(
    {UnitKind.TRADE_UNION, UnitKind.YOUTH_LEAGUE, UnitKind.WOMENS_FEDERATION}
)
