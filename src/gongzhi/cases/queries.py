"""Reads over cases: queues, lists, timelines. Always start from ``policies.cases_visible_to``."""

from __future__ import annotations

from enum import StrEnum

from django.db.models import Q, QuerySet

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of, units_with
from gongzhi.cases.choices import Warning
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.policies import cases_visible_to
from gongzhi.cases.workflow import OPEN_STATES, State


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
