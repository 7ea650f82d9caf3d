"""Reads over cases: queues, lists, timelines. Always start from ``policies.cases_visible_to``."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from enum import StrEnum

from django.db.models import Count, F, Q, QuerySet
from django.utils import timezone

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of, units_with
from gongzhi.cases.choices import Warning
from gongzhi.cases.models import OPEN_STATE_VALUES, Case, CaseEvent
from gongzhi.cases.policies import cases_visible_to
from gongzhi.cases.workflow import OPEN_STATES, State
from gongzhi.core.redaction import redact
from gongzhi.core.scoping import Scope


class Queue(StrEnum):
    """The work lists a staff member opens every day (我的待办)."""

    TO_DISPATCH = "to_dispatch"  # 待受理/待派单
    TO_SIGN = "to_sign"  # 待签收
    IN_PROGRESS = "in_progress"  # 办理中
    TO_VERIFY = "to_verify"  # 待核查
    TO_CLOSE = "to_close"  # 待办结
    NEAR_DEADLINE = "near_deadline"  # 临期 (yellow)
    OVERDUE = "overdue"  # 超期 (red)
    RETURNED = "returned"  # 退单
    SUPERVISED = "supervised"  # 督办
    MINE = "mine"  # what I raised


def queue(user: AnyUser, name: Queue | str) -> QuerySet[Case]:
    visible = cases_visible_to(user)
    handled = units_with(user, Capability.HANDLE_CASES)
    dispatch_scope = scope_of(user, Capability.DISPATCH_CASES)
    verify_scope = scope_of(user, Capability.VERIFY_CASES)
    open_states = [s.value for s in OPEN_STATES]
    filters = {
        Queue.TO_DISPATCH: dispatch_scope.q("dispatch_region__path")
        & Q(state__in=[State.SUBMITTED, State.REGISTERED]),
        Queue.RETURNED: dispatch_scope.q("dispatch_region__path") & Q(state=State.RETURNED),
        Queue.TO_SIGN: Q(unit_id__in=handled, state=State.DISPATCHED),
        Queue.IN_PROGRESS: Q(unit_id__in=handled, state__in=[State.IN_PROGRESS, State.SUSPENDED]),
        Queue.TO_VERIFY: verify_scope.q("region_path") & Q(state=State.REPLIED),
        Queue.TO_CLOSE: dispatch_scope.q("region_path") & Q(state=State.VERIFIED),
        Queue.NEAR_DEADLINE: Q(state__in=open_states, warning=Warning.YELLOW),
        Queue.OVERDUE: Q(state__in=open_states, warning=Warning.RED),
        Queue.SUPERVISED: Q(state__in=open_states, is_supervised=True),
        Queue.MINE: Q(reporter=user) if user.is_authenticated else Q(pk__in=[]),
    }
    order = {
        Queue.MINE: ("-submitted_at",),
        Queue.NEAR_DEADLINE: ("due_at",),
        Queue.OVERDUE: ("due_at",),
    }.get(Queue(name), ("due_at", "-submitted_at"))
    return (
        visible.filter(filters[Queue(name)])
        .select_related("region", "unit", "category")
        .order_by(*order)
    )


def queue_counts(user: AnyUser, names: list[Queue]) -> dict[Queue, int]:
    return {name: queue(user, name).count() for name in names}


def queues_for(user: AnyUser) -> list[Queue]:
    """The queues that make sense for this person's roles, in the order of the work."""
    names: list[Queue] = []
    if not scope_of(user, Capability.DISPATCH_CASES).is_empty:
        names += [Queue.TO_DISPATCH, Queue.RETURNED, Queue.TO_CLOSE]
    if units_with(user, Capability.HANDLE_CASES):
        names += [Queue.TO_SIGN, Queue.IN_PROGRESS]
    if not scope_of(user, Capability.VERIFY_CASES).is_empty:
        names.append(Queue.TO_VERIFY)
    if names or not scope_of(user, Capability.VIEW_CASES).is_empty:
        names += [Queue.NEAR_DEADLINE, Queue.OVERDUE, Queue.SUPERVISED]
    names.append(Queue.MINE)
    return names


def timeline(case: Case) -> QuerySet[CaseEvent]:
    return CaseEvent.objects.filter(case=case).select_related("actor").order_by("seq")


# --- The command centre: live counters and short lists over a region subtree ------------------
# Read by ``dashboards``: each is an indexed, bounded query however many cases there are. The
# counters read open cases only (the (state, due_at) or (region_path, state) index) and today's
# submissions (the submitted_at index); lists stop at ``limit`` rows. The caller passes a scope
# it has checked (the command centre: a region the person may evaluate, see
# ``evaluation.policies.access_evaluated_region``); nothing here shows who raised a case.


@dataclass(frozen=True)
class LiveCounts:
    """Open cases in a scope now, and what came in today (local time)."""

    open_count: int
    submitted_today_count: int
    near_deadline_count: int  # yellow warning
    overdue_count: int  # red warning
    supervised_count: int


def live_counts(scope: Scope, now: dt.datetime) -> LiveCounts:
    """The counters of the command centre for the cases located in ``scope``: two queries."""
    in_scope = Case.objects.filter(scope.q("region_path"))
    # Counting a column of the partial index cases_case_open_path (never null), PostgreSQL
    # answers from the index alone; Count("pk") would read the table for the ids.
    found = in_scope.filter(state__in=OPEN_STATE_VALUES).aggregate(
        open_count=Count("region_path"),
        near_deadline_count=Count("region_path", filter=Q(warning=Warning.YELLOW)),
        overdue_count=Count("region_path", filter=Q(warning=Warning.RED)),
        supervised_count=Count("region_path", filter=Q(is_supervised=True)),
    )
    midnight = timezone.localtime(now).replace(hour=0, minute=0, second=0, microsecond=0)
    today = in_scope.filter(submitted_at__gte=midnight, submitted_at__lte=now).count()
    return LiveCounts(
        open_count=found["open_count"],
        submitted_today_count=today,
        near_deadline_count=found["near_deadline_count"],
        overdue_count=found["overdue_count"],
        supervised_count=found["supervised_count"],
    )


@dataclass(frozen=True)
class CaseLine:
    """One case in a command-centre list: what it is and who has it, never who raised it."""

    id: uuid.UUID
    number: str
    title: str  # passed through ``redact``: no phone numbers, ID numbers or door numbers
    unit_name: str
    region_name: str
    due_at: dt.datetime | None
    warning: str
    is_supervised: bool


def _lines(cases: QuerySet[Case], limit: int) -> list[CaseLine]:
    rows = cases.select_related("unit", "region").only(
        "id",
        "number",
        "title",
        "due_at",
        "warning",
        "is_supervised",
        "unit__name",
        "region__name",
    )
    return [
        CaseLine(
            id=c.pk,
            number=c.number,
            title=redact(c.title),
            unit_name=c.unit.name if c.unit else "",
            region_name=c.region.name,
            due_at=c.due_at,
            warning=c.warning,
            is_supervised=c.is_supervised,
        )
        for c in rows[:limit]
    ]


def overdue_cases(scope: Scope, *, limit: int = 20) -> list[CaseLine]:
    """Open cases in ``scope`` past their deadline (red), the longest overdue first."""
    found = Case.objects.filter(
        scope.q("region_path"),
        warning=Warning.RED,
        state__in=OPEN_STATE_VALUES,
    ).order_by("due_at", "number")
    return _lines(found, limit)


def supervised_cases(scope: Scope, *, limit: int = 20) -> list[CaseLine]:
    """Open supervised cases (督办) in ``scope``, the nearest deadline first."""
    found = Case.objects.filter(
        scope.q("region_path"),
        is_supervised=True,
        state__in=OPEN_STATE_VALUES,
    ).order_by(F("due_at").asc(nulls_last=True), "number")
    return _lines(found, limit)
