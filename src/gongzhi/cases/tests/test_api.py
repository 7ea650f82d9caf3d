from __future__ import annotations

import json

import pytest
from django.test import Client

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.cases.tests.images import PNG
from gongzhi.cases.tests.test_loop import GREENING, submit
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


def client_as(username: str) -> Client:
    token = issue_personal_token(None, username=username, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(client: Client, url: str, body: object):
    return client.post(url, json.dumps(body), content_type="application/json")


def test_a_resident_raises_a_matter_with_a_map_point(world: World):
    category = Category.objects.get(path=GREENING)
    response = post(
        client_as("resident"),
        "/api/v1/cases",
        {
            "title": "路灯不亮",
            "description": "小区北门路灯连续一周不亮，晚上出行不便。我的电话13800138000。",
            "kind": "report",
            "channel": "mobile",
            "category_id": category.pk,
            "latitude": world.grid_1.centre_lat,
            "longitude": world.grid_1.centre_lng,
            "name": "林小雨",
            "phone": "13800138000",
            "address": "华东湾社区北门",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["state"] == "submitted"
    assert len(body["tracking_code"]) == 10
    case = Case.objects.get(pk=body["id"])
    assert (case.region, case.channel, case.reporter.username) == (
        world.grid_1,
        "mobile",
        "resident",
    )

    mine = client_as("resident").get(f"/api/v1/cases/track/{body['tracking_code'].lower()}")
    assert mine.status_code == 200
    assert mine.json()["person"] == {
        "name": "林小雨",
        "phone": "13800138000",
        "address": "华东湾社区北门",
        "is_anonymous": False,
    }
    # A district leader sees the case but not who raised it, nor the number in the text.
    seen = client_as("district_leader").get(f"/api/v1/cases/{case.pk}").json()
    assert seen["person"] == {"name": "林**", "phone": "", "address": "", "is_anonymous": False}
    assert "13800138000" not in json.dumps(seen, ensure_ascii=False)
    assert seen["description"].endswith("我的电话138****8000。")
    assert seen["tracking_code"] is None
    assert seen["latitude"] is None


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (
            {
                "title": "x",
                "description": "y",
                "channel": "hotline",
                "latitude": 31.3,
                "longitude": 118.7,
            },
            403,
            "permission_denied",
        ),
        (
            {"title": "x", "description": "y", "latitude": 0.5, "longitude": 0.5},
            400,
            "outside_the_city",
        ),
        ({"title": "x", "description": "y"}, 400, "invalid_case"),
        (
            {"title": "", "description": "y", "latitude": 31.3, "longitude": 118.7},
            422,
            "invalid_input",
        ),
        (
            {"title": "x", "description": "y", "latitude": 91, "longitude": 118.7},
            422,
            "invalid_input",
        ),
        (
            {
                "title": "x",
                "description": "y",
                "kind": "riot",
                "latitude": 31.3,
                "longitude": 118.7,
            },
            400,
            "invalid_case",
        ),
    ],
)
def test_bad_submissions_are_clear_and_save_nothing(world: World, body, status, code):
    before = Case.objects.count()
    response = post(client_as("resident"), "/api/v1/cases", body)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Case.objects.count() == before


def test_stale_version_and_illegal_transition_are_conflicts(world: World):
    case = submit(world)
    client = client_as("dispatcher")
    stale = post(client, f"/api/v1/cases/{case.pk}/register", {"expected_version": 5})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert stale.json()["details"] == {"version": 1}
    ok = post(client, f"/api/v1/cases/{case.pk}/register", {"expected_version": 1})
    assert ok.status_code == 200
    assert ok.json()["version"] == 2
    again = post(client, f"/api/v1/cases/{case.pk}/register", {})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")
    assert again.json()["details"] == {"state": "registered", "action": "register"}


def test_the_whole_loop_through_the_api(world: World):
    case = submit(world)
    dispatcher, officer = client_as("dispatcher"), client_as("street_officer")
    steps = [
        (dispatcher, "register", {}),
        (dispatcher, "dispatch", {}),
        (officer, "sign-for", {}),
        (officer, "reply", {"reply": "已清运，并加强巡查。"}),
        (client_as("grid_worker"), "verify", {"resolved": True, "note": "现场已干净"}),
        (dispatcher, "close", {}),
        (
            client_as("resident"),
            "follow-up",
            {"resolution": "resolved", "satisfaction": "satisfied"},
        ),
    ]
    for client, action, body in steps:
        response = post(client, f"/api/v1/cases/{case.pk}/{action}", body)
        assert response.status_code == 200, (action, response.content)
    detail = (
        client_as("resident")
        .get(f"/api/v1/cases/{case.pk}", headers={"Accept-Language": "en"})
        .json()
    )
    assert detail["state"] == "closed"
    assert detail["satisfaction"] == "satisfied"
    assert [e["action"] for e in detail["timeline"]] == [
        "submit",
        "register",
        "dispatch",
        "sign_for",
        "reply",
        "verify",
        "close",
        "follow_up",
    ]
    assert [e["label"] for e in detail["timeline"][:3]] == ["Submitted", "Register", "Dispatch"]
    assert detail["state_label"] == "Closed"
    assert detail["available_actions"] == ["follow_up"]
    assert CaseEvent.objects.filter(case=case).count() == 8


def test_photos_are_checked_by_their_bytes(world: World, settings, tmp_path):
    from django.core.files.uploadedfile import SimpleUploadedFile

    settings.MEDIA_ROOT = tmp_path
    case = submit(world)
    client = client_as("resident")
    fake = SimpleUploadedFile("photo.jpg", b"<script>alert(1)</script>", "image/jpeg")
    bad = client.post(f"/api/v1/cases/{case.pk}/attachments", {"file": fake})
    assert (bad.status_code, bad.json()["code"]) == (400, "invalid_case")
    header_only = SimpleUploadedFile("h.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 32, "image/png")
    unreadable = client.post(f"/api/v1/cases/{case.pk}/attachments", {"file": header_only})
    assert (unreadable.status_code, unreadable.json()["code"]) == (400, "invalid_case")
    png = SimpleUploadedFile("x.png", PNG, "image/png")
    good = client.post(f"/api/v1/cases/{case.pk}/attachments", {"file": png})
    assert good.status_code == 201
    assert good.json()["content_type"] == "image/png"
    assert case.attachments.get().file.name.endswith(".png")
    assert "x.png" not in case.attachments.get().file.name


def test_categories_are_the_shipped_tree(world: World):
    categories = client_as("resident").get("/api/v1/categories").json()
    assert len([c for c in categories if c["level"] == 1]) == 15
    assert len([c for c in categories if c["level"] == 3]) == 517
