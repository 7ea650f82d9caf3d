"""Reads of the model registry. Lists never load the artifacts."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db.models import QuerySet

from gongzhi.triage.errors import ModelNotFound
from gongzhi.triage.models import ClassifierModel

if TYPE_CHECKING:
    from gongzhi.cases.models import Case
    from gongzhi.triage.duplicates import DuplicateCandidate


def registered_models() -> QuerySet[ClassifierModel]:
    return ClassifierModel.objects.defer("artifact").order_by("-version")


def active_model_key() -> tuple[int, str] | None:
    """(version, artifact SHA-256) of the active model: one small indexed query."""
    row = (
        ClassifierModel.objects.filter(is_active=True)
        .values_list("version", "artifact_sha256")
        .first()
    )
    return (row[0], row[1]) if row else None


def model_by_version(version: int) -> ClassifierModel:
    try:
        return ClassifierModel.objects.get(version=version)
    except ClassifierModel.DoesNotExist:
        raise ModelNotFound(f"no classifier model version {version}", version=version) from None


def dispatcher_choices_csv(limit: int | None = None) -> bytes:
    """The categories people chose for registered cases, as a training file (the columns of
    ../shared/data/messages/train.csv: message_id, user, title, detail, text, label).

    The label is the first level of the category a dispatcher registered the case with (or
    the person chose at submission); the user is the case's reporter (or the case itself
    for anonymous and hotline cases), so grouped cross-validation keeps one person's cases
    in one fold. Newest first; ``limit`` caps the rows."""
    import csv
    import io

    from gongzhi.cases.models import Case

    rows = (
        Case.objects.filter(registered_at__isnull=False, category__isnull=False)
        .order_by("-registered_at")
        .values_list("number", "reporter_id", "pk", "title", "description", "category__path")
    )
    if limit is not None:
        rows = rows[:limit]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["message_id", "user", "title", "detail", "text", "label"])
    for number, reporter_id, pk, title, description, path in rows.iterator(chunk_size=2000):
        user = f"u{reporter_id}" if reporter_id else f"c{pk}"
        writer.writerow(
            [number, user, title, description, f"{title}\n{description}", path.split("/")[0]]
        )
    return out.getvalue().encode("utf-8")


def duplicate_candidates(
    case: Case, now: dt.datetime | None = None, top: int = 5
) -> list[DuplicateCandidate]:
    """Open cases that are probably the same matter as ``case`` (a ``cases.models.Case``),
    best first, as ``duplicates.DuplicateCandidate``: in the same street (the first three
    levels of its region path), not merged, submitted in the last ``WINDOW_DAYS`` days (the
    newest ``CANDIDATE_CAP``), scored by ``duplicates.rank_candidates``. One query, on the
    (region_path, state) index."""
    from django.utils import timezone

    from gongzhi.cases.models import Case
    from gongzhi.cases.workflow import OPEN_STATES
    from gongzhi.core.scoping import subtree_q
    from gongzhi.triage.duplicates import (
        CANDIDATE_CAP,
        WINDOW_DAYS,
        DuplicateCandidate,
        Message,
        rank_candidates,
    )

    now = now or timezone.now()
    levels = [p for p in case.region_path.split("/") if p]
    street = "".join(f"{p}/" for p in levels[:3])
    rows = (
        Case.objects.filter(
            subtree_q("region_path", street),
            state__in=sorted(s.value for s in OPEN_STATES),
            merged_into__isnull=True,
            submitted_at__gte=now - dt.timedelta(days=WINDOW_DAYS),
        )
        .exclude(pk=case.pk)
        .order_by("-submitted_at")
        .values_list(
            "pk",
            "number",
            "title",
            "description",
            "region_path",
            "latitude",
            "longitude",
            "submitted_at",
        )[:CANDIDATE_CAP]
    )
    numbers: dict[str, tuple[str, str]] = {}
    candidates = []
    for pk, number, title, description, path, lat, lon, submitted_at in rows:
        numbers[str(pk)] = (number, title)
        candidates.append(Message(title, description, submitted_at, path, lat, lon, key=str(pk)))
    new = Message(
        case.title,
        case.description,
        case.submitted_at,
        case.region_path,
        case.latitude,
        case.longitude,
        key=str(case.pk),
    )
    return [
        DuplicateCandidate(
            case_id=m.message.key,
            number=numbers[m.message.key][0],
            title=numbers[m.message.key][1],
            submitted_at=m.message.posted_at,  # type: ignore[arg-type]
            score=m.score,
        )
        for m in rank_candidates(new, candidates, top=top)
    ]


# Hot issues on the command centre (docs/triage.md, "Hot issues").
HOT_ISSUE_CASE_CAP = 5000
HOT_ISSUE_TEXT_CHARS = 300  # of a description read: the matter is said early, jieba is slow


@dataclass(frozen=True)
class HotIssueCase:
    id: uuid.UUID
    number: str
    title: str
    region_path: str
    submitted_at: dt.datetime
    state: str


@dataclass(frozen=True)
class HotIssue:
    label: str  # the main place named in the texts (if any) and the top keywords
    keywords: tuple[str, ...]
    places: tuple[str, ...]  # places named in the texts, and community region paths
    heat: float
    heat_parts: dict[str, float]  # posters, votes, growth, pace (see hot_issues.heat_of)
    case_count: int
    poster_count: int
    recent_count: int  # cases in the last 7 days
    earlier_count: int  # cases in the 21 days before
    first_at: dt.datetime
    last_at: dt.datetime
    cases: tuple[HotIssueCase, ...]  # oldest first


def _place_of(region_path: str) -> str:
    """A case's place: its community's path (city/district/street/community/), or its own
    path when it sits higher up the tree."""
    parts = region_path.rstrip("/").split("/")
    return "".join(f"{p}/" for p in parts[:4])


def hot_issues_in(
    region_path: str,
    now: dt.datetime,
    days: int = 30,
    top: int = 10,
    *,
    cap: int = HOT_ISSUE_CASE_CAP,
) -> list[HotIssue]:
    """The hottest clusters of related cases submitted in the ``days`` up to ``now`` in a
    region's subtree (any state but rejected: merged duplicates are evidence of heat too),
    at least two cases each. Reads at most ``cap`` cases, the newest, in one query; the
    clustering is ``hot_issues.hot_issues`` with the case's community as its place."""
    from gongzhi.cases.models import Case
    from gongzhi.cases.workflow import State
    from gongzhi.core.scoping import subtree_q
    from gongzhi.triage.hot_issues import Message, hot_issues

    rows = list(
        Case.objects.filter(
            subtree_q("region_path", region_path),
            submitted_at__gt=now - dt.timedelta(days=days),
            submitted_at__lte=now,
        )
        .exclude(state=State.REJECTED)
        .order_by("-submitted_at", "-id")
        .values_list(
            "id",
            "number",
            "title",
            "description",
            "region_path",
            "submitted_at",
            "reporter_id",
            "state",
        )[:cap]
    )
    by_id = {
        str(pk): HotIssueCase(pk, number, title, path, submitted_at, state)
        for pk, number, title, _, path, submitted_at, _, state in rows
    }
    messages = [
        Message(
            id=str(pk),
            title=title,
            text=description[:HOT_ISSUE_TEXT_CHARS],
            posted_at=submitted_at,
            place=_place_of(path),
            author=f"u{reporter}" if reporter else "",
        )
        for pk, _, title, description, path, submitted_at, reporter, _ in rows
    ]
    clusters = hot_issues(messages, now=now, top=top, min_size=2)
    return [
        HotIssue(
            label=c.label,
            keywords=c.keywords,
            places=c.places,
            heat=c.heat.heat,
            heat_parts=dict(c.heat.parts),
            case_count=c.size,
            poster_count=c.heat.posters,
            recent_count=c.heat.recent,
            earlier_count=c.heat.earlier,
            first_at=c.first_at,
            last_at=c.last_at,
            cases=tuple(by_id[i] for i in c.ids),
        )
        for c in clusters
    ]


@dataclass(frozen=True)
class HotIssueView:
    """A hot issue as pages show it: computed at ``computed_at`` for the region or the
    nearest region above it that has a snapshot, its cases kept to the region's subtree."""

    label: str
    keywords: tuple[str, ...]
    heat: float
    case_count: int
    recent_count: int
    earlier_count: int
    first_at: dt.datetime
    last_at: dt.datetime
    cases: tuple[dict[str, str], ...]
    computed_at: dt.datetime


def hot_issues_for(region_path: str, *, top: int = 10) -> list[HotIssueView]:
    """The latest snapshot's hot issues of a region's subtree (one query). A street reads
    its district's snapshot and keeps the issues with at least two cases inside it."""
    from gongzhi.triage.models import HotIssueSnapshot

    segments = [s for s in region_path.split("/") if s]
    paths = ["".join(f"{s}/" for s in segments[:n]) for n in range(1, len(segments) + 1)]
    found = {s.region_path: s for s in HotIssueSnapshot.objects.filter(region_path__in=paths)}
    snapshot = next((found[p] for p in reversed(paths) if p in found), None)
    if snapshot is None:
        return []
    views: list[HotIssueView] = []
    for issue in snapshot.issues:
        cases = tuple(c for c in issue["cases"] if c["region_path"].startswith(region_path))
        if len(cases) < 2:
            continue
        views.append(
            HotIssueView(
                label=issue["label"],
                keywords=tuple(issue["keywords"]),
                heat=issue["heat"],
                case_count=len(cases),
                recent_count=issue["recent_count"],
                earlier_count=issue["earlier_count"],
                first_at=dt.datetime.fromisoformat(issue["first_at"]),
                last_at=dt.datetime.fromisoformat(issue["last_at"]),
                cases=cases,
                computed_at=snapshot.computed_at,
            )
        )
    return views[:top]
