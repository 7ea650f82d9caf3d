"""A lifecycle as data: a table of (state, action) -> new state. Pure Python: no Django.

Cases (``cases/workflow.py``), indicator systems and rectification items
(``evaluation/workflow.py``) each declare their states, actions and table; this class gives
them the same questions and answers: what an action leads to (or ``IllegalTransition``),
which actions a state allows, and the state diagram the docs show. Actions that keep the
state (supervise, attach, compute ...) belong in the table too: the table says in which
states each action is allowed at all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

S = TypeVar("S", bound=StrEnum)
A = TypeVar("A", bound=StrEnum)


class IllegalTransition(ValueError):
    """``action`` is not allowed in ``state`` (or either is not one of the lifecycle's)."""

    def __init__(self, state: str, action: str) -> None:
        super().__init__(f"{action} is not allowed in state {state}")
        self.state = state
        self.action = action


@dataclass(frozen=True)
class Lifecycle(Generic[S, A]):
    states: type[S]
    actions: type[A]
    transitions: Mapping[tuple[S, A], S]
    initial: S
    final: tuple[S, ...] = ()
    # The action that brings a thing into being, written on the diagram's first arrow.
    created_by: A | None = None

    def next_state(self, state: str, action: str) -> S:
        try:
            return self.transitions[(self.states(state), self.actions(action))]
        except (KeyError, ValueError):
            raise IllegalTransition(state, action) from None

    def allows(self, state: str, action: str) -> bool:
        try:
            self.next_state(state, action)
        except IllegalTransition:
            return False
        return True

    def allowed_actions(self, state: str) -> list[A]:
        return [action for (source, action) in self.transitions if source == state]

    def mermaid(self) -> str:
        """The state diagram: a line per change of state, then the final states, then the
        actions that keep each state, in a note beside it."""
        start = f": {self.created_by.value}" if self.created_by is not None else ""
        lines = ["stateDiagram-v2", f"    [*] --> {self.initial.value}{start}"]
        loops: dict[S, list[str]] = {}
        for (source, action), target in self.transitions.items():
            if source == target:
                loops.setdefault(source, []).append(action.value)
            else:
                lines.append(f"    {source.value} --> {target.value}: {action.value}")
        lines += [f"    {state.value} --> [*]" for state in self.final]
        for state, actions in sorted(loops.items()):
            lines.append(f"    note right of {state.value}: {', '.join(sorted(actions))}")
        return "\n".join(lines) + "\n"
