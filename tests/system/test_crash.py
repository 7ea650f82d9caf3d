"""kill -9 of the whole production server in the middle of a load run (issue 6).

Every process of ``gongzhi serve --production`` (the supervisor, the gunicorn master and its
workers, the task worker, the intake processor, the deadline clock) dies at once while clients
submit cases through Open311 and /api/v1/ (at once, and through the intake queue) and act on
cases; deadlines pass while everything is down; then the
server starts again and the clients carry on. Afterwards: whatever got a success answer is
in the database exactly once, every case has one submit event and a lawful timeline,
``gongzhi verify-timelines`` passes, and the restarted clock has caught up on the deadlines.
"""

from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from typing import Any

import pytest

from tests.system.support import (
    Load,
    ProductionServer,
    ScratchDatabase,
    acknowledged_problems,
    all_case_ids,
    case_rows,
    exactly_once_problems,
    lifecycle_problems,
    queue_drained,
    role_of,
    timelines,
    verification_problems,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.system]

CLIENTS = {"open311": 2, "api": 1, "queued": 1, "action": 1}
# Successes wanted before and after the kill.
ENOUGH = {"open311": 4, "api": 2, "queued": 2, "action": 2}


def enough_since(load: Load, since: float) -> bool:
    actions = sum(1 for o in load.outcomes() if o.status == 200)
    return (
        load.successes("open311", since) >= ENOUGH["open311"]
        and load.successes("api", since) >= ENOUGH["api"]
        and load.successes("queued", since) >= ENOUGH["queued"]
        and (since > 0 or actions >= ENOUGH["action"])
    )


def set_deadlines(
    scratch: ScratchDatabase,
    case_ids: list[str],
    yellow_at: dt.datetime,
    due_at: dt.datetime | None = None,
) -> None:
    """Move the cases' yellow point and deadline (as time passing would bring them)."""
    marks = ", ".join(["%s"] * len(case_ids))
    scratch.execute(
        f"UPDATE cases_case SET yellow_at = %s, due_at = %s WHERE id IN ({marks})",  # noqa: S608
        (yellow_at, due_at or yellow_at, *[scratch.uuid(i) for i in case_ids]),
    )


def warnings_of(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [e for e in events if e["action"] == "warn"]


def test_kill_9_mid_load_loses_nothing_and_the_clock_catches_up(
    server: ProductionServer, scratch: ScratchDatabase, seeded: dict[str, Any]
) -> None:
    deadline_cases = [c["id"] for c in seeded["cases"]["deadlines"]]
    yellow, red = deadline_cases[:2], deadline_cases[2:]
    # Their own deadlines (30 minutes to dispatch) far away, whenever this test runs.
    set_deadlines(scratch, deadline_cases, dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    assert all(warnings_of(e) == [] for e in timelines(scratch, deadline_cases).values())
    load = Load(
        server.port,
        seeded,
        CLIENTS,
        action_cases=[c["id"] for c in seeded["cases"]["crash_actions"]],
        seed=7,
    )
    load.start()
    try:
        wait_for("answers before the kill", lambda: enough_since(load, 0.0), 180)
        killed = server.kill_all()
        killed_at = time.monotonic()
        assert Counter(role_of(cmd) for cmd in killed.values()) == server.expected_roles()

        # Everything is down: the clients get no answer.
        wait_for(
            "a request without an answer",
            lambda: any(a.status == 0 and a.started > killed_at for a in load.answers),
            60,
        )
        # Deadlines pass while nobody watches: yellow points of two cases, the deadline
        # itself of two others (as the clock would find them when they came).
        passed = dt.datetime.now(dt.UTC)
        set_deadlines(scratch, yellow, passed, passed + dt.timedelta(days=1))
        set_deadlines(scratch, red, passed, passed)

        restarted = time.monotonic()
        restarted_at = dt.datetime.now(dt.UTC)
        server.start()
        server.wait_ready()
        wait_for("answers after the restart", lambda: enough_since(load, restarted), 180)
    finally:
        load.stop()

    def caught_up() -> bool:
        rows = case_rows(scratch, deadline_cases)
        lines = timelines(scratch, deadline_cases)
        return all(rows[c]["warning"] == "yellow" for c in yellow) and all(
            [e["action"] for e in lines[c][-2:]] == ["warn", "escalate"] for c in red
        )

    wait_for("the restarted clock to catch up", caught_up, 120)
    # Submissions accepted into the queue before the kill became cases after the restart.
    wait_for("the intake queue to drain", lambda: queue_drained(scratch), 120)

    # Every answer was a success or no answer at all (while the server was down).
    statuses = Counter(a.status for a in load.answers) + Counter(o.status for o in load.outcomes())
    assert set(statuses) <= {0, 200, 201, 202}, statuses
    assert exactly_once_problems(scratch, load.answers) == []
    assert acknowledged_problems(scratch, load.outcomes()) == []
    assert lifecycle_problems(scratch, all_case_ids(scratch)) == []
    assert verification_problems(scratch) == []

    # The clock caught up once, after the restart: yellow where the yellow point passed; red
    # where the deadline passed, and the escalation rule of the dispatch stage applied.
    lines = timelines(scratch, deadline_cases)
    for case_id in deadline_cases:
        warnings = warnings_of(lines[case_id])
        assert len(warnings) == 1, lines[case_id]
        assert warnings[0]["occurred_at"] >= restarted_at
        assert warnings[0]["data"]["level"] == ("yellow" if case_id in yellow else "red")
    for case_id in red:
        escalation = lines[case_id][-1]
        assert escalation["action"] == "escalate"
        assert escalation["occurred_at"] >= restarted_at
        assert (escalation["from_state"], escalation["to_state"]) == ("submitted", "registered")
