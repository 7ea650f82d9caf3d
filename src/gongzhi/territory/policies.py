"""Who may see and change regions and units.

Entry points fetch through ``access_region`` / ``access_unit``: they scope by the person's
jurisdiction and raise the same ``NotFound`` for "missing" and "not yours".
"""

from __future__ import annotations

from typing import Literal

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, acting_membership, scope_of
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.territory import queries
from gongzhi.territory.models import Region, Unit

RegionAction = Literal["view", "edit"]
UnitAction = Literal["view", "edit", "manage_members"]


def regions_visible_to(user: AnyUser) -> QuerySet[Region]:
    return queries.regions_in(scope_of(user, Capability.VIEW_TERRITORY))


def units_visible_to(user: AnyUser) -> QuerySet[Unit]:
    return queries.units_serving(scope_of(user, Capability.VIEW_TERRITORY))


def can_edit_region(user: AnyUser, region: Region) -> bool:
    return scope_of(user, Capability.MANAGE_TERRITORY).covers(region.path)


def can_edit_unit(user: AnyUser, unit: Unit) -> bool:
    return scope_of(user, Capability.MANAGE_TERRITORY).covers(unit.region.path)


def can_manage_members_of_unit(user: AnyUser, unit: Unit) -> bool:
    return scope_of(user, Capability.MANAGE_MEMBERS).covers(unit.region.path)


def can_manage_api_keys_of_unit(user: AnyUser, unit: Unit) -> bool:
    return scope_of(user, Capability.MANAGE_API_KEYS).covers(unit.region.path)


def access_region(user: AnyUser, region_id: int | str, *, action: RegionAction = "view") -> Region:
    try:
        region = regions_visible_to(user).get(pk=int(region_id))
    except (Region.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such region.")) from None
    if action == "edit" and not can_edit_region(user, region):
        raise PermissionDenied(_("You may not edit this region."))
    return region


def access_unit(user: AnyUser, unit_id: int | str, *, action: UnitAction = "view") -> Unit:
    try:
        unit = units_visible_to(user).get(pk=int(unit_id))
    except (Unit.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such unit.")) from None
    allowed = {
        "view": True,
        "edit": can_edit_unit(user, unit),
        "manage_members": can_manage_members_of_unit(user, unit),
    }[action]
    if not allowed:
        raise PermissionDenied(_("You may not do this for this unit."))
    return unit


def acting_role(user: AnyUser, capability: str, region: Region) -> tuple[str, str]:
    """The (role, unit name) the person acts in for ``capability`` at ``region``, for timelines."""
    membership = acting_membership(user, capability, region.path)
    if membership is None:
        return ("superuser", "") if user.is_authenticated and user.is_superuser else ("", "")
    return membership.role, membership.unit.name
