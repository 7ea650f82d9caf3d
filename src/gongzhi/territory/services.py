"""Every change to regions and units goes through here: one write path, one audit event each."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import PermissionDenied
from gongzhi.territory.choices import CODE_LENGTH, RegionLevel, TerritoryAuditAction, UnitKind
from gongzhi.territory.errors import DuplicateRegionCode, InvalidJurisdiction, InvalidRegionCode
from gongzhi.territory.geometry import validate_boundary, validate_centre
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.policies import acting_role, can_edit_region, can_edit_unit

# How many leading digits of a region's code its children share (GB/T 2260 and its extensions).
SIGNIFICANT_DIGITS = {
    RegionLevel.CITY: 4,
    RegionLevel.DISTRICT: 6,
    RegionLevel.STREET: 9,
    RegionLevel.COMMUNITY: 12,
}
_DIGITS = re.compile(r"^[0-9]+$")


def validate_region_code(code: str, level: int, parent: Region | None) -> str:
    code = code.strip()
    expected = CODE_LENGTH[RegionLevel(level)]
    if not _DIGITS.match(code) or len(code) != expected:
        raise InvalidRegionCode(
            _("A %(level)s code has exactly %(n)d digits.")
            % {"level": RegionLevel(level).label, "n": expected}
        )
    if parent is not None:
        if parent.level != level - 1:
            raise InvalidRegionCode(_("A region's parent must be one level above it."))
        shared = SIGNIFICANT_DIGITS[RegionLevel(parent.level)]
        if code[:shared] != parent.code[:shared]:
            raise InvalidRegionCode(
                _("The code must start with its parent's digits %(prefix)s.")
                % {"prefix": parent.code[:shared]}
            )
    elif level != RegionLevel.CITY:
        raise InvalidRegionCode(_("Only a city may be a region without a parent."))
    return code


def _audit_region(
    region: Region, action: str, actor: AnyUser, data: dict[str, Any], reason: str
) -> None:
    role, unit_name = acting_role(actor, Capability.MANAGE_TERRITORY, region)
    record_audit(
        subject_type="region",
        subject_id=region.pk,
        subject_label=f"{region.name} {region.code}",
        region_path=region.path,
        action=action,
        actor=actor,
        actor_role=role,
        actor_unit_name=unit_name,
        data=data,
        reason=reason,
    )


def create_region(
    parent: Region | None,
    *,
    code: str,
    name: str,
    actor: AnyUser,
    boundary: dict[str, Any] | None = None,
    centre: tuple[float, float] | None = None,
) -> Region:
    level = RegionLevel.CITY if parent is None else parent.level + 1
    if level > RegionLevel.GRID:
        raise InvalidRegionCode(_("A grid is the smallest region: it cannot have children."))
    if parent is not None and not can_edit_region(actor, parent):
        raise PermissionDenied(_("You may not add regions here."))
    if parent is None and not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied(_("Only a superuser may add a city."))
    code = validate_region_code(code, level, parent)
    name = name.strip()
    if not name:
        raise InvalidRegionCode(_("A region needs a name."))
    with transaction.atomic():
        if Region.objects.filter(code=code).exists():
            raise DuplicateRegionCode(
                _("Another region already has the code %(code)s.") % {"code": code}
            )
        region = Region(
            code=code,
            name=name[:100],
            level=level,
            parent=parent,
            path=(parent.path if parent else "") + code + "/",
            boundary=validate_boundary(boundary) if boundary is not None else None,
        )
        if centre is not None:
            region.centre_lat, region.centre_lng = validate_centre(*centre)
        region.save(force_insert=True)
        _audit_region(
            region,
            TerritoryAuditAction.REGION_CREATED,
            actor,
            {"code": code, "name": region.name},
            "",
        )
    return region


_UNSET: Any = object()


def update_region(
    region: Region,
    *,
    actor: AnyUser,
    name: str = _UNSET,
    boundary: dict[str, Any] | None = _UNSET,
    centre: tuple[float, float] | None = _UNSET,
    reason: str = "",
) -> Region:
    """Rename a region or change its geometry. Codes and parents never change (history)."""
    if not can_edit_region(actor, region):
        raise PermissionDenied(_("You may not edit this region."))
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Region.objects.select_for_update().get(pk=region.pk)
        if name is not _UNSET:
            name = name.strip()[:100]
            if not name:
                raise InvalidRegionCode(_("A region needs a name."))
            if name != locked.name:
                changes["name"] = [locked.name, name]
                locked.name = name
        if boundary is not _UNSET:
            new_boundary = validate_boundary(boundary) if boundary is not None else None
            if new_boundary != locked.boundary:
                changes["boundary"] = "changed"
                locked.boundary = new_boundary
        if centre is not _UNSET:
            lat, lng = validate_centre(*centre) if centre is not None else (None, None)
            if (lat, lng) != (locked.centre_lat, locked.centre_lng):
                changes["centre"] = [[locked.centre_lat, locked.centre_lng], [lat, lng]]
                locked.centre_lat, locked.centre_lng = lat, lng
        if changes:
            fields = {"boundary": ["boundary"], "centre": ["centre_lat", "centre_lng"]}
            update_fields = [f for key in changes for f in fields.get(key, [key])]
            locked.save(update_fields=update_fields)
            _audit_region(locked, TerritoryAuditAction.REGION_UPDATED, actor, changes, reason)
    return locked


@dataclass(frozen=True)
class RegionRow:
    """One region of an imported tree (a demo city, or a city's official code list)."""

    code: str
    name: str
    parent_code: str | None
    boundary: dict[str, Any] | None = None
    centre: tuple[float, float] | None = None


def import_region_tree(rows: Sequence[RegionRow], *, actor: AnyUser, reason: str) -> int:
    """Create the regions in ``rows`` that do not exist yet, parents before children.

    Existing codes are left as they are, so an import can be repeated. Validated like
    ``create_region``, but written in bulk with one audit event for the whole import.
    Returns how many regions were created.
    """
    if not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied(_("Only a superuser may import a region tree."))
    with transaction.atomic():
        codes = {row.code for row in rows} | {r.parent_code for r in rows if r.parent_code}
        known = {r.code: r for r in Region.objects.filter(code__in=codes)}
        created: list[Region] = []
        pending = [row for row in rows if row.code not in known]
        for level in RegionLevel:
            batch: list[Region] = []
            for row in pending:
                parent = known.get(row.parent_code) if row.parent_code else None
                if (parent.level + 1 if parent else RegionLevel.CITY) != level:
                    continue
                if row.parent_code and parent is None:
                    continue
                code = validate_region_code(row.code, level, parent)
                region = Region(
                    code=code,
                    name=row.name,
                    level=level,
                    parent=parent,
                    path=(parent.path if parent else "") + code + "/",
                    boundary=validate_boundary(row.boundary) if row.boundary else None,
                )
                if row.centre is not None:
                    region.centre_lat, region.centre_lng = validate_centre(*row.centre)
                batch.append(region)
            Region.objects.bulk_create(batch, batch_size=500)
            # bulk_create returns ids on PostgreSQL and SQLite 3.35+; re-read to be sure.
            for region in Region.objects.filter(code__in=[r.code for r in batch]):
                known[region.code] = region
            created.extend(batch)
        missing = [row.code for row in pending if row.code not in known]
        if missing:
            raise InvalidRegionCode(
                _("These regions have no parent in the import: %(codes)s")
                % {"codes": ", ".join(missing[:10])}
            )
        if created:
            root = min(created, key=lambda r: r.level)
            record_audit(
                subject_type="region-import",
                subject_id=root.code,
                subject_label=root.name,
                region_path=root.path,
                action=TerritoryAuditAction.REGION_IMPORTED,
                actor=actor,
                actor_role="superuser",
                data={"created_count": len(created)},
                reason=reason,
            )
    return len(created)


def _audit_unit(unit: Unit, action: str, actor: AnyUser, data: dict[str, Any], reason: str) -> None:
    role, unit_name = acting_role(actor, Capability.MANAGE_TERRITORY, unit.region)
    record_audit(
        subject_type="unit",
        subject_id=unit.pk,
        subject_label=unit.name,
        region_path=unit.region.path,
        action=action,
        actor=actor,
        actor_role=role,
        actor_unit_name=unit_name,
        data=data,
        reason=reason,
    )


def _check_jurisdictions(region: Region, jurisdictions: Iterable[Region]) -> list[Region]:
    """A unit may cover its home region's subtree only (a district bureau: its district)."""
    covered = list(jurisdictions) or [region]
    for item in covered:
        if not item.path.startswith(region.path):
            raise InvalidJurisdiction(
                _("%(unit_region)s's units may only cover regions inside it, not %(region)s.")
                % {"unit_region": region.name, "region": item.name}
            )
    return covered


def create_unit(
    *,
    name: str,
    kind: str,
    region: Region,
    actor: AnyUser,
    parent: Unit | None = None,
    short_name: str = "",
    phone: str = "",
    jurisdictions: Iterable[Region] = (),
) -> Unit:
    if not can_edit_region(actor, region):
        raise PermissionDenied(_("You may not add units here."))
    name = name.strip()
    if not name or kind not in UnitKind.values:
        raise InvalidJurisdiction(_("A unit needs a name and one of the known kinds."))
    covered = _check_jurisdictions(region, jurisdictions)
    with transaction.atomic():
        unit = Unit.objects.create(
            name=name[:200],
            short_name=short_name[:60],
            kind=kind,
            region=region,
            parent=parent,
            phone=phone[:30],
        )
        unit.jurisdictions.set(covered)
        _audit_unit(
            unit,
            TerritoryAuditAction.UNIT_CREATED,
            actor,
            {"name": unit.name, "kind": kind, "jurisdictions": [r.code for r in covered]},
            "",
        )
    return unit


def update_unit(
    unit: Unit,
    *,
    actor: AnyUser,
    name: str = _UNSET,
    short_name: str = _UNSET,
    phone: str = _UNSET,
    is_active: bool = _UNSET,
    jurisdictions: Iterable[Region] = _UNSET,
    reason: str = "",
) -> Unit:
    if not can_edit_unit(actor, unit):
        raise PermissionDenied(_("You may not edit this unit."))
    changes: dict[str, Any] = {}
    with transaction.atomic():
        locked = Unit.objects.select_for_update().select_related("region").get(pk=unit.pk)
        for field, value, limit in (
            ("name", name, 200),
            ("short_name", short_name, 60),
            ("phone", phone, 30),
        ):
            if value is _UNSET:
                continue
            value = value.strip()[:limit]
            if field == "name" and not value:
                raise InvalidJurisdiction(_("A unit needs a name."))
            if value != getattr(locked, field):
                changes[field] = [getattr(locked, field), value]
                setattr(locked, field, value)
        if is_active is not _UNSET and bool(is_active) != locked.is_active:
            changes["is_active"] = [locked.is_active, bool(is_active)]
            locked.is_active = bool(is_active)
        if changes:
            locked.save(update_fields=list(changes))
        if jurisdictions is not _UNSET:
            covered = _check_jurisdictions(locked.region, jurisdictions)
            before = sorted(r.code for r in locked.jurisdictions.all())
            after = sorted(r.code for r in covered)
            if before != after:
                locked.jurisdictions.set(covered)
                changes["jurisdictions"] = [before, after]
        if changes:
            _audit_unit(locked, TerritoryAuditAction.UNIT_UPDATED, actor, changes, reason)
    return locked
