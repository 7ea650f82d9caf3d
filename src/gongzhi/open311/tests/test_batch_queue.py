"""Batch mode (``GONGZHI_OPEN311_SERVICE_TYPE = "batch"``): a POST is accepted into the intake
queue (ADR 0007) and answered with a token at once; the case, and the adapter's Submission
under the same token, follow when the queue is processed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client

from gongzhi.cases.intake import Processed, QueuedCase, process_queue
from gongzhi.demo.testing import World
from gongzhi.open311 import media
from gongzhi.open311.queries import Case, CaseAttachment, Submission
from gongzhi.open311.tests.support import (
    BASE,
    JPEG,
    at_grid_1,
    client_key,
    errors,
    greening_code,
    post_request,
)


@pytest.fixture(autouse=True)
def _batch(settings: Any) -> None:
    settings.GONGZHI_OPEN311_SERVICE_TYPE = "batch"


@pytest.fixture
def client() -> Client:
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def key(world: World) -> str:
    return client_key(world)


def token_of(response: Any) -> str:
    assert response.status_code == 200, response.content
    [answer] = json.loads(response.content)
    assert set(answer) == {"token"}
    return str(answer["token"])


def test_a_request_becomes_a_case_with_its_submission_under_the_same_token(
    client: Client, world: World, key: str
) -> None:
    body = {"service_code": greening_code(), "description": "路灯不亮", **at_grid_1(world)}
    token = token_of(post_request(client, key, "json", **body))
    queued = QueuedCase.objects.get(receipt=token)
    assert (queued.source, queued.actor, queued.submission["channel"]) == (
        "open311",
        None,
        "open311",
    )
    assert not Submission.objects.exists()
    assert process_queue() == Processed(registered=1)
    case = Case.objects.get(channel="open311")
    submission = Submission.objects.get(token=token)
    assert (submission.case, submission.submitted_at, submission.api_key.name) == (
        case,
        queued.received_at,
        "Test client",
    )
    assert case.description == "路灯不亮"


def test_a_retry_with_the_same_key_answers_the_same_token_before_and_after(
    client: Client, world: World, key: str
) -> None:
    body = {"service_code": greening_code(), "description": "路灯不亮", **at_grid_1(world)}
    headers = {"Idempotency-Key": "batch-retry-1"}
    first = token_of(post_request(client, key, "json", headers=headers, **body))
    assert token_of(post_request(client, key, "json", headers=headers, **body)) == first
    assert QueuedCase.objects.count() == 1
    process_queue()
    assert token_of(post_request(client, key, "json", headers=headers, **body)) == first
    assert (QueuedCase.objects.count(), Case.objects.filter(channel="open311").count()) == (1, 1)
    other = post_request(client, key, "json", headers=headers, **{**body, "description": "别的事"})
    assert other.status_code == 400
    [(code, description)] = errors(other, "json")
    assert code == 409
    assert description.startswith("This Idempotency-Key was already used for a different request")


def test_a_different_body_with_a_waiting_key_is_refused(client: Client, world: World, key: str):
    body = {"service_code": greening_code(), "description": "路灯不亮", **at_grid_1(world)}
    headers = {"Idempotency-Key": "batch-retry-2"}
    token = token_of(post_request(client, key, "json", headers=headers, **body))
    other = post_request(client, key, "json", headers=headers, **{**body, "description": "别的事"})
    [(code, description)] = errors(other, "json")
    assert (other.status_code, code) == (400, 409)
    assert f"(token {token})" in description
    assert QueuedCase.objects.count() == 1


def test_a_bad_request_is_refused_at_once(client: Client, world: World, key: str) -> None:
    response = post_request(
        client, key, "json", service_code=greening_code(), lat="10.0", long="10.0"
    )
    assert response.status_code == 400
    assert not QueuedCase.objects.exists()


def test_a_refused_token_says_why(client: Client, world: World, key: str) -> None:
    body = {"service_code": greening_code(), "description": "路灯不亮", **at_grid_1(world)}
    token = token_of(post_request(client, key, "json", **body))
    queued = QueuedCase.objects.get(receipt=token)
    QueuedCase.objects.filter(pk=queued.pk).update(
        submission={**queued.submission, "region": "9/9/9"}
    )
    assert process_queue() == Processed(refused=1)
    response = client.get(f"{BASE}/tokens/{token}.json")
    assert response.status_code == 404
    assert errors(response, "json") == [
        (
            404,
            # The reason was stored in the site's language when the queue was processed.
            f"The request with token {token} could not become a case: 该诉求所在的区域已不存在。",
        )
    ]


def test_a_media_url_is_fetched_once_the_case_exists(
    client: Client, world: World, key: str, settings: Any, tmp_path: Any, monkeypatch: Any
) -> None:
    settings.MEDIA_ROOT = tmp_path
    monkeypatch.setattr(media, "download", lambda url: JPEG)
    url = "https://photos.example.com/a.jpg"
    body = {"service_code": greening_code(), "media_url": url, **at_grid_1(world)}
    token = token_of(post_request(client, key, "json", **body))
    process_queue()  # the immediate task backend (tests) fetches at once
    submission = Submission.objects.get(token=token)
    assert (submission.media_url, submission.media_fetched_at is not None) == (url, True)
    assert CaseAttachment.objects.filter(case=submission.case, is_public=False).count() == 1
