"""POST requests: what becomes of a submission, exactly once, and what the public then reads.

Given an integration key of the city command centre, when a client submits a service request
(each location form, attributes of each datatype, photos), then one case arrives through
``cases.services.submit_case`` on channel open311, and the public reads it without the
personal data the client sent.
"""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import connection
from django.test import Client

from gongzhi.accounts.auth import find_valid_key
from gongzhi.cases import services as case_services
from gongzhi.cases.choices import Channel
from gongzhi.cases.tests.test_loop import GREENING, submit
from gongzhi.demo.testing import World
from gongzhi.open311 import media, services
from gongzhi.open311.queries import Case, CaseAttachment, CaseEvent, Submission
from gongzhi.open311.tests.support import (
    BASE,
    JPEG,
    PNG,
    at_grid_1,
    client_key,
    errors,
    greening_code,
    post_request,
    rows,
    submitted,
)

PERSONAL = {
    "first_name": "小雨",
    "last_name": "林",
    "phone": "13800138000",
    "email": "lin.xiaoyu@example.com",
    "device_id": "device-42",
    "account_id": "account-42",
}


@pytest.fixture
def client() -> Client:
    return Client(headers={"Accept-Language": "en"})


@pytest.fixture
def key(world: World) -> str:
    return client_key(world)


def test_a_submission_becomes_a_case_with_the_answers(client: Client, world: World, key: str):
    case = submitted(
        client,
        world,
        key,
        description="华东湾社区3号楼门口垃圾堆放三天。",
        address_string="华东湾社区3号楼",
        **{
            "attribute[title]": "垃圾无人清运",
            "attribute[kind]": "complaint",
            "attribute[urgency]": "urgent",
            "attribute[noticed_at]": "2026-11-27T09:30:00+08:00",
            "attribute[people_affected]": "30",
            "attribute[affects][]": ["children", "pedestrians", "children"],
            "attribute[location_detail]": "北门东侧",
            "attribute[emergency_notice]": "ignored: not a question",
            "attribute[unknown]": "ignored",
        },
        **PERSONAL,
    )
    assert case.title == "垃圾无人清运"
    assert (case.kind, case.urgency, case.channel) == ("complaint", "urgent", Channel.OPEN311)
    assert case.category.path == GREENING
    assert case.region == world.grid_1  # lat/long decide the region; the address is kept
    assert case.address == "华东湾社区3号楼"
    assert (case.reporter_name, case.reporter_phone) == ("林小雨", "13800138000")
    assert case.reporter is None
    # Answers that are not case fields follow the description, in the staff's language.
    assert case.description == (
        "华东湾社区3号楼门口垃圾堆放三天。\n\n"
        "发现时间：2026-11-27T09:30:00+08:00\n"
        "受影响人数：30\n"
        "影响对象：儿童、行人\n"
        "如何找到现场：北门东侧"
    )
    event = CaseEvent.objects.get(case=case)
    assert (event.action, event.data["channel"]) == ("submit", "open311")
    submission = Submission.objects.get(case=case)
    assert submission.api_key == find_valid_key(key)


def test_the_defaults_of_a_bare_submission(client: Client, world: World, key: str):
    case = submitted(client, world, key)
    assert case.title == "园林绿化环卫"  # the service name
    assert case.description == "园林绿化环卫"
    assert (case.kind, case.urgency) == ("report", "normal")
    assert case.reporter_name == ""


def test_an_address_id_is_a_region_code(client: Client, world: World, key: str):
    response = post_request(
        client, key, "json", service_code=greening_code(), address_id=world.community_1.code
    )
    assert response.status_code == 200
    case = Case.objects.get(number=json.loads(response.content)[0]["service_request_id"])
    assert case.region == world.community_1
    assert (case.latitude, case.longitude) == (None, None)


def test_an_unknown_address_id_is_400(client: Client, world: World, key: str):
    response = post_request(client, key, "json", service_code=greening_code(), address_id="123")
    assert response.status_code == 400
    assert "address_id 123" in errors(response, "json")[0][1]


@pytest.mark.parametrize(
    ("address", "expected"),
    [
        ("明湖区春山街道华东湾社区3号楼", "community_1"),
        ("春山街道 华东湾社区 北门", "community_1"),
        ("明湖区春山街道", "street_1"),
        ("东岳区某处", "district_2"),
        ("月球背面", "city"),  # names no region: the city's command centre dispatches it
    ],
)
def test_an_address_string_finds_its_region(client, world: World, key, address, expected):
    response = post_request(
        client, key, "json", service_code=greening_code(), address_string=address
    )
    assert response.status_code == 200
    case = Case.objects.get(number=json.loads(response.content)[0]["service_request_id"])
    assert case.region == getattr(world, expected)
    assert case.address == address


def test_a_point_outside_the_city_is_400(client: Client, world: World, key: str):
    response = post_request(
        client, key, "json", service_code=greening_code(), lat="39.9", long="116.4"
    )
    assert response.status_code == 400
    assert "outside 示范市" in errors(response, "json")[0][1]


def test_a_required_attribute_must_be_answered(client, world: World, key, monkeypatch):
    from gongzhi.open311 import arguments
    from gongzhi.open311.choices import ATTRIBUTES

    required = [a if a.code != "people_affected" else _required(a) for a in ATTRIBUTES]
    monkeypatch.setattr(arguments, "ATTRIBUTES", tuple(required))
    response = post_request(client, key, "json", service_code=greening_code(), **at_grid_1(world))
    assert response.status_code == 400
    assert "attribute[people_affected] is required" in errors(response, "json")[0][1]


def _required(attribute: Any) -> Any:
    from dataclasses import replace

    return replace(attribute, required=True)


@pytest.mark.parametrize(
    ("field", "value", "fragment"),
    [
        ("attribute[kind]", "dispute", "dispute is not one of"),
        ("attribute[affects][]", ["children", "aliens"], "aliens is not one of"),
        ("attribute[urgency]", ["normal", "urgent"], "one value, not several"),
        ("attribute[noticed_at]", "last Tuesday", "ISO 8601"),
        ("attribute[people_affected]", "nan", "number"),
        ("attribute[title]", "题" * 201, "longer than 200"),
        ("media_url", "file:///etc/passwd", "media_url"),
    ],
)
def test_wrong_answers_are_400(client, world: World, key, field, value, fragment):
    before = Case.objects.count()
    response = post_request(
        client, key, "json", service_code=greening_code(), **at_grid_1(world), **{field: value}
    )
    assert response.status_code == 400
    assert fragment in errors(response, "json")[0][1]
    assert Case.objects.count() == before


# --- Idempotency-Key -------------------------------------------------------------------------


def test_a_retried_post_creates_one_case(client: Client, world: World, key: str):
    body = {"service_code": greening_code(), "description": "路灯不亮", **at_grid_1(world)}
    headers = {"Idempotency-Key": "7f0c-retry-1"}
    first = post_request(client, key, "json", headers=headers, **body)
    again = post_request(client, key, "xml", headers=headers, **body)
    assert first.status_code == again.status_code == 200
    assert again["Idempotent-Replayed"] == "true"
    number = json.loads(first.content)[0]["service_request_id"]
    assert rows(again, "xml", "service_requests", "request")[0]["service_request_id"] == number
    assert Case.objects.filter(channel="open311").count() == 1


def test_the_same_key_with_another_body_is_refused(client: Client, world: World, key: str):
    headers = {"Idempotency-Key": "7f0c-retry-2"}
    post_request(client, key, headers=headers, service_code=greening_code(), **at_grid_1(world))
    response = post_request(
        client,
        key,
        headers=headers,
        service_code=greening_code(),
        description="another matter",
        **at_grid_1(world),
    )
    assert response.status_code == 400
    [(code, description)] = errors(response, "json")
    assert code == 409
    assert "Idempotency-Key was already used" in description
    assert Case.objects.filter(channel="open311").count() == 1


def test_another_photo_is_another_body(client, world: World, key: str, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path

    def send(content: bytes) -> Any:
        return client.post(
            f"{BASE}/requests.json",
            {
                "api_key": key,
                "service_code": greening_code(),
                **at_grid_1(world),
                "media": SimpleUploadedFile("p.jpg", content),
            },
            headers={"Idempotency-Key": "photo-retry"},
        )

    assert send(JPEG).status_code == 200
    assert send(JPEG)["Idempotent-Replayed"] == "true"
    refused = send(JPEG + b"another")
    assert refused.status_code == 400
    assert errors(refused, "json")[0][0] == 409
    assert CaseAttachment.objects.filter(case__channel="open311").count() == 1


def test_idempotency_keys_belong_to_one_client(client: Client, world: World, key: str):
    other = client_key(world, "Another client")
    headers = {"Idempotency-Key": "shared-key"}
    body = {"service_code": greening_code(), **at_grid_1(world)}
    post_request(client, key, headers=headers, **body)
    post_request(client, other, headers=headers, **body)
    assert Case.objects.filter(channel="open311").count() == 2


def test_without_a_key_each_post_is_a_new_case(client: Client, world: World, key: str):
    body = {"service_code": greening_code(), **at_grid_1(world)}
    post_request(client, key, **body)
    post_request(client, key, **body)
    assert Case.objects.filter(channel="open311").count() == 2


def test_a_malformed_idempotency_key_is_400(client: Client, world: World, key: str):
    response = post_request(
        client,
        key,
        headers={"Idempotency-Key": "x" * 101},
        service_code=greening_code(),
        **at_grid_1(world),
    )
    assert response.status_code == 400
    assert "Idempotency-Key" in errors(response, "json")[0][1]


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_retries_create_one_case(ensure_demo_city: None):
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent connections")
    world = World.load()
    key = client_key(world)
    body = {"service_code": greening_code(), **at_grid_1(world)}
    numbers: list[str] = []
    barrier = threading.Barrier(4)

    def retry() -> None:
        try:
            barrier.wait()
            response = post_request(Client(), key, headers={"Idempotency-Key": "race"}, **body)
            numbers.append(json.loads(response.content)[0]["service_request_id"])
        finally:
            connection.close()

    threads = [threading.Thread(target=retry) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(numbers) == 4
    assert len(set(numbers)) == 1
    assert Submission.objects.filter(idempotency_key="race").count() == 1
    assert Case.objects.filter(number=numbers[0]).count() == 1


# --- Photos ----------------------------------------------------------------------------------


def test_photos_upload_with_the_request(client: Client, world: World, key: str, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    response = client.post(
        f"{BASE}/requests.json",
        {
            "api_key": key,
            "service_code": greening_code(),
            **at_grid_1(world),
            "media": SimpleUploadedFile("p.jpg", JPEG, content_type="image/jpeg"),
            "media[]": SimpleUploadedFile("q.png", PNG, content_type="image/png"),
        },
    )
    assert response.status_code == 200, response.content
    case = Case.objects.get(channel="open311")
    photos = CaseAttachment.objects.filter(case=case).order_by("content_type")
    assert [p.content_type for p in photos] == ["image/jpeg", "image/png"]
    assert not any(p.is_public for p in photos)  # unreviewed photos are never published


def test_a_file_that_is_no_photo_undoes_the_submission(
    client, world: World, key, settings, tmp_path
):
    settings.MEDIA_ROOT = tmp_path
    response = client.post(
        f"{BASE}/requests.xml",
        {
            "api_key": key,
            "service_code": greening_code(),
            **at_grid_1(world),
            "media": SimpleUploadedFile("x.jpg", b"<?php evil(); ?>"),
        },
    )
    assert response.status_code == 400
    assert "JPEG, PNG and WebP" in errors(response, "xml")[0][1]
    assert not Case.objects.filter(channel="open311").exists()


def test_a_media_url_is_fetched_by_the_task_queued_with_the_case(
    client, world: World, key, settings, tmp_path, monkeypatch
):
    settings.MEDIA_ROOT = tmp_path
    fetched: list[str] = []

    def fake_download(url: str) -> bytes:
        fetched.append(url)
        return JPEG

    monkeypatch.setattr(media, "download", fake_download)
    case = submitted(client, world, key, media_url="https://photos.example.com/a.jpg")
    assert fetched == ["https://photos.example.com/a.jpg"]
    assert CaseAttachment.objects.filter(case=case, is_public=False).count() == 1
    submission = Submission.objects.get(case=case)
    assert submission.media_fetched_at is not None
    # Running the task again attaches nothing more.
    assert services.fetch_media_task.call(str(submission.pk)) is False
    assert CaseAttachment.objects.filter(case=case).count() == 1


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1/x.jpg",
        "http://localhost/x.jpg",
        "http://10.0.0.1/x.jpg",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/x.jpg",
        "ftp://example.com/x.jpg",
    ],
)
def test_media_urls_to_our_own_network_are_refused(url: str):
    with pytest.raises(media.RefusedMedia):
        media.check_public(url)


# --- What the public reads -------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_no_personal_data_is_ever_returned(client: Client, world: World, key: str, fmt: str):
    case = submitted(
        client,
        world,
        key,
        description="我是林小雨，电话13800138000，邮箱lin.xiaoyu@example.com，住3号楼501室。",
        address_string="华东湾社区3号楼501室",
        lat="31.3712345",
        long="118.7456789",
        **PERSONAL,
    )
    for path in [
        f"requests.{fmt}?extensions=true",
        f"requests/{case.number}.{fmt}?extensions=true",
        f"servicerequestupdates.{fmt}",
    ]:
        body = client.get(f"{BASE}/{path}").content.decode("utf-8")
        for secret in [
            "林小雨",
            "13800138000",
            "lin.xiaoyu@example.com",
            "501室",
            "3号楼",
            "device-42",
            "account-42",
            "31.3712345",
            "118.7456789",
        ]:
            assert secret not in body, (path, secret)
    [found] = rows(
        client.get(f"{BASE}/requests/{case.number}.{fmt}"), fmt, "service_requests", "request"
    )
    # (core.redaction's e-mail pattern also takes the Chinese word before the address.)
    assert found["description"] == "我是林**，电话138****8000，邮箱***@***，住*号楼*室。"
    assert str(found["lat"]) == "31.371"
    assert str(found["long"]) == "118.746"


def test_disputes_risk_clues_and_petitions_are_never_published(client: Client, world: World):
    dispute = _raised(world, kind="dispute", channel=Channel.HOTLINE)
    clue = _raised(world, kind="risk_clue", channel=Channel.GRID_PATROL)
    petition = _raised(world, kind="complaint", channel=Channel.LETTERS_VISITS)
    public = submit(world)
    listed = [
        r["service_request_id"] for r in rows(client.get(f"{BASE}/requests.json"), "json", "", "")
    ]
    assert listed == [public.number]
    for hidden in (dispute, clue, petition):
        assert client.get(f"{BASE}/requests/{hidden.number}.json").status_code == 404


def _raised(world: World, *, kind: str, channel: str) -> Case:
    return case_services.submit_case(
        case_services.NewCase(
            title="邻里纠纷",
            description="楼上楼下因漏水发生纠纷。",
            kind=kind,
            channel=channel,
            region=world.grid_1,
        ),
        actor=world.persona("dispatcher"),
    )


def test_a_staff_session_reads_what_the_public_reads(world: World, key: str):
    anonymous = Client()
    case = submitted(anonymous, world, key, **PERSONAL)
    staff = Client()
    staff.force_login(world.persona("dispatcher"))
    path = f"{BASE}/requests/{case.number}.json?extensions=true"
    assert staff.get(path).content == anonymous.get(path).content


# --- Rate limits -----------------------------------------------------------------------------


def test_an_address_over_its_limit_gets_429(client: Client, world: World, settings):
    settings.GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (3, 60)
    statuses = [client.get(f"{BASE}/services.json").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    response = client.get(f"{BASE}/discovery.xml")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    [(code, description)] = errors(response, "xml")
    assert code == 429
    assert "Too many requests" in description
    other = Client(REMOTE_ADDR="198.51.100.7")
    assert other.get(f"{BASE}/services.json").status_code == 200


def test_a_key_has_its_own_allowance(client: Client, world: World, key: str, settings):
    settings.GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (2, 60)
    settings.GONGZHI_OPEN311_RATE_LIMIT_KEY = (3, 60)
    keyed = [
        client.get(f"{BASE}/services.json", headers={"X-Api-Key": key}).status_code
        for _ in range(4)
    ]
    assert keyed == [200, 200, 200, 429]
    assert client.get(f"{BASE}/services.json").status_code == 200  # the address's own bucket


def test_a_get_with_a_wrong_key_is_403(client: Client, world: World):
    response = client.get(f"{BASE}/services.json", headers={"X-Api-Key": "gz_no_no"})
    assert response.status_code == 403


# --- The demo client -------------------------------------------------------------------------


def test_the_demo_prints_a_usable_key_each_run(world: World, capsys):
    call_command("demo", "--small")
    first = _printed_key(capsys.readouterr().out)
    call_command("demo", "--small")
    second = _printed_key(capsys.readouterr().out)
    assert first != second
    assert find_valid_key(first) is None  # the previous one was revoked
    found = find_valid_key(second)
    assert found is not None
    assert (found.name, found.unit) == ("Open311 demo client", world.command_centre)


def _printed_key(out: str) -> str:
    line = next(line for line in out.splitlines() if line.startswith("Open311 demo client key"))
    return line.rsplit(" ", 1)[1]
