"""The incremental roll-up: keep ``Tally`` rows in step with the cases (ADR 0005).

A month's tallies are recomputed as a whole, from four grouped queries over that month's
cases and dispatches (each an index range on one date column), and replaced in one
transaction. ``refresh_tallies`` recomputes only the months that may have changed: a case
changed since the last refresh (``Case.updated_at``; every service bumps it, the deadline
sweeper too) can only have moved figures in the months from its submission to now, so the
refresh takes the earliest submission among the changed cases and dispatches and
recomputes from that month on. With ten million cases a refresh reads the current month's
cases, not all of them.

Each refresh re-reads a short overlap before its watermark, so a transaction that
committed late with an older ``updated_at`` is not missed. Recomputing is idempotent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

from django.db import connection, transaction
from django.db.models import Count, DurationField, ExpressionWrapper, F, Min, Q, Sum
from django.utils import timezone

from gongzhi.cases.choices import Resolution, Satisfaction
from gongzhi.cases.models import Assignment, Case
from gongzhi.cases.workflow import State
from gongzhi.evaluation.models import (
    COUNTERS,
    AreaTally,
    TalliedMonth,
    Tally,
    TallyWatermark,
)
from gongzhi.evaluation.periods import Period, add_months, month_of

# Commits can land this long after the ``updated_at`` they wrote.
OVERLAP = dt.timedelta(minutes=5)

Key = tuple[str, int | None]


def _add(rows: dict[Key, dict[str, Any]], found: Iterable[Any], unit: str) -> None:
    for values in cast(Iterable[dict[str, Any]], found):
        key = (values.pop("region_path"), values.pop(unit))
        target = rows.setdefault(key, dict.fromkeys(COUNTERS, 0))
        for name, value in values.items():
            target[name] += value or 0


def compute_month(month: dt.date, now: dt.datetime) -> list[Tally]:
    """The tallies of ``month`` as the cases stand now (not saved)."""
    period = Period.month(month)
    start, end = period.start, period.end
    rows: dict[Key, dict[str, Any]] = {}
    _add(
        rows,
        Case.objects.filter(submitted_at__gte=start, submitted_at__lt=end)
        .values("region_path", "unit_id")
        .annotate(
            submitted_count=Count("pk"),
            repeat_count=Count("pk", filter=Q(state=State.MERGED)),
        )
        .order_by(),
        "unit_id",
    )
    answered = Q(outcome__in=[Assignment.Outcome.SIGNED, Assignment.Outcome.RETURNED])
    unanswered_late = Q(is_on_time=False) | Q(
        outcome=Assignment.Outcome.PENDING, sign_due_at__lt=now
    )
    _add(
        rows,
        Assignment.objects.filter(dispatched_at__gte=start, dispatched_at__lt=end)
        .values("region_path", "unit_id")
        .annotate(
            assigned_count=Count("pk"),
            response_due_count=Count("pk", filter=answered | unanswered_late),
            responded_on_time_count=Count("pk", filter=answered & Q(is_on_time=True)),
            signed_on_time_count=Count(
                "pk", filter=Q(outcome=Assignment.Outcome.SIGNED, is_on_time=True)
            ),
            returned_count=Count("pk", filter=Q(outcome=Assignment.Outcome.RETURNED)),
        )
        .order_by(),
        "unit_id",
    )
    handling = ExpressionWrapper(F("closed_at") - F("submitted_at"), output_field=DurationField())
    closed = list(
        Case.objects.filter(state=State.CLOSED, closed_at__gte=start, closed_at__lt=end)
        .values("region_path", "unit_id")
        .annotate(
            closed_count=Count("pk"),
            closed_on_time_count=Count("pk", filter=Q(is_replied_on_time=True)),
            reworked_count=Count("pk", filter=Q(rework_count__gt=0)),
            handling_hours=Sum(handling),
        )
        .order_by()
    )
    for values in closed:
        duration = values["handling_hours"]
        values["handling_hours"] = duration.total_seconds() / 3600 if duration else 0.0
    _add(rows, closed, "unit_id")
    _add(
        rows,
        Case.objects.filter(rated_at__gte=start, rated_at__lt=end)
        .values("region_path", "unit_id")
        .annotate(
            rated_count=Count("pk"),
            resolved_count=Count("pk", filter=Q(resolution=Resolution.RESOLVED)),
            partly_resolved_count=Count("pk", filter=Q(resolution=Resolution.PARTLY)),
            satisfied_count=Count("pk", filter=Q(satisfaction=Satisfaction.SATISFIED)),
            basically_satisfied_count=Count("pk", filter=Q(satisfaction=Satisfaction.BASICALLY)),
        )
        .order_by(),
        "unit_id",
    )
    return [
        Tally(month=month, region_path=path, unit_id=unit_id, **counters)
        for (path, unit_id), counters in sorted(
            rows.items(), key=lambda kv: (kv[0][0], kv[0][1] or 0)
        )
    ]


# Streets are level 3: a path of three codes.
AREA_DEPTH = 3


def area_path(path: str) -> str:
    """The street a region path lies in (or the path itself when it is above a street)."""
    segments = [p for p in path.split("/") if p]
    return "".join(f"{p}/" for p in segments[:AREA_DEPTH])


def areas_of(tallies: list[Tally]) -> list[AreaTally]:
    """The month's tallies summed per street (``AreaTally``)."""
    sums: dict[tuple[dt.date, str], dict[str, Any]] = {}
    for tally in tallies:
        key = (tally.month, area_path(tally.region_path))
        target = sums.setdefault(key, dict.fromkeys(COUNTERS, 0))
        for name in COUNTERS:
            target[name] += getattr(tally, name)
    return [
        AreaTally(month=month, region_path=path, **counters)
        for (month, path), counters in sorted(sums.items())
    ]


def store_month(month: dt.date, now: dt.datetime) -> int:
    """Recompute and replace the tallies of ``month`` (and its area tallies); returns how
    many tally rows it has."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # A month of a big city is ~150,000 cases: group them in memory, not on disk.
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL work_mem = '64MB'")
        tallies = compute_month(month, now)
        Tally.objects.filter(month=month).delete()
        AreaTally.objects.filter(month=month).delete()
        Tally.objects.bulk_create(tallies, batch_size=2000)
        AreaTally.objects.bulk_create(areas_of(tallies), batch_size=2000)
        TalliedMonth.objects.update_or_create(month=month, defaults={"computed_at": now})
    return len(tallies)


@dataclass
class RefreshReport:
    months: list[dt.date]
    rows: int


def _earliest_change(since: dt.datetime | None) -> dt.datetime | None:
    if since is None:
        first: dt.datetime | None = Case.objects.aggregate(first=Min("submitted_at"))["first"]
        return first
    changed_case = Case.objects.filter(updated_at__gte=since).aggregate(first=Min("submitted_at"))[
        "first"
    ]
    changed_dispatch = Assignment.objects.filter(updated_at__gte=since).aggregate(
        first=Min("case__submitted_at")
    )["first"]
    found = [t for t in (changed_case, changed_dispatch) if t is not None]
    return min(found) if found else None


def refresh_tallies(now: dt.datetime | None = None) -> RefreshReport:
    """Bring the tallies up to date with every change to cases (see the module's docstring).
    Also recomputes the current month when it has not been computed for a minute, since
    dispatches that pass their deadline unanswered change its figures without a change."""
    now = now or timezone.now()
    with transaction.atomic():
        mark, _created = TallyWatermark.objects.select_for_update().get_or_create(pk=1)
        since = mark.seen_until - OVERLAP if mark.seen_until else None
        earliest = _earliest_change(since)
        current = month_of(now)
        months: list[dt.date] = []
        if earliest is not None:
            month = month_of(earliest)
            while month <= current:
                months.append(month)
                month = add_months(month, 1)
        if current not in months:
            last = TalliedMonth.objects.filter(month=current).first()
            if last is None or now - last.computed_at >= dt.timedelta(minutes=1):
                months.append(current)
        rows = sum(store_month(month, now) for month in months)
        mark.seen_until = now
        mark.save(update_fields=["seen_until"])
    return RefreshReport(months=months, rows=rows)


def rebuild_tallies(now: dt.datetime | None = None) -> RefreshReport:
    """Recompute every month from the first case (after an import or a definition change)."""
    with transaction.atomic():
        TallyWatermark.objects.select_for_update().get_or_create(pk=1)
        TallyWatermark.objects.filter(pk=1).update(seen_until=None)
        Tally.objects.all().delete()
        AreaTally.objects.all().delete()
        TalliedMonth.objects.all().delete()
    return refresh_tallies(now)
