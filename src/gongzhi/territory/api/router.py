"""API over regions and units: parse, access, call the service, return the schema."""

from __future__ import annotations

from typing import Any

from django.db.models import Count, QuerySet
from django.http import HttpRequest
from ninja import Query, Router, Schema
from pydantic import Field

from gongzhi.territory import policies, queries, services
from gongzhi.territory.api.schemas import (
    RegionDetailOut,
    RegionOut,
    RegionPage,
    RegionPatch,
    RegionRef,
    UnitDetailOut,
    UnitOut,
    UnitPage,
    UnitPatch,
)
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit

router = Router(tags=["territory"])


class RegionFilters(Schema):
    parent_id: int | None = None
    level: RegionLevel | None = None
    q: str | None = Field(default=None, max_length=50, description="name or code contains")
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


class UnitFilters(Schema):
    region_id: int | None = None
    kind: UnitKind | None = None
    q: str | None = Field(default=None, max_length=50)
    limit: int = Field(default=100, ge=1, le=1000)
    offset: int = Field(default=0, ge=0)


def region_ref(region: Region) -> RegionRef:
    return RegionRef(id=region.pk, code=region.code, name=region.name, level=region.level)


def region_out(region: Region) -> RegionOut:
    return RegionOut(
        id=region.pk,
        code=region.code,
        name=region.name,
        level=region.level,
        level_label=str(region.get_level_display()),
        parent_id=region.parent_id,
        centre_lat=region.centre_lat,
        centre_lng=region.centre_lng,
        children_count=getattr(region, "children_count", None),
    )


def region_detail(request: HttpRequest, region: Region) -> RegionDetailOut:
    visible = policies.regions_visible_to(request.user)
    ancestors = visible.filter(path__in=region.ancestor_paths).order_by("level")
    return RegionDetailOut(
        **region_out(region).model_dump(),
        ancestors=[region_ref(a) for a in ancestors],
        boundary=region.boundary,
        can_edit=policies.can_edit_region(request.user, region),
    )


def unit_out(unit: Unit) -> UnitOut:
    return UnitOut(
        id=unit.pk,
        name=unit.name,
        short_name=unit.short_name,
        kind=unit.kind,
        kind_label=str(unit.get_kind_display()),
        region_id=unit.region_id,
        region_name=unit.region.name,
        phone=unit.phone,
        is_active=unit.is_active,
    )


def unit_detail(request: HttpRequest, unit: Unit) -> UnitDetailOut:
    return UnitDetailOut(
        **unit_out(unit).model_dump(),
        jurisdictions=[region_ref(r) for r in unit.jurisdictions.order_by("path")],
        can_edit=policies.can_edit_unit(request.user, unit),
        can_manage_members=policies.can_manage_members_of_unit(request.user, unit),
    )


def page(qs: QuerySet[Any], limit: int, offset: int) -> tuple[int, list[Any]]:
    return qs.count(), list(qs[offset : offset + limit])


@router.get("/regions", response=RegionPage, summary="Regions I can see")
def list_regions(request: HttpRequest, filters: Query[RegionFilters]) -> RegionPage:
    qs = policies.regions_visible_to(request.user)
    if filters.parent_id is not None:
        qs = qs.filter(parent_id=filters.parent_id)
    if filters.level is not None:
        qs = qs.filter(level=filters.level)
    if filters.q:
        qs = qs.filter(name__contains=filters.q) | qs.filter(code__startswith=filters.q)
    qs = qs.annotate(children_count=Count("children")).order_by("path")
    count, rows = page(qs, filters.limit, filters.offset)
    return RegionPage(
        count=count,
        limit=filters.limit,
        offset=filters.offset,
        items=[region_out(r) for r in rows],
    )


@router.get("/regions/{region_id}", response=RegionDetailOut, summary="One region")
def get_region(request: HttpRequest, region_id: int) -> RegionDetailOut:
    return region_detail(request, policies.access_region(request.user, region_id))


@router.get("/regions/{region_id}/children", response=list[RegionOut], summary="Its children")
def region_children(request: HttpRequest, region_id: int) -> list[RegionOut]:
    region = policies.access_region(request.user, region_id)
    return [region_out(r) for r in queries.children_with_counts(region)]


@router.patch("/regions/{region_id}", response=RegionDetailOut, summary="Rename or redraw")
def patch_region(request: HttpRequest, region_id: int, payload: RegionPatch) -> RegionDetailOut:
    region = policies.access_region(request.user, region_id, action="edit")
    changes: dict[str, Any] = {}
    sent = payload.model_fields_set
    if "name" in sent and payload.name is not None:
        changes["name"] = payload.name
    if "boundary" in sent:
        changes["boundary"] = payload.boundary
    if "centre_lat" in sent or "centre_lng" in sent:
        both = payload.centre_lat is not None and payload.centre_lng is not None
        changes["centre"] = (payload.centre_lat, payload.centre_lng) if both else None
    region = services.update_region(region, actor=request.user, reason=payload.reason, **changes)
    return region_detail(request, region)


@router.get("/units", response=UnitPage, summary="Units that serve my regions")
def list_units(request: HttpRequest, filters: Query[UnitFilters]) -> UnitPage:
    qs = policies.units_visible_to(request.user)
    if filters.region_id is not None:
        qs = qs.filter(region_id=filters.region_id)
    if filters.kind is not None:
        qs = qs.filter(kind=filters.kind)
    if filters.q:
        qs = qs.filter(name__contains=filters.q)
    count, rows = page(qs.order_by("region__path", "kind", "name"), filters.limit, filters.offset)
    return UnitPage(
        count=count, limit=filters.limit, offset=filters.offset, items=[unit_out(u) for u in rows]
    )


@router.get("/units/{unit_id}", response=UnitDetailOut, summary="One unit")
def get_unit(request: HttpRequest, unit_id: int) -> UnitDetailOut:
    return unit_detail(request, policies.access_unit(request.user, unit_id))


@router.patch("/units/{unit_id}", response=UnitDetailOut, summary="Edit a unit")
def patch_unit(request: HttpRequest, unit_id: int, payload: UnitPatch) -> UnitDetailOut:
    unit = policies.access_unit(request.user, unit_id, action="edit")
    changes: dict[str, Any] = {
        field: getattr(payload, field)
        for field in ("name", "short_name", "phone", "is_active")
        if field in payload.model_fields_set and getattr(payload, field) is not None
    }
    if payload.jurisdiction_ids is not None:
        changes["jurisdictions"] = [
            policies.access_region(request.user, rid) for rid in payload.jurisdiction_ids
        ]
    unit = services.update_unit(unit, actor=request.user, reason=payload.reason, **changes)
    return unit_detail(request, unit)
