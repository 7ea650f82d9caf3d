"""Several gunicorn workers acting on the same few cases at once lose no update and make no
illegal transition (issue 6).

Real processes: ``gongzhi serve --production`` with two sync workers on the scratch
database, client threads acting through /api/v1/ as the staff who may take each action.
"""

from __future__ import annotations

import random
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.system.support import (
    Actor,
    Move,
    Outcome,
    ProductionServer,
    ScratchDatabase,
    acknowledged_problems,
    lifecycle_problems,
    moves,
    timelines,
    verification_problems,
)

pytestmark = [pytest.mark.slow, pytest.mark.system]

THREADS = 6
STEPS = 8  # actions per thread in the mixed phase
# What a lost race may answer: the case moved on (409 with its code). A handler also loses
# sight of a case once it is no longer with the handler's unit (returned, not yet
# dispatched): the API answers 404 for cases a person may not see (policies.access_case).
RACE_LOST = {(409, "stale_version"), (409, "invalid_transition")}
HANDLER_LOST_SIGHT = (404, "not_found")


def at_once(count: int, act: Callable[[int], Outcome]) -> list[Outcome]:
    """``count`` threads, released together, each calling ``act`` once."""
    barrier = threading.Barrier(count)
    outcomes: list[Outcome] = []
    lock = threading.Lock()

    def run(n: int) -> None:
        barrier.wait(timeout=60)
        outcome = act(n)
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=run, args=(n,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)
    assert len(outcomes) == count
    return outcomes


def answers(outcomes: list[Outcome]) -> Counter[tuple[int, str]]:
    return Counter((o.status, o.code) for o in outcomes)


def details(outcome: Outcome) -> Any:
    """The ``details`` of an error answer (what the client needs to reload and retry)."""
    return outcome.document["details"]


def test_racing_the_same_action_one_wins_the_others_learn_why(
    server: ProductionServer, scratch: ScratchDatabase, seeded: dict[str, Any]
) -> None:
    case_id = seeded["cases"]["concurrency"][0]["id"]
    table = moves(seeded["category_id"], seeded["handler_unit_id"])
    register = next(m for m in table["submitted"] if m.event == "register")
    dispatch = next(m for m in table["registered"] if m.event == "dispatch")

    def actor(n: int) -> Actor:
        return Actor(server.port, seeded["tokens"], table, random.Random(n))

    def send(move: Move, expected: int | None) -> Callable[[int], Outcome]:
        def act(n: int) -> Outcome:
            payload = dict(move.payload)
            if expected is not None:
                payload["expected_version"] = expected
            return actor(n).send(case_id, move, payload, expected)

        return act

    # Everyone saw version 1 and registers it: one wins, the others are told it changed.
    first = at_once(THREADS, send(register, 1))
    assert answers(first) == {(200, ""): 1, (409, "stale_version"): THREADS - 1}, first
    assert [details(o) for o in first if o.status == 409] == [{"version": 2}] * (THREADS - 1)
    # Everyone dispatches without a version: one wins, the others find it dispatched.
    second = at_once(THREADS, send(dispatch, None))
    assert answers(second) == {(200, ""): 1, (409, "invalid_transition"): THREADS - 1}, second
    moved_on = {"state": "dispatched", "action": "dispatch"}
    assert [details(o) for o in second if o.status == 409] == [moved_on] * (THREADS - 1)

    assert lifecycle_problems(scratch, [case_id]) == []
    assert acknowledged_problems(scratch, first + second) == []
    events = [e["action"] for e in timelines(scratch, [case_id])[case_id]]
    assert events == ["submit", "register", "dispatch"]


def test_many_people_acting_on_the_same_cases_lose_no_update(
    server: ProductionServer, scratch: ScratchDatabase, seeded: dict[str, Any]
) -> None:
    cases = [c["id"] for c in seeded["cases"]["concurrency"]]
    table = moves(seeded["category_id"], seeded["handler_unit_id"])
    actors = [
        Actor(server.port, seeded["tokens"], table, random.Random(1000 + n)) for n in range(THREADS)
    ]

    def act(n: int) -> Outcome:
        actor = actors[n]
        outcome = None
        for _ in range(STEPS):
            outcome = actor.step(actor.rng.choice(cases))
        assert outcome is not None
        return outcome

    at_once(THREADS, act)
    outcomes = [o for actor in actors for o in actor.outcomes]

    unexpected = [
        o
        for o in outcomes
        if o.status != 200
        and (o.status, o.code) not in RACE_LOST
        and not (o.role == "handler" and (o.status, o.code) == HANDLER_LOST_SIGHT)
    ]
    assert unexpected == []
    assert len(outcomes) == THREADS * STEPS
    assert sum(1 for o in outcomes if o.status == 200) > 0
    assert sum(1 for o in outcomes if (o.status, o.code) in RACE_LOST) > 0
    assert lifecycle_problems(scratch, cases) == []
    assert acknowledged_problems(scratch, outcomes) == []
    assert verification_problems(scratch) == []
