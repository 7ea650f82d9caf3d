"""Lifecycles of indicator systems and rectification items, as data. Pure Python: no Django.

A transition is (state, action) -> new state. ``tests/test_assessment_workflow.py`` checks
both tables exhaustively and that the diagrams in docs/evaluation-systems.md (rendered from
them) are up to date. ``core/lifecycle.py`` answers the questions asked of the tables.
"""

from __future__ import annotations

from enum import StrEnum

# Raised by next_state; callers catch it from here.
from gongzhi.core.lifecycle import IllegalTransition as IllegalTransition
from gongzhi.core.lifecycle import Lifecycle


class SystemState(StrEnum):
    DRAFT = "draft"  # 草拟: indicators are being defined
    ACTIVE = "active"  # 考评中: scores are computed and entered
    CLOSED = "closed"  # 已结束: results are final; the rectification list is made from them


class SystemAction(StrEnum):
    ACTIVATE = "activate"  # 启动考评
    COMPUTE = "compute"  # 计算平台指标
    SCORE = "score"  # 录入评分
    CLOSE = "close"  # 结束考评
    GENERATE = "generate"  # 生成整改清单


SYSTEM_TRANSITIONS: dict[tuple[SystemState, SystemAction], SystemState] = {
    (SystemState.DRAFT, SystemAction.ACTIVATE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.COMPUTE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.SCORE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.CLOSE): SystemState.CLOSED,
    (SystemState.CLOSED, SystemAction.GENERATE): SystemState.CLOSED,
}


class State(StrEnum):
    """Of a rectification item (整改事项)."""

    OPEN = "open"  # 整改中
    OVERDUE = "overdue"  # 逾期未整改
    SUBMITTED = "submitted"  # 已报送, waiting for the assessor's acceptance
    ACCEPTED = "accepted"  # 已销号


class Action(StrEnum):
    CREATE = "create"  # 下发 (the list is generated)
    SUBMIT = "submit"  # 报送整改情况 (the owner unit, with evidence)
    ACCEPT = "accept"  # 验收通过, 销号 (an assessor)
    REJECT = "reject"  # 退回重新整改 (an assessor, with a reason)
    MARK_OVERDUE = "mark_overdue"  # 逾期 (the clock, after the deadline day)


OPEN_STATES = frozenset({State.OPEN, State.OVERDUE, State.SUBMITTED})
CLOSED_STATES = frozenset({State.ACCEPTED})
# The owner unit has to act.
WITH_OWNER = frozenset({State.OPEN, State.OVERDUE})
INITIAL = State.OPEN

TRANSITIONS: dict[tuple[State, Action], State] = {
    (State.OPEN, Action.SUBMIT): State.SUBMITTED,
    (State.OPEN, Action.MARK_OVERDUE): State.OVERDUE,
    (State.OVERDUE, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.ACCEPT): State.ACCEPTED,
    # Back to the owner; past the deadline the next sweep marks it overdue again.
    (State.SUBMITTED, Action.REJECT): State.OPEN,
}


SYSTEM = Lifecycle(SystemState, SystemAction, SYSTEM_TRANSITIONS, initial=SystemState.DRAFT)
RECTIFICATION = Lifecycle(
    State,
    Action,
    TRANSITIONS,
    initial=INITIAL,
    final=tuple(sorted(CLOSED_STATES)),
    created_by=Action.CREATE,
)
next_state = RECTIFICATION.next_state
allowed_actions = RECTIFICATION.allowed_actions
mermaid = RECTIFICATION.mermaid
next_system_state = SYSTEM.next_state
system_allows = SYSTEM.allows
system_mermaid = SYSTEM.mermaid
