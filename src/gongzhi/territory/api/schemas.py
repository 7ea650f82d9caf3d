from __future__ import annotations

from typing import Any

from ninja import Schema
from pydantic import Field


class RegionRef(Schema):
    id: int
    code: str
    name: str
    level: int


class RegionOut(RegionRef):
    level_label: str
    parent_id: int | None
    centre_lat: float | None
    centre_lng: float | None
    children_count: int | None = None


class RegionDetailOut(RegionOut):
    ancestors: list[RegionRef]
    boundary: dict[str, Any] | None
    can_edit: bool


class RegionPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=100)
    boundary: dict[str, Any] | None = None
    centre_lat: float | None = None
    centre_lng: float | None = None
    reason: str = Field(default="", max_length=500)


class UnitOut(Schema):
    id: int
    name: str
    short_name: str
    kind: str
    kind_label: str
    region_id: int
    region_name: str
    phone: str
    is_active: bool


class UnitDetailOut(UnitOut):
    jurisdictions: list[RegionRef]
    can_edit: bool
    can_manage_members: bool


class UnitPatch(Schema):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    short_name: str | None = Field(default=None, max_length=60)
    phone: str | None = Field(default=None, max_length=30)
    is_active: bool | None = None
    jurisdiction_ids: list[int] | None = Field(default=None, max_length=500)
    reason: str = Field(default="", max_length=500)


class Page(Schema):
    count: int
    limit: int
    offset: int


class RegionPage(Page):
    items: list[RegionOut]


class UnitPage(Page):
    items: list[UnitOut]
