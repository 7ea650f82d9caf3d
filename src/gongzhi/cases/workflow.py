"""The lifecycle of a case, as data. Pure Python: no Django, no database.

A transition is (state, action) -> new state. Actions that keep the state (supervise,
request an extension ...) are listed too, so that the table says in which states each
action is allowed at all. ``tests/test_workflow.py`` checks the table exhaustively and that
``docs/domain/case-lifecycle.md`` (rendered from it) is up to date. ``core/lifecycle.py``
answers the questions asked of the table (next state, allowed actions, the diagram).
"""

from __future__ import annotations

from enum import StrEnum

# Raised by next_state; callers catch it from here.
from gongzhi.core.lifecycle import IllegalTransition as IllegalTransition
from gongzhi.core.lifecycle import Lifecycle


class State(StrEnum):
    SUBMITTED = "submitted"  # 待受理
    REGISTERED = "registered"  # 已立案, waiting for dispatch
    REJECTED = "rejected"  # 不予受理
    DISPATCHED = "dispatched"  # 已派单, waiting for the unit to sign
    RETURNED = "returned"  # 已退单, waiting for re-dispatch
    IN_PROGRESS = "in_progress"  # 办理中
    SUSPENDED = "suspended"  # 挂账
    REPLIED = "replied"  # 已答复, waiting for verification
    VERIFIED = "verified"  # 已核查
    CLOSED = "closed"  # 已办结
    MERGED = "merged"  # 已合并 into another case


class Action(StrEnum):
    REGISTER = "register"  # 立案
    REJECT = "reject"  # 不予受理
    DISPATCH = "dispatch"  # 派单
    SIGN_FOR = "sign_for"  # 签收
    RETURN = "return"  # 退单
    REPLY = "reply"  # 答复
    VERIFY = "verify"  # 核查通过
    FAIL_VERIFICATION = "fail_verification"  # 核查未通过
    CLOSE = "close"  # 办结
    FOLLOW_UP = "follow_up"  # 回访
    REOPEN = "reopen"  # 重办
    REQUEST_EXTENSION = "request_extension"  # 申请延期
    DECIDE_EXTENSION = "decide_extension"  # 审批延期
    REQUEST_SUSPENSION = "request_suspension"  # 申请挂账
    APPROVE_SUSPENSION = "approve_suspension"  # 批准挂账
    DENY_SUSPENSION = "deny_suspension"  # 驳回挂账
    RESUME = "resume"  # 恢复办理
    ESCALATE = "escalate"  # 上报
    SUPERVISE = "supervise"  # 督办
    ADD_ASSISTING_UNIT = "add_assisting_unit"  # 增加协办单位
    MERGE = "merge"  # 合并重复件
    WARN = "warn"  # 预警 (the clock: yellow, red)
    ABSORB_DUPLICATE = "absorb_duplicate"  # 吸收重复件 (the other side of a merge)
    ATTACH = "attach"  # 上传照片


OPEN_STATES = frozenset(
    {
        State.SUBMITTED,
        State.REGISTERED,
        State.DISPATCHED,
        State.RETURNED,
        State.IN_PROGRESS,
        State.SUSPENDED,
        State.REPLIED,
        State.VERIFIED,
    }
)
CLOSED_STATES = frozenset({State.REJECTED, State.CLOSED, State.MERGED})
# Waiting for intake staff (dispatchers), not for a handling unit.
AT_DISPATCH = frozenset({State.SUBMITTED, State.REGISTERED, State.RETURNED})
# A unit holds the case.
WITH_UNIT = frozenset({State.DISPATCHED, State.IN_PROGRESS, State.SUSPENDED})

S, A = State, Action
TRANSITIONS: dict[tuple[State, Action], State] = {
    (S.SUBMITTED, A.REGISTER): S.REGISTERED,
    (S.SUBMITTED, A.REJECT): S.REJECTED,
    (S.SUBMITTED, A.MERGE): S.MERGED,
    (S.REGISTERED, A.DISPATCH): S.DISPATCHED,
    (S.REGISTERED, A.MERGE): S.MERGED,
    (S.RETURNED, A.DISPATCH): S.DISPATCHED,
    (S.RETURNED, A.MERGE): S.MERGED,
    (S.DISPATCHED, A.SIGN_FOR): S.IN_PROGRESS,
    (S.DISPATCHED, A.RETURN): S.RETURNED,
    (S.IN_PROGRESS, A.REPLY): S.REPLIED,
    (S.IN_PROGRESS, A.REQUEST_EXTENSION): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.DECIDE_EXTENSION): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.REQUEST_SUSPENSION): S.IN_PROGRESS,
    (S.IN_PROGRESS, A.APPROVE_SUSPENSION): S.SUSPENDED,
    (S.IN_PROGRESS, A.DENY_SUSPENSION): S.IN_PROGRESS,
    (S.SUSPENDED, A.RESUME): S.IN_PROGRESS,
    (S.REPLIED, A.VERIFY): S.VERIFIED,
    (S.REPLIED, A.FAIL_VERIFICATION): S.IN_PROGRESS,
    (S.VERIFIED, A.CLOSE): S.CLOSED,
    (S.CLOSED, A.FOLLOW_UP): S.CLOSED,
    (S.CLOSED, A.REOPEN): S.IN_PROGRESS,
}
# Escalation sends a case back to dispatch one level up the chain.
for _state in (S.SUBMITTED, S.REGISTERED, S.RETURNED, S.DISPATCHED, S.IN_PROGRESS):
    TRANSITIONS[(_state, A.ESCALATE)] = S.REGISTERED
# Supervision and warnings mark a case without moving it.
for _state in sorted(OPEN_STATES):
    TRANSITIONS[(_state, A.SUPERVISE)] = _state
    TRANSITIONS[(_state, A.WARN)] = _state
    TRANSITIONS[(_state, A.ABSORB_DUPLICATE)] = _state
    TRANSITIONS[(_state, A.ATTACH)] = _state
for _state in (S.DISPATCHED, S.IN_PROGRESS):
    TRANSITIONS[(_state, A.ADD_ASSISTING_UNIT)] = _state


LIFECYCLE = Lifecycle(
    State, Action, TRANSITIONS, initial=S.SUBMITTED, final=(S.REJECTED, S.CLOSED, S.MERGED)
)
next_state = LIFECYCLE.next_state
allowed_actions = LIFECYCLE.allowed_actions
mermaid = LIFECYCLE.mermaid  # the state diagram in docs/domain/


def is_open(state: str) -> bool:
    return State(state) in OPEN_STATES
