"""The lifecycle table, exhaustively, and its diagram in docs/domain/."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongzhi.cases.workflow import (
    CLOSED_STATES,
    OPEN_STATES,
    TRANSITIONS,
    Action,
    IllegalTransition,
    State,
    allowed_actions,
    mermaid,
    next_state,
)

DIAGRAM = Path(__file__).resolve().parents[4] / "docs" / "domain" / "case-lifecycle.md"

EXPECTED_MOVES = {
    (State.SUBMITTED, Action.REGISTER): State.REGISTERED,
    (State.SUBMITTED, Action.REJECT): State.REJECTED,
    (State.REGISTERED, Action.DISPATCH): State.DISPATCHED,
    (State.RETURNED, Action.DISPATCH): State.DISPATCHED,
    (State.DISPATCHED, Action.SIGN_FOR): State.IN_PROGRESS,
    (State.DISPATCHED, Action.RETURN): State.RETURNED,
    (State.IN_PROGRESS, Action.REPLY): State.REPLIED,
    (State.IN_PROGRESS, Action.APPROVE_SUSPENSION): State.SUSPENDED,
    (State.SUSPENDED, Action.RESUME): State.IN_PROGRESS,
    (State.REPLIED, Action.VERIFY): State.VERIFIED,
    (State.REPLIED, Action.FAIL_VERIFICATION): State.IN_PROGRESS,
    (State.VERIFIED, Action.CLOSE): State.CLOSED,
    (State.CLOSED, Action.REOPEN): State.IN_PROGRESS,
    (State.SUBMITTED, Action.MERGE): State.MERGED,
    (State.REGISTERED, Action.MERGE): State.MERGED,
    (State.RETURNED, Action.MERGE): State.MERGED,
    (State.SUBMITTED, Action.ESCALATE): State.REGISTERED,
    (State.REGISTERED, Action.ESCALATE): State.REGISTERED,
    (State.RETURNED, Action.ESCALATE): State.REGISTERED,
    (State.DISPATCHED, Action.ESCALATE): State.REGISTERED,
    (State.IN_PROGRESS, Action.ESCALATE): State.REGISTERED,
}


def test_every_state_changing_move_is_exactly_the_designed_one():
    moves = {key: target for key, target in TRANSITIONS.items() if key[0] != target}
    moves |= {key: target for key, target in TRANSITIONS.items() if key[1] == Action.ESCALATE}
    assert moves == EXPECTED_MOVES


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_pair_is_either_in_the_table_or_illegal(state, action):
    if (state, action) in TRANSITIONS:
        assert next_state(state, action) == TRANSITIONS[(state, action)]
    else:
        with pytest.raises(IllegalTransition):
            next_state(state, action)


def test_states_are_open_or_closed_never_both():
    assert set(State) == OPEN_STATES | CLOSED_STATES
    assert not OPEN_STATES & CLOSED_STATES


def test_closed_states_allow_nothing_but_follow_up_and_reopen():
    assert allowed_actions(State.REJECTED) == []
    assert allowed_actions(State.MERGED) == []
    assert sorted(allowed_actions(State.CLOSED)) == [Action.FOLLOW_UP, Action.REOPEN]


def test_every_open_state_can_be_supervised_and_warned():
    for state in OPEN_STATES:
        assert next_state(state, Action.SUPERVISE) == state
        assert next_state(state, Action.WARN) == state


def test_every_state_is_reachable_from_submitted():
    reached = {State.SUBMITTED}
    frontier = [State.SUBMITTED]
    while frontier:
        state = frontier.pop()
        for (source, _action), target in TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)


def test_unknown_names_are_illegal():
    with pytest.raises(IllegalTransition):
        next_state("nonsense", "register")
    with pytest.raises(IllegalTransition):
        next_state("submitted", "nonsense")


def render_doc() -> str:
    return (
        "# The case lifecycle\n\n"
        "Rendered from `src/gongzhi/cases/workflow.py` by `cases/tests/test_workflow.py`;\n"
        "the test rewrites it when it is stale, and fails so that the change gets committed.\n"
        "Actions that keep the state are listed in notes.\n\n"
        "```mermaid\n" + mermaid() + "```\n"
    )


def test_the_lifecycle_diagram_is_up_to_date():
    expected = render_doc()
    current = DIAGRAM.read_text(encoding="utf-8") if DIAGRAM.exists() else ""
    if current != expected:
        DIAGRAM.parent.mkdir(parents=True, exist_ok=True)
        DIAGRAM.write_text(expected, encoding="utf-8")
        pytest.fail(f"{DIAGRAM} was stale and has been rewritten: commit it")
