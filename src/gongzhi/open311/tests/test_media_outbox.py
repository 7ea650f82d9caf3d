"""A media_url's fetch is queued inside the submission's transaction (a transactional outbox):
it commits with the case or rolls back with it, so neither a crash after the commit loses the
photo nor a failed request leaves a fetch behind. The production queue
(``django_tasks_db.DatabaseBackend``) is used here and its worker run by hand."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.test import Client
from django.utils import translation
from django_tasks_db.models import DBTaskResult

from gongzhi.demo.testing import World
from gongzhi.notifications.tests.test_outbox import DATABASE_QUEUE, run_worker
from gongzhi.open311 import media
from gongzhi.open311.queries import Case, CaseAttachment, Submission
from gongzhi.open311.tests.support import (
    BASE,
    JPEG,
    at_grid_1,
    client_key,
    greening_code,
    post_request,
    submitted,
    take_to_closed,
)

FETCH_MEDIA = "gongzhi.open311.services.fetch_media_task"
PHOTO_URL = "https://photos.example.com/a.jpg"


@pytest.fixture
def client() -> Client:
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def key(world: World) -> str:
    return client_key(world)


@pytest.fixture
def fetched(settings: Any, tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The production queue, and a download that records its URL instead of fetching."""
    settings.TASKS = DATABASE_QUEUE
    settings.MEDIA_ROOT = tmp_path
    urls: list[str] = []

    def fake_download(url: str) -> bytes:
        urls.append(url)
        return JPEG

    monkeypatch.setattr(media, "download", fake_download)
    return urls


def fetch_rows() -> list[tuple[str, dict[str, Any]]]:
    return [(t.status, t.args_kwargs) for t in DBTaskResult.objects.filter(task_path=FETCH_MEDIA)]


def test_a_media_url_queues_one_fetch_that_the_worker_runs(
    client: Client, world: World, key: str, fetched: list[str], monkeypatch: pytest.MonkeyPatch
):
    case = submitted(client, world, key, media_url=PHOTO_URL)
    submission = Submission.objects.get(case=case)
    assert fetch_rows() == [("READY", {"args": [str(submission.pk)], "kwargs": {}})]
    assert (fetched, CaseAttachment.objects.filter(case=case).count()) == ([], 0)
    run_worker(monkeypatch)
    assert fetched == [PHOTO_URL]
    assert DBTaskResult.objects.get(task_path=FETCH_MEDIA).return_value is True
    assert CaseAttachment.objects.filter(case=case, is_public=False).count() == 1
    assert Submission.objects.get(pk=submission.pk).media_fetched_at is not None


def test_a_request_without_media_url_queues_no_fetch(
    client: Client, world: World, key: str, fetched: list[str]
):
    submitted(client, world, key)
    assert fetch_rows() == []


def test_a_failed_request_queues_no_fetch(
    client: Client, world: World, key: str, fetched: list[str]
):
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": greening_code(),
            **at_grid_1(world),
            "media_url": PHOTO_URL,
            "media": SimpleUploadedFile("x.jpg", b"<?php evil(); ?>"),
        },
    )
    assert response.status_code == 400
    assert not Case.objects.filter(channel="open311").exists()
    assert DBTaskResult.objects.count() == 0


def test_the_fetch_is_queued_while_the_transaction_is_open_and_undone_with_it(
    client: Client, world: World, key: str, fetched: list[str]
):
    body = {"service_code": greening_code(), **at_grid_1(world), "media_url": PHOTO_URL}
    with transaction.atomic():
        response = post_request(client, key, "json", **body)
        assert response.status_code == 200, response.content
        number = json.loads(response.content)[0]["service_request_id"]
        submission = Submission.objects.get(case__number=number)
        # Visible inside the transaction: queued now, not in an on_commit callback.
        assert fetch_rows() == [("READY", {"args": [str(submission.pk)], "kwargs": {}})]
        transaction.set_rollback(True)  # undone as a failure later in the request would be
    assert fetch_rows() == []
    assert not Case.objects.filter(number=number).exists()


def test_a_case_closed_before_the_worker_runs_refuses_the_photo(
    client: Client,
    world: World,
    key: str,
    fetched: list[str],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
):
    """The case moves on between the commit and the fetch: the task runs, attaches nothing,
    logs it, and the request stays as it was."""
    case = take_to_closed(world, submitted(client, world, key, media_url=PHOTO_URL))
    with translation.override("en"):  # the log line's reason, in a language fixed for the test
        run_worker(monkeypatch)
    assert fetched == [PHOTO_URL]
    task = DBTaskResult.objects.get(task_path=FETCH_MEDIA)
    assert (task.status, task.return_value) == ("SUCCESSFUL", False)
    assert CaseAttachment.objects.filter(case=case).count() == 0
    submission = Submission.objects.get(case=case)
    assert submission.media_fetched_at is None
    reason = "Photos can only be added to open cases."
    assert [r.getMessage() for r in caplog.records if r.name == "gongzhi.open311.services"] == [
        f"open311 media of submission {submission.pk} not attached: {reason}"
    ]
