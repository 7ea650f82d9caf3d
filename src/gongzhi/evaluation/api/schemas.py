"""Schemas of the evaluation API: figures of regions and units, rankings, score schemes.

Rates are fractions (0..1) or ``null`` when nothing was there to count; scores are decimal
strings with two places ("80.50"). No schema names a person.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ninja import Schema
from pydantic import Field


class RegionRef(Schema):
    id: int
    name: str
    code: str
    level: int


class PeriodOut(Schema):
    first: str = Field(description="first month, YYYY-MM")
    last: str = Field(description="last month, YYYY-MM")
    label: str


class ChangeOut(Schema):
    """Differences with an earlier period: of each rate (a fraction: -0.5 is 50 percentage
    points lower), of the handling hours, and of the score (points)."""

    indicators: dict[str, float | None]
    score: Decimal | None


class SubjectFigures(Schema):
    """A region below, or a unit, with its figures for the period."""

    id: int
    name: str
    case_count: int
    indicators: dict[str, float | None]
    score: Decimal | None
    grade: str


class FiguresOut(Schema):
    region: RegionRef
    period: PeriodOut
    computed_at: dt.datetime | None = Field(description="figures as of (null: never computed)")
    counts: dict[str, int | float]
    case_count: int
    indicators: dict[str, float | None]
    score: Decimal | None
    grade: str
    mom: ChangeOut = Field(description="month on month: the same number of months just before")
    yoy: ChangeOut = Field(description="year on year: the same months a year earlier")
    children: list[SubjectFigures] = Field(description="streets, or the level below a street")
    units: list[SubjectFigures]


class RankingOut(Schema):
    id: int
    month: str
    subject: str
    subject_label: str
    region: RegionRef
    version: int
    is_current: bool
    correction_reason: str
    computed_at: dt.datetime
    published_at: dt.datetime


class EntryOut(Schema):
    position: int | None
    name: str
    region_id: int | None
    unit_id: int | None
    score: Decimal | None
    grade: str
    listed: str = Field(description='"red", "black" or ""')
    case_count: int
    indicators: dict[str, float | None]


class RankingDetailOut(RankingOut):
    scheme: dict[str, str | int]
    entries: list[EntryOut]


class RankingPage(Schema):
    count: int
    limit: int
    offset: int
    items: list[RankingOut]


class PublishIn(Schema):
    region: int = Field(description="the region whose streets or units are ranked")
    month: str = Field(max_length=7, description="YYYY-MM, a month that has ended")
    subject: str = Field(max_length=10, description='"street" or "unit"')
    correction_reason: str = Field(
        default="", max_length=2000, description="needed to publish a month again"
    )


class SchemeIn(Schema):
    """Settings to change; those left out keep their current value."""

    response_weight: Decimal | None = None
    resolution_weight: Decimal | None = None
    satisfaction_weight: Decimal | None = None
    basically_satisfied_value: Decimal | None = None
    partly_resolved_value: Decimal | None = None
    grade_a: Decimal | None = None
    grade_b: Decimal | None = None
    grade_c: Decimal | None = None
    grade_d: Decimal | None = None
    list_size: int | None = None
    min_cases: int | None = None


class SchemeOut(Schema):
    region: RegionRef
    response_weight: Decimal
    resolution_weight: Decimal
    satisfaction_weight: Decimal
    basically_satisfied_value: Decimal
    partly_resolved_value: Decimal
    grade_a: Decimal
    grade_b: Decimal
    grade_c: Decimal
    grade_d: Decimal
    list_size: int
    min_cases: int
    updated_at: dt.datetime
