"""The lifecycle table's questions, on a small lifecycle of its own (the real ones are
checked exhaustively in cases/tests/test_workflow.py and evaluation's workflow tests)."""

from __future__ import annotations

from enum import StrEnum

import pytest

from gongzhi.core.lifecycle import IllegalTransition, Lifecycle


class Door(StrEnum):
    OPEN = "open"
    SHUT = "shut"
    GONE = "gone"


class Push(StrEnum):
    BUILD = "build"
    CLOSE = "close"
    OPEN = "open"
    KNOCK = "knock"
    PAINT = "paint"
    BREAK = "break"


DOOR = Lifecycle(
    Door,
    Push,
    {
        (Door.SHUT, Push.OPEN): Door.OPEN,
        (Door.OPEN, Push.CLOSE): Door.SHUT,
        (Door.SHUT, Push.PAINT): Door.SHUT,
        (Door.SHUT, Push.KNOCK): Door.SHUT,
        (Door.SHUT, Push.BREAK): Door.GONE,
    },
    initial=Door.SHUT,
    final=(Door.GONE,),
    created_by=Push.BUILD,
)


def test_next_state_follows_the_table_and_refuses_the_rest():
    assert DOOR.next_state("shut", "open") is Door.OPEN
    assert DOOR.next_state(Door.SHUT, Push.KNOCK) is Door.SHUT
    for state, action in [("open", "open"), ("gone", "close"), ("ajar", "open"), ("shut", "x")]:
        with pytest.raises(IllegalTransition) as refused:
            DOOR.next_state(state, action)
        assert (refused.value.state, refused.value.action) == (state, action)
        assert str(refused.value) == f"{action} is not allowed in state {state}"
        assert DOOR.allows(state, action) is False
    assert DOOR.allows("open", "close") is True


def test_allowed_actions_are_those_of_the_state_in_table_order():
    assert DOOR.allowed_actions("shut") == [Push.OPEN, Push.PAINT, Push.KNOCK, Push.BREAK]
    assert DOOR.allowed_actions("open") == [Push.CLOSE]
    assert DOOR.allowed_actions("gone") == []


def test_the_diagram_has_the_changes_then_the_ends_then_the_state_keeping_actions():
    assert DOOR.mermaid() == (
        "stateDiagram-v2\n"
        "    [*] --> shut: build\n"
        "    shut --> open: open\n"
        "    open --> shut: close\n"
        "    shut --> gone: break\n"
        "    gone --> [*]\n"
        "    note right of shut: knock, paint\n"
    )
    plain = Lifecycle(Door, Push, {(Door.OPEN, Push.CLOSE): Door.SHUT}, initial=Door.OPEN)
    assert plain.mermaid() == "stateDiagram-v2\n    [*] --> open\n    open --> shut: close\n"
