"""Notices go through a transactional outbox: the notice's task is queued inside the case's
transaction, so it commits with the change or rolls back with it, and nothing is lost
between the commit and the queue.

Most tests here use the production queue (``django_tasks_db.DatabaseBackend``, a table in
the same database) and run its worker by hand; the suite's default, the immediate backend,
runs the task at once inside the transaction, which the last tests cover.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, transaction
from django_tasks_db.management.commands import db_worker
from django_tasks_db.models import DBTaskResult

from gongzhi.cases import services
from gongzhi.cases.errors import InvalidTransition
from gongzhi.cases.models import Case
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World
from gongzhi.notifications.choices import NoticeKind
from gongzhi.notifications.models import Notice
from gongzhi.notifications.services import notify_later

SEND_NOTICE = "gongzhi.notifications.services.send_notice_task"
DATABASE_QUEUE = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}


@pytest.fixture
def database_queue(settings: Any) -> None:
    settings.TASKS = DATABASE_QUEUE


def run_worker(monkeypatch: pytest.MonkeyPatch) -> None:
    """Run the production worker's loop until no task is ready (``db_worker --batch``),
    without its signal handlers, and without closing the test's connection between tasks
    (it would drop the test's transaction)."""
    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)
    db_worker.Worker(
        queue_names=["*"],
        interval=0,
        batch=True,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id="test-worker",
        excluded_queue_names=[],
    ).run()


def task_rows() -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (t.task_path, t.status, t.args_kwargs)
        for t in DBTaskResult.objects.order_by("enqueued_at", "id")
    ]


def notice_args(case: Case, kind: str, unit_id: int | None, user_id: str | None) -> Any:
    return {"args": [str(case.pk), kind, unit_id, user_id], "kwargs": {}}


def registered(world: World) -> Case:
    return services.register_case(submit(world), actor=world.persona("dispatcher"))


@pytest.mark.usefixtures("database_queue")
def test_an_action_queues_one_notice_task_with_its_arguments(world: World):
    case = registered(world)
    assert task_rows() == []
    case = services.dispatch_case(case, actor=world.persona("dispatcher"))
    assert task_rows() == [
        (SEND_NOTICE, "READY", notice_args(case, "dispatched", case.unit_id, None))
    ]
    assert Notice.objects.count() == 0  # the worker writes it


@pytest.mark.usefixtures("database_queue")
def test_the_task_is_queued_while_the_transaction_is_open_and_undone_with_it(world: World):
    case = registered(world)
    with transaction.atomic():
        dispatched = services.dispatch_case(case, actor=world.persona("dispatcher"))
        # Visible inside the transaction: queued now, not in an on_commit callback.
        assert task_rows() == [
            (SEND_NOTICE, "READY", notice_args(dispatched, "dispatched", dispatched.unit_id, None))
        ]
        transaction.set_rollback(True)  # undone as a failure later in the request would be
    assert task_rows() == []
    assert Case.objects.get(pk=case.pk).state == case.state


@pytest.mark.usefixtures("database_queue")
def test_a_refused_action_queues_nothing(world: World):
    case = submit(world)
    with pytest.raises(InvalidTransition):
        services.dispatch_case(case, actor=world.persona("dispatcher"))  # not registered yet
    assert task_rows() == []


@pytest.mark.usefixtures("database_queue")
def test_the_worker_writes_each_notice_once_from_the_case_as_it_is_then(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """The case moves on before the worker runs: each notice is still written, once."""
    officer = world.persona("street_officer")
    case = services.dispatch_case(registered(world), actor=world.persona("dispatcher"))
    case = services.sign_for_case(case, actor=officer)
    case = services.reply_to_case(case, actor=officer, reply="已处理完毕，谢谢。")
    resident = str(world.persona("resident").pk)
    assert [(path, args) for path, _, args in task_rows()] == [
        (SEND_NOTICE, notice_args(case, "dispatched", case.unit_id, None)),
        (SEND_NOTICE, notice_args(case, "replied", None, resident)),
    ]
    run_worker(monkeypatch)
    assert sorted(DBTaskResult.objects.values_list("task_path", "status", "return_value")) == [
        (SEND_NOTICE, "SUCCESSFUL", 1),
        (SEND_NOTICE, "SUCCESSFUL", 1),
    ]
    notices = Notice.objects.order_by("kind")
    assert [(n.kind, n.unit_id, n.recipient_id, n.text) for n in notices] == [
        (
            "dispatched",
            case.unit_id,
            None,
            f"案件 {case.number}「{case.title}」已派至本单位，请及时签收。",
        ),
        ("replied", None, world.persona("resident").pk, f"您反映的问题 {case.number} 已有答复。"),
    ]
    # The same task queued again (a retry) adds nothing.
    notify_later(case.pk, NoticeKind.REPLIED, user_id=resident)
    run_worker(monkeypatch)
    assert Notice.objects.count() == 2


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_no_worker_can_claim_the_task_before_the_commit(ensure_demo_city: None, settings: Any):
    """The worker's own query, from another connection, as the real worker would run it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent connections")
    settings.TASKS = DATABASE_QUEUE
    world = World.load()
    case = registered(world)

    def claimable() -> int:
        seen: list[int] = []

        def look() -> None:
            try:
                with transaction.atomic():
                    seen.append(
                        len(DBTaskResult.objects.ready().select_for_update(skip_locked=True))
                    )
            finally:
                connection.close()

        thread = threading.Thread(target=look)
        thread.start()
        thread.join()
        return seen[0]

    with transaction.atomic():
        services.dispatch_case(case, actor=world.persona("dispatcher"))
        assert DBTaskResult.objects.count() == 1
        assert claimable() == 0
    assert claimable() == 1


# --- The immediate backend (the suite's default) -----------------------------------------------


def test_immediately_the_notice_is_written_inside_the_transaction_and_undone_with_it(
    world: World,
):
    case = registered(world)
    with transaction.atomic():
        dispatched = services.dispatch_case(case, actor=world.persona("dispatcher"))
        # The task ran inside the transaction and saw the uncommitted dispatch.
        notice = Notice.objects.get()
        assert (notice.kind, notice.unit_id) == ("dispatched", dispatched.unit_id)
        transaction.set_rollback(True)  # undone as a failure later in the request would be
    assert Notice.objects.count() == 0


def test_a_failing_notice_task_does_not_break_the_action(
    world: World, monkeypatch: pytest.MonkeyPatch
):
    """The immediate backend records a task's error and goes on; a database error in the task
    (here a missing table) is undone to the task's savepoint, so on PostgreSQL the case's
    transaction is not left aborted."""

    def broken(**fields: Any) -> None:
        with connection.cursor() as cursor:
            cursor.execute("SELECT * FROM no_such_table")

    monkeypatch.setattr(Notice.objects, "create", broken)
    case = services.dispatch_case(registered(world), actor=world.persona("dispatcher"))
    case = services.sign_for_case(case, actor=world.persona("street_officer"))
    assert Case.objects.get(pk=case.pk).state == "in_progress"
    assert Notice.objects.count() == 0
