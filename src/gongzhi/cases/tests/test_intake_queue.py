"""Queued intake (ADR 0007): ``Prefer: respond-async`` accepts a submission with one INSERT;
``process_queue`` makes it the same case a synchronous submission would have been."""

from __future__ import annotations

import datetime as dt
import json
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases import intake, services
from gongzhi.cases.models import Case, CaseEvent, QueuedCase
from gongzhi.cases.tests.test_intake_refdata import post_case, resident_client
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


def post_queued(client: Client, world: World, **fields: Any) -> Any:
    body = {
        "title": "绿化带杂草丛生",
        "description": "小区门口绿化带很久没人修剪，杂草有半人高。",
        "kind": "report",
        "channel": "mobile",
        "latitude": world.grid_1.centre_lat,
        "longitude": world.grid_1.centre_lng,
        **fields,
    }
    return client.post(
        "/api/v1/cases",
        json.dumps(body),
        content_type="application/json",
        headers={"Prefer": "respond-async"},
    )


def test_accepting_is_one_insert_after_the_checks(world: World) -> None:
    client = resident_client()
    assert post_queued(client, world).status_code == 202  # the key's use noted, caches filled
    cases_before = Case.objects.count()
    with CaptureQueriesContext(connection) as captured:
        response = post_queued(client, world)
    assert response.status_code == 202
    assert response["Preference-Applied"] == "respond-async"
    assert [q["sql"].split()[0] for q in captured.captured_queries] == [
        "SELECT",  # accounts_apikey
        "SELECT",  # accounts_membership
        "SELECT",  # core_refdata_version
        "INSERT",  # cases_queuedcase
    ]
    assert "cases_queuedcase" in captured.captured_queries[-1]["sql"]
    body = response.json()
    queued = QueuedCase.objects.get(receipt=body["receipt"])
    assert body == {
        "receipt": queued.receipt,
        "tracking_code": queued.tracking_code,
        "received_at": body["received_at"],
        "state": "queued",
        "case_id": None,
        "number": None,
        "error": "",
    }
    assert (len(queued.receipt), len(queued.tracking_code)) == (16, 10)
    assert (queued.source, queued.actor.username, queued.submission["region"]) == (
        "api",
        "resident",
        world.grid_1.path,
    )
    assert Case.objects.count() == cases_before  # no case yet


def test_the_queued_case_is_the_case_a_direct_submission_makes(world: World) -> None:
    client = resident_client()
    direct = Case.objects.get(pk=post_case(client, world).json()["id"])
    receipt = post_queued(client, world).json()["receipt"]
    assert intake.process_queue() == intake.Processed(registered=1)
    queued = QueuedCase.objects.select_related("case").get(receipt=receipt)
    case = queued.case
    assert case is not None
    same = [
        "kind",
        "channel",
        "urgency",
        "title",
        "description",
        "category_id",
        "region_id",
        "region_path",
        "latitude",
        "longitude",
        "reporter_id",
        "state",
        "version",
        "dispatch_region_id",
        "proposed_unit_id",
        "stage",
    ]
    assert {f: getattr(case, f) for f in same} == {f: getattr(direct, f) for f in same}
    assert (case.tracking_code, case.submitted_at) == (queued.tracking_code, queued.received_at)
    assert queued.submission == {}  # the case holds it now; no second copy of personal data
    assert (
        case.due_at
        == services.prepare_case(
            services.NewCase(
                title="t", description="d", region=world.grid_1, category=direct.category
            ),
            actor=world.persona("resident"),
            submitted_at=queued.received_at,
        ).case.due_at
    )
    events = list(CaseEvent.objects.filter(case=case).values_list("action", "actor_id"))
    assert events == [("submit", queued.actor_id)]
    assert list(verify_chains(CaseEvent)) == []
    status = client.get(f"/api/v1/cases/queued/{receipt}").json()
    assert (status["state"], status["case_id"], status["number"]) == (
        "registered",
        str(case.pk),
        case.number,
    )
    # The person follows it by the tracking code given at once.
    assert client.get(f"/api/v1/cases/track/{queued.tracking_code}").json()["number"] == (
        case.number
    )
    assert intake.process_queue() == intake.Processed()  # nothing left: nothing happens


def test_a_bad_submission_is_refused_at_once_and_nothing_is_queued(world: World) -> None:
    client = resident_client()
    outside = post_queued(client, world, latitude=10.0, longitude=10.0)
    empty = post_queued(client, world, title="   ")
    assert (outside.status_code, outside.json()["code"]) == (400, "outside_the_city")
    assert (empty.status_code, empty.json()["code"]) == (400, "invalid_case")
    assert not QueuedCase.objects.exists()


def test_only_the_submitter_reads_a_receipt(world: World) -> None:
    receipt = post_queued(resident_client(), world).json()["receipt"]
    other = issue_personal_token(None, username="grid_worker", password=DEMO_PASSWORD).token
    stranger = Client(headers={"Authorization": f"Bearer {other}"})
    answer = stranger.get(f"/api/v1/cases/queued/{receipt}")
    assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
    answer = Client().get(f"/api/v1/cases/queued/{receipt}")
    assert (answer.status_code, answer.json()["code"]) == (401, "not_authenticated")
    assert resident_client().get("/api/v1/cases/queued/nonsense").status_code == 404


def test_batches_keep_the_order_of_arrival(world: World) -> None:
    client = resident_client()
    receipts = [post_queued(client, world, title=f"第{i}件").json()["receipt"] for i in range(5)]
    assert intake.process_queue(limit=3) == intake.Processed(registered=3)
    assert intake.process_queue(limit=3) == intake.Processed(registered=2)
    numbers = [QueuedCase.objects.get(receipt=r).case.number for r in receipts]
    assert numbers == sorted(numbers)
    assert len(set(numbers)) == 5


def test_a_submission_that_can_no_longer_be_a_case_is_refused_with_the_reason(
    world: World,
) -> None:
    client = resident_client()
    receipt = post_queued(client, world).json()["receipt"]
    QueuedCase.objects.filter(receipt=receipt).update(
        submission={**QueuedCase.objects.get(receipt=receipt).submission, "region": "9/9/9"}
    )
    assert intake.process_queue() == intake.Processed(refused=1)
    queued = QueuedCase.objects.get(receipt=receipt)
    assert (queued.case, queued.processed_at is not None) == (None, True)
    status = client.get(f"/api/v1/cases/queued/{receipt}").json()
    # Stored in the site's language, as staff read it.
    assert (status["state"], status["error"]) == ("refused", "该诉求所在的区域已不存在。")
    assert intake.process_queue() == intake.Processed()  # set aside: not tried again


def test_an_unexpected_failure_is_retried_then_set_aside(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    receipt = post_queued(resident_client(), world).json()["receipt"]

    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("classifier exploded")

    monkeypatch.setattr(services, "prepare_case", broken)
    for attempt in range(1, intake.MAX_ATTEMPTS):
        assert intake.process_queue() == intake.Processed(retried=1)
        queued = QueuedCase.objects.get(receipt=receipt)
        assert (queued.attempts, queued.processed_at) == (attempt, None)
    assert intake.process_queue() == intake.Processed(retried=1)
    queued = QueuedCase.objects.get(receipt=receipt)
    assert (queued.attempts, intake.status_of(queued), queued.last_error) == (
        intake.MAX_ATTEMPTS,
        "refused",
        "RuntimeError: classifier exploded",
    )
    monkeypatch.undo()
    assert intake.process_queue() == intake.Processed()


def test_the_command_empties_the_queue(world: World) -> None:
    client = resident_client()
    for _ in range(3):
        post_queued(client, world)
    out = StringIO()
    call_command("process_intake", "--once", "--batch", "2", stdout=out)
    assert out.getvalue().strip() == "3 registered"
    assert not intake.waiting().exists()


def test_the_status_says_what_waits_and_what_was_set_aside(world: World) -> None:
    client = resident_client()
    receipts = [post_queued(client, world).json()["receipt"] for _ in range(3)]
    first = QueuedCase.objects.get(receipt=receipts[0])
    later = first.received_at + dt.timedelta(seconds=90)
    assert intake.queue_status(later) == intake.QueueStatus(3, 90.0, 0)
    QueuedCase.objects.filter(receipt=receipts[0]).update(
        submission={**first.submission, "region": "9/9/9"}
    )
    intake.process_queue()
    assert intake.queue_status(later) == intake.QueueStatus(0, 0.0, 1)
    out = StringIO()
    call_command("process_intake", "--status", stdout=out)
    assert out.getvalue().strip() == "waiting 0 (oldest 0.0 s), set aside 1"
