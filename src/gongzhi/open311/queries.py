"""The adapter's reads over cases, categories and regions.

This module is the one place where the adapter touches other apps' models, because the
cases and territory apps do not yet offer what an anonymous, public reader needs (see
docs/open311.md, "Gaps"): the public subset of cases, the leaf categories, a region by its
code or by the names in an address. The import-linter contract "open311 reaches other apps
through their services, queries and policies" lists this module as its only exception.
Everything else in the adapter imports the types it needs from here.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.db.models import F, QuerySet, Value
from django.db.models.functions import StrIndex

from gongzhi.accounts.models import ApiKey
from gongzhi.cases.models import Case, CaseAttachment, CaseEvent, Category
from gongzhi.cases.workflow import CLOSED_STATES, OPEN_STATES
from gongzhi.core import refdata
from gongzhi.core.scoping import subtree_q
from gongzhi.open311.choices import PRIVATE_CHANNELS, PUBLIC_EVENTS, PUBLIC_KINDS
from gongzhi.open311.models import Submission
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.queries import cities

__all__ = [
    "ApiKey",
    "Case",
    "CaseAttachment",
    "CaseEvent",
    "Category",
    "Region",
    "Service",
    "Submission",
    "Unit",
]


# --- Services (leaf categories) -----------------------------------------------------------


@dataclass(frozen=True)
class Service:
    category: Category
    name: str  # the leaf's name, or "parent > leaf" where the leaf's name alone is ambiguous
    group: str
    keywords: str

    @property
    def code(self) -> str:
        return str(self.category.pk)


@dataclass(frozen=True)
class _Services:
    all: tuple[Service, ...]
    by_code: dict[str, Service]
    by_category: dict[int, Service]


def _load_services() -> _Services:
    """Every active category without active children, in path order. A leaf's name is its
    service name; where several leaves share it ("其他"), its parent's name comes first, and
    where that is still shared, the whole path."""
    categories = list(Category.objects.filter(is_active=True).order_by("path"))
    parents = {c.parent_id for c in categories if c.parent_id is not None}
    leaves = [c for c in categories if c.pk not in parents]

    def short(leaf: Category) -> str:
        return " > ".join(leaf.path.split("/")[-2:])

    by_name = Counter(leaf.name for leaf in leaves)
    by_short = Counter(short(leaf) for leaf in leaves)
    found = []
    for leaf in leaves:
        parts = leaf.path.split("/")
        if by_name[leaf.name] == 1:
            name = leaf.name
        elif by_short[short(leaf)] == 1:
            name = short(leaf)
        else:
            name = " > ".join(parts)
        found.append(Service(leaf, name, parts[0], ",".join(parts[1:-1])))
    return _Services(
        all=tuple(found),
        by_code={s.code: s for s in found},
        by_category={s.category.pk: s for s in found},
    )


def _services() -> _Services:
    """Kept per process as reference data (``core.refdata``): the categories in it are
    shared by every request, read-only."""
    return refdata.cached("open311.services", _load_services)


def services() -> list[Service]:
    """Every active category without active children, in path order (see
    ``_load_services`` for their names)."""
    return list(_services().all)


def service_with_code(code: str) -> Service | None:
    if not (code.isascii() and code.isdigit()) or len(code) > 18:
        return None
    return _services().by_code.get(code)


def service_names(category_ids: Iterable[int]) -> dict[int, str]:
    """The service name of each category (as ``services()`` names them)."""
    by_category = _services().by_category
    return {pk: by_category[pk].name for pk in set(category_ids) if pk in by_category}


# --- Regions --------------------------------------------------------------------------------


def jurisdictions() -> list[Region]:
    """The top regions (cities): each is one Open311 jurisdiction, its code the id (from the
    region tree in memory: shared, read-only)."""
    return cities()


def region_with_code(code: str, within: Region | None) -> Region | None:
    regions = Region.objects.filter(code=code)
    if within is not None:
        regions = regions.filter(subtree_q("path", within.path))
    return regions.first()


def region_for_address(text: str, within: Region) -> Region | None:
    """The most specific region named in a free-text address ("明湖区春山街道华东湾社区…").

    Regions whose names occur in the text are candidates; the best is the deepest one whose
    ancestors are named too. Two equally good candidates (two communities of the same name in
    streets the text does not name) give their common ancestor. None when nothing matches.
    """
    text = text[:200]
    matches = list(
        Region.objects.filter(subtree_q("path", within.path))
        .annotate(position=StrIndex(Value(text), F("name")))
        .filter(position__gt=0)
        .order_by("path")[:200]
    )
    if not matches:
        return None
    named = {r.path for r in matches}

    def score(region: Region) -> tuple[int, int]:
        return (sum(1 for p in region.ancestor_paths if p in named), region.level)

    best = max(score(r) for r in matches)
    top = [r for r in matches if score(r) == best]
    if len(top) == 1:
        return top[0]
    common = _common_path([r.path for r in top])
    return Region.objects.filter(path=common).first() if common else within


def _common_path(paths: Sequence[str]) -> str:
    parts = [p.rstrip("/").split("/") for p in paths]
    common: list[str] = []
    for segments in zip(*parts, strict=False):
        if len(set(segments)) != 1:
            break
        common.append(segments[0])
    return "".join(f"{s}/" for s in common)


# --- Public cases ----------------------------------------------------------------------------


def public_cases(within: Region | None = None) -> QuerySet[Case]:
    """Cases anyone may read through Open311 (redacted by the caller): every kind of matter
    about places and services, not disputes or risk clues, not letters and visits."""
    cases = Case.objects.filter(kind__in=sorted(PUBLIC_KINDS)).exclude(
        channel__in=sorted(PRIVATE_CHANNELS)
    )
    if within is not None:
        cases = cases.filter(subtree_q("region_path", within.path))
    return cases.select_related("category", "unit", "region__parent__parent__parent")


@dataclass(frozen=True)
class RequestFilters:
    numbers: Sequence[str] = ()
    category_ids: Sequence[int] | None = None
    states: Sequence[str] | None = None
    submitted_from: dt.datetime | None = None
    submitted_to: dt.datetime | None = None
    updated_from: dt.datetime | None = None
    updated_to: dt.datetime | None = None
    box: tuple[float, float, float, float] | None = None  # south, west, north, east


def find_requests(filters: RequestFilters, within: Region | None) -> QuerySet[Case]:
    cases = public_cases(within)
    if filters.numbers:
        return cases.filter(number__in=list(filters.numbers)).order_by("-submitted_at", "number")
    if filters.category_ids is not None:
        cases = cases.filter(category_id__in=list(filters.category_ids))
    if filters.states is not None:
        cases = cases.filter(state__in=list(filters.states))
    if filters.submitted_from is not None:
        cases = cases.filter(submitted_at__gte=filters.submitted_from)
    if filters.submitted_to is not None:
        cases = cases.filter(submitted_at__lte=filters.submitted_to)
    if filters.updated_from is not None:
        cases = cases.filter(updated_at__gte=filters.updated_from)
    if filters.updated_to is not None:
        cases = cases.filter(updated_at__lte=filters.updated_to)
    if filters.box is not None:
        south, west, north, east = filters.box
        cases = cases.filter(latitude__range=(south, north), longitude__range=(west, east))
    return cases.order_by("-submitted_at", "number")


def public_case_with_number(number: str, within: Region | None) -> Case | None:
    return public_cases(within).filter(number=number[:20].replace("\x00", "")).first()


def states_for(statuses: Iterable[str]) -> list[str]:
    wanted: set[str] = set()
    for status in statuses:
        wanted |= {s.value for s in (OPEN_STATES if status == "open" else CLOSED_STATES)}
    return sorted(wanted)


def public_events(case_ids: Sequence[object]) -> dict[object, list[CaseEvent]]:
    """The public steps of each case's timeline, oldest first."""
    found: dict[object, list[CaseEvent]] = defaultdict(list)
    events = CaseEvent.objects.filter(case_id__in=list(case_ids), action__in=sorted(PUBLIC_EVENTS))
    for event in events.order_by("case_id", "seq"):
        found[event.case_id].append(event)
    return found


def public_photos(case_ids: Sequence[object]) -> dict[object, list[CaseAttachment]]:
    """Photos staff marked as fit for public pages (never those a client sent, unreviewed)."""
    found: dict[object, list[CaseAttachment]] = defaultdict(list)
    photos = CaseAttachment.objects.filter(case_id__in=list(case_ids), is_public=True)
    for photo in photos.order_by("uploaded_at"):
        found[photo.case_id].append(photo)
    return found


def public_photo(photo_id: uuid.UUID | str) -> CaseAttachment | None:
    return (
        CaseAttachment.objects.filter(
            pk=photo_id, is_public=True, case__in=public_cases().values("pk")
        )
        .select_related("case")
        .first()
    )


def updates_between(
    start: dt.datetime, end: dt.datetime, within: Region | None
) -> QuerySet[CaseEvent]:
    """Public timeline events of public cases in a time window, oldest first."""
    return (
        CaseEvent.objects.filter(
            occurred_at__gte=start,
            occurred_at__lte=end,
            action__in=sorted(PUBLIC_EVENTS),
            case__in=public_cases(within).values("pk"),
        )
        .select_related("case")
        .order_by("occurred_at", "pk")
    )


# --- Submissions -----------------------------------------------------------------------------


def submission_with_id(submission_id: uuid.UUID | str) -> Submission | None:
    return Submission.objects.filter(pk=submission_id).select_related("case").first()


def submission_with_token(token: str) -> Submission | None:
    token = token[:32].replace("\x00", "")
    return Submission.objects.filter(token=token).select_related("case").first()


def submission_with_idempotency_key(api_key: ApiKey, key: str) -> Submission | None:
    return (
        Submission.objects.filter(api_key=api_key, idempotency_key=key)
        .select_related("case")
        .first()
    )
