"""The database goes away under load, and comes back (issue 6). PostgreSQL only.

The production server reaches PostgreSQL through a TCP proxy in the test (CI's PostgreSQL
server itself is never stopped). Under load the proxy is cut (every connection closed, new
ones refused), then made to swallow connections without answering (a database host that
vanished), then restored. Meanwhile every answer must be a 503 with a clear message (JSON
for the API, Open311 and the pages' JSON, an HTML page without a stack trace for people) and
``Retry-After``, or a success for a request that finished before the cut; afterwards the same
server processes, never restarted, answer again by themselves, the task worker (which stops
on such an error) runs again under ``serve``'s supervision, and nothing that got a success
answer was lost.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from typing import Any

import pytest

from tests.system.support import (
    Answer,
    Load,
    ProductionServer,
    ScratchDatabase,
    TcpProxy,
    all_case_ids,
    api,
    exactly_once_problems,
    lifecycle_problems,
    role_of,
    verification_problems,
    wait_for,
)

pytestmark = [pytest.mark.slow, pytest.mark.system]
log = logging.getLogger(__name__)

CLIENTS = {"open311": 1, "api": 1, "page": 1, "data": 1}
JSON_KINDS = {"open311", "api", "data"}
OK = {"open311": 200, "api": 201, "page": 200, "data": 200}


def answered(load: Load, kind: str, status: int, since: float) -> bool:
    return any(a.kind == kind and a.status == status and a.started >= since for a in load.answers)


def every_kind(load: Load, status: int | None, since: float) -> bool:
    return all(answered(load, kind, status or OK[kind], since) for kind in CLIENTS)


def unavailable_problems(answer: Answer) -> list[str]:
    """What is wrong with a 503 answer (empty when it is the clear one)."""
    problems = []
    where = f"{answer.kind} 503"
    if answer.headers.get("Retry-After") != "5":
        problems.append(f"{where}: Retry-After {answer.headers.get('Retry-After')!r}")
    body = answer.body.decode(errors="replace")
    for leak in ("Traceback", 'File "', ".py", "/work/", "psycopg", "OperationalError"):
        if leak in body:
            problems.append(f"{where}: shows {leak!r}: {body[:300]}")
    content_type = answer.headers.get("Content-Type", "")
    if answer.kind in JSON_KINDS:
        if content_type != "application/json":
            problems.append(f"{where}: Content-Type {content_type}")
        else:
            document = json.loads(body)
            if document.get("code") != "service_unavailable" or not document.get("message"):
                problems.append(f"{where}: {document}")
    elif content_type != "text/html; charset=utf-8" or "briefly unavailable" not in body:
        problems.append(f"{where}: {content_type} {body[:300]}")
    return problems


def test_database_outage_is_a_503_and_the_server_recovers_by_itself(
    server: ProductionServer,
    scratch: ScratchDatabase,
    seeded: dict[str, Any],
    db_proxy: TcpProxy | None,
) -> None:
    if db_proxy is None:
        pytest.skip(
            "PostgreSQL only: on SQLite the database is a file opened by the server's own "
            "processes, so there is no database server that could go away"
        )
    web = {pid for pid, cmd in server.processes().items() if role_of(cmd) == "gunicorn"}
    load = Load(server.port, seeded, CLIENTS, seed=11)
    load.start()
    try:
        wait_for("answers before the cut", lambda: every_kind(load, None, 0.0), 180)
        cut = time.monotonic()
        db_proxy.cut()
        wait_for("a 503 of every kind", lambda: every_kind(load, 503, cut), 120)
        hang = time.monotonic()
        db_proxy.hang()
        wait_for("a 503 while connecting hangs", lambda: answered(load, "api", 503, hang), 120)
        restored = time.monotonic()
        db_proxy.restore()
        wait_for("a success of every kind again", lambda: every_kind(load, None, restored), 120)
    finally:
        load.stop()
    log.info(
        "answers: %s",
        Counter((a.kind, a.status, a.started >= cut, a.started >= restored) for a in load.answers),
    )

    # The server always answered; inside the outage only 503 (or a success that was under
    # way before the cut); after it, only successes.
    assert [a for a in load.answers if a.status == 0] == []
    during = [a for a in load.answers if a.finished > cut and a.started < restored]
    # A success inside the window is a request under way at the cut, or one that waited for
    # a busy worker until the database was back.
    assert [
        a
        for a in during
        if a.status != 503 and not (a.status < 300 and (a.started < cut or a.finished > restored))
    ] == []
    assert [p for a in during if a.status == 503 for p in unavailable_problems(a)] == []
    after = [a for a in load.answers if a.started >= restored]
    assert [a for a in after if a.status != OK[a.kind]] == []

    # The same web processes recovered by themselves: no restart, no worker replaced.
    now = {pid for pid, cmd in server.processes().items() if role_of(cmd) == "gunicorn"}
    assert now == web
    # The task worker stopped on the outage; serve started it again, and it works: a case
    # dispatched now gets its notice from a task.
    wait_for("every background process", lambda: server.roles() == server.expected_roles(), 120)
    case_id = seeded["cases"]["outage_actions"][0]["id"]
    dispatcher = seeded["tokens"]["dispatcher"]
    for action, payload in (
        ("register", {"category_id": seeded["category_id"]}),
        ("dispatch", {"unit_id": seeded["handler_unit_id"], "reason": "street lights"}),
    ):
        path = f"/cases/{case_id}/{action}"
        status, _, body = api(server.port, "POST", path, dispatcher, payload)
        assert status == 200, body
    wait_for(
        "the dispatch notice, written by the task worker",
        lambda: (
            scratch.rows(
                "SELECT COUNT(*) FROM notifications_notice WHERE case_id = %s AND kind = %s",
                (scratch.uuid(case_id), "dispatched"),
            )[0][0]
            == 1
        ),
        180,
    )

    assert exactly_once_problems(scratch, load.answers) == []
    assert lifecycle_problems(scratch, all_case_ids(scratch)) == []
    assert verification_problems(scratch) == []
