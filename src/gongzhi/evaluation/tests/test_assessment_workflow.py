"""The lifecycles of indicator systems and rectification items, exhaustively, and their
diagrams in docs/evaluation-systems.md."""

from __future__ import annotations

from pathlib import Path

import pytest

from gongzhi.evaluation.workflow import (
    CLOSED_STATES,
    OPEN_STATES,
    SYSTEM_TRANSITIONS,
    TRANSITIONS,
    WITH_OWNER,
    Action,
    IllegalTransition,
    State,
    SystemAction,
    SystemState,
    allowed_actions,
    mermaid,
    next_state,
    next_system_state,
    system_allows,
    system_mermaid,
)

DOC = Path(__file__).resolve().parents[4] / "docs" / "evaluation-systems.md"
START, END = "<!-- diagrams:start -->", "<!-- diagrams:end -->"

EXPECTED = {
    (State.OPEN, Action.SUBMIT): State.SUBMITTED,
    (State.OPEN, Action.MARK_OVERDUE): State.OVERDUE,
    (State.OVERDUE, Action.SUBMIT): State.SUBMITTED,
    (State.SUBMITTED, Action.ACCEPT): State.ACCEPTED,
    (State.SUBMITTED, Action.REJECT): State.OPEN,
}
EXPECTED_SYSTEM = {
    (SystemState.DRAFT, SystemAction.ACTIVATE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.COMPUTE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.SCORE): SystemState.ACTIVE,
    (SystemState.ACTIVE, SystemAction.CLOSE): SystemState.CLOSED,
    (SystemState.CLOSED, SystemAction.GENERATE): SystemState.CLOSED,
}


def test_the_tables_are_exactly_the_designed_ones():
    assert TRANSITIONS == EXPECTED
    assert SYSTEM_TRANSITIONS == EXPECTED_SYSTEM


@pytest.mark.parametrize("state", list(State))
@pytest.mark.parametrize("action", list(Action))
def test_every_rectification_pair_is_in_the_table_or_illegal(state, action):
    if (state, action) in TRANSITIONS:
        assert next_state(state, action) == TRANSITIONS[(state, action)]
        assert action in allowed_actions(state)
    else:
        with pytest.raises(IllegalTransition):
            next_state(state, action)
        assert action not in allowed_actions(state)


@pytest.mark.parametrize("state", list(SystemState))
@pytest.mark.parametrize("action", list(SystemAction))
def test_every_system_pair_is_in_the_table_or_illegal(state, action):
    if (state, action) in SYSTEM_TRANSITIONS:
        assert next_system_state(state, action) == SYSTEM_TRANSITIONS[(state, action)]
        assert system_allows(state, action)
    else:
        with pytest.raises(IllegalTransition):
            next_system_state(state, action)
        assert not system_allows(state, action)


def test_states_are_open_or_closed_never_both():
    assert set(State) == OPEN_STATES | CLOSED_STATES
    assert not OPEN_STATES & CLOSED_STATES
    assert {s for s in State if Action.SUBMIT in allowed_actions(s)} == WITH_OWNER


def test_accepted_is_final_and_creation_is_no_transition():
    assert allowed_actions(State.ACCEPTED) == []
    assert not any(action == Action.CREATE for _state, action in TRANSITIONS)


def test_every_state_is_reachable_and_can_reach_acceptance():
    reached, frontier = {State.OPEN}, [State.OPEN]
    while frontier:
        state = frontier.pop()
        for (source, _action), target in TRANSITIONS.items():
            if source == state and target not in reached:
                reached.add(target)
                frontier.append(target)
    assert reached == set(State)
    for state in OPEN_STATES:
        seen, frontier = {state}, [state]
        while frontier:
            current = frontier.pop()
            for (source, _action), target in TRANSITIONS.items():
                if source == current and target not in seen:
                    seen.add(target)
                    frontier.append(target)
        assert State.ACCEPTED in seen


def test_unknown_names_are_illegal():
    with pytest.raises(IllegalTransition):
        next_state("nonsense", "submit")
    with pytest.raises(IllegalTransition):
        next_state("open", "nonsense")
    with pytest.raises(IllegalTransition):
        next_system_state("draft", "nonsense")


def render_diagrams() -> str:
    return (
        f"{START}\n"
        "Rendered from `src/gongzhi/evaluation/workflow.py` by\n"
        "`evaluation/tests/test_assessment_workflow.py`, which rewrites this block when it is\n"
        "stale and fails so that the change gets committed.\n\n"
        "The indicator system:\n\n"
        "```mermaid\n" + system_mermaid() + "```\n\n"
        "A rectification item:\n\n"
        "```mermaid\n" + mermaid() + "```\n"
        f"{END}"
    )


def test_the_diagrams_in_the_documentation_are_up_to_date():
    text = DOC.read_text(encoding="utf-8")
    assert START in text, f"{DOC} lost its diagram markers"
    assert END in text, f"{DOC} lost its diagram markers"
    before, rest = text.split(START, 1)
    _old, after = rest.split(END, 1)
    expected = before + render_diagrams() + after
    if text != expected:
        DOC.write_text(expected, encoding="utf-8")
        pytest.fail(f"{DOC} was stale and has been rewritten: commit it")
