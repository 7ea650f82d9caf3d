"""Reference data in memory (``core.refdata``): the database changes the version token on
every write to a watched table, whoever writes; a copy is never served under a token it was
not read under; inside a request the token is read once, until the request writes."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from gongzhi.cases.models import Case, Category, TimeLimit
from gongzhi.core import refdata
from gongzhi.core.models import CalendarDay
from gongzhi.core.working_days import city_calendar
from gongzhi.demo.testing import World
from gongzhi.dispatch.models import RoutingRule
from gongzhi.territory.models import Region, Unit
from gongzhi.triage.models import ClassifierModel

WATCHED = [
    "cases_category",
    "cases_timelimit",
    "core_calendarday",
    "dispatch_routingrule",
    "territory_region",
    "territory_unit",
    "territory_unit_jurisdictions",
    "triage_classifiermodel",
]
GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
DAY = dt.date(2031, 3, 3)  # a Monday the package has no data for: a working day


class Boom(Exception):
    pass


def token_reads(captured: CaptureQueriesContext) -> int:
    return sum(refdata.TABLE in q["sql"] for q in captured.captured_queries)


def test_the_watched_tables_carry_the_triggers(db: Any) -> None:
    assert refdata.watched_tables() == WATCHED
    assert refdata.installed_tables(connection) == WATCHED


def test_installing_again_changes_nothing(db: Any) -> None:
    assert refdata.install(connection) == WATCHED
    assert refdata.installed_tables(connection) == WATCHED


def test_without_its_triggers_nothing_is_trusted(db: Any, caplog: Any) -> None:
    loads: list[int] = []
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("DROP TRIGGER refdata_bump ON cases_timelimit")
        else:
            cursor.execute('DROP TRIGGER "refdata_cases_timelimit_update"')
    refdata.recheck()
    try:
        assert refdata.token() != refdata.token()
        refdata.cached("test.untrusted", lambda: loads.append(1))
        refdata.cached("test.untrusted", lambda: loads.append(1))
        assert loads == [1, 1]
        assert "tables without their triggers: cases_timelimit" in caplog.text
    finally:
        assert refdata.install(connection) == WATCHED
    assert refdata.token() == refdata.token()


def _raw_sql() -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE cases_category SET name = name WHERE path = %s", [GREENING])


def _classifier() -> None:
    ClassifierModel.objects.create(
        version=99,
        trained_on_file="x.csv",
        trained_on_sha256="0" * 64,
        trained_on_rows=0,
        artifact=b"",
        artifact_sha256="0" * 64,
        artifact_size=0,
    )


CHANGES: dict[str, Callable[[World], object]] = {
    "category by QuerySet.update": lambda w: Category.objects.filter(path=GREENING).update(
        is_active=False
    ),
    "category by raw SQL": lambda w: _raw_sql(),
    "time limit created": lambda w: TimeLimit.objects.create(
        stage="dispatch", urgency="urgent", complexity="complex", amount=5, unit="minutes"
    ),
    "calendar day created": lambda w: CalendarDay.objects.create(date=DAY, is_workday=False),
    "routing rule by QuerySet.update": lambda w: RoutingRule.objects.update(priority=7),
    "region by QuerySet.update": lambda w: Region.objects.filter(pk=w.grid_1.pk).update(name="x"),
    "unit saved": lambda w: Unit.objects.get(pk=w.committee_1.pk).save(),
    "unit jurisdiction added": lambda w: w.committee_1.jurisdictions.add(w.street_1),
    "unit deleted with its rules": lambda w: Unit.objects.create(
        name="临时", kind="department", region=w.city
    ).delete(),
    "classifier registered": lambda w: _classifier(),
}


@pytest.mark.parametrize("change", list(CHANGES), ids=list(CHANGES))
def test_every_write_to_reference_data_changes_the_token(world: World, change: str) -> None:
    before = refdata.token()
    CHANGES[change](world)
    assert refdata.token() != before


def test_other_writes_keep_the_token(world: World) -> None:
    before = refdata.token()
    Case.objects.update(title="x")
    Unit.objects.filter(pk=world.committee_1.pk).values_list("name").first()  # a read
    assert refdata.token() == before


def test_a_copy_holds_until_the_token_changes(db: Any) -> None:
    loads: list[int] = []

    def load() -> int:
        loads.append(1)
        return len(loads)

    assert refdata.cached("test.copy", load) == 1
    assert refdata.cached("test.copy", load) == 1
    CalendarDay.objects.create(date=DAY, is_workday=False)
    assert refdata.cached("test.copy", load) == 2
    refdata.forget()  # as a freshly started process
    assert refdata.cached("test.copy", load) == 3


def test_a_rolled_back_change_leaves_no_stale_copy(db: Any) -> None:
    def load() -> frozenset[str]:
        return frozenset(Category.objects.filter(is_active=True).values_list("path", flat=True))

    before = refdata.cached("test.paths", load)
    assert GREENING in before
    seen: list[frozenset[str]] = []

    def change_then_fail() -> None:
        with transaction.atomic():
            Category.objects.filter(path=GREENING).update(is_active=False)
            seen.append(refdata.cached("test.paths", load))
            raise Boom

    with pytest.raises(Boom):
        change_then_fail()
    assert GREENING not in seen[0]
    assert refdata.cached("test.paths", load) == before


def test_memo_loads_each_key_once_per_token(db: Any) -> None:
    loads: list[str] = []

    def load(key: str) -> Callable[[], str]:
        def run() -> str:
            loads.append(key)
            return key.upper()

        return run

    assert refdata.memo("test.memo", "a", load("a")) == "A"
    assert refdata.memo("test.memo", "a", load("a")) == "A"
    assert refdata.memo("test.memo", "b", load("b")) == "B"
    assert loads == ["a", "b"]
    CalendarDay.objects.create(date=DAY, is_workday=False)
    assert refdata.memo("test.memo", "a", load("a")) == "A"
    assert loads == ["a", "b", "a"]


def test_in_a_request_the_token_is_read_once_until_the_request_writes(db: Any) -> None:
    with refdata.pinned(), CaptureQueriesContext(connection) as captured:
        first = refdata.token()
        assert refdata.token() == first
        assert token_reads(captured) == 1
        CalendarDay.objects.create(date=DAY, is_workday=False)  # a write: read afresh
        second = refdata.token()
        assert second != first
        assert token_reads(captured) == 2
        # Inside a transaction that wrote, every read is fresh (it may roll back).
        refdata.token()
        assert token_reads(captured) == 3
    with CaptureQueriesContext(connection) as captured:  # outside a request: each time
        refdata.token()
        refdata.token()
    assert token_reads(captured) == 2


def test_a_web_request_reads_the_token_once(client: Any, world: World) -> None:
    client.get("/open311/v2/services.json")
    with CaptureQueriesContext(connection) as captured:
        response = client.get("/open311/v2/services.json")
    assert response.status_code == 200
    assert token_reads(captured) == 1
    assert len(captured.captured_queries) == 1  # categories and regions come from memory


@pytest.mark.django_db(transaction=True)
def test_a_change_committed_by_another_connection_is_seen() -> None:
    CalendarDay.objects.filter(date=DAY).delete()
    assert city_calendar().is_workday(DAY) is True
    problems: list[BaseException] = []

    def other_process() -> None:  # its own connection, committing on its own
        try:
            CalendarDay.objects.create(date=DAY, is_workday=False, name="地方假日")
        except BaseException as error:
            problems.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    thread.join(timeout=60)
    assert not thread.is_alive()
    assert problems == []
    assert city_calendar().is_workday(DAY) is False
