"""The JSON API of indicator systems: results with exact values, a full round trip, errors."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.accounts.services import issue_personal_token
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.evaluation.models import IndicatorScore, RectificationItem
from gongzhi.evaluation.tests.assessment_fixtures import (
    active_system,
    assessment_of,
    indicator,
    listed_system,
    scored_system,
    subject_item,
)


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English (the msgids); the site itself speaks Chinese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def api(persona: str) -> Client:
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def test_the_results_of_a_system(world: World):
    system = scored_system(world)
    body = api("auditor").get(f"/api/v1/evaluation/systems/{system.pk}").json()
    assert (body["name"], body["state"], body["first_month"], body["last_month"]) == (
        "2026年3月 试评",
        "active",
        "2026-03",
        "2026-03",
    )
    assert [i["code"] for i in body["indicators"]] == ["1", "1.1", "1.2", "1.3", "2", "3"]
    assert body["indicators"][2]["rule"] == {
        "kind": "thresholds",
        "steps": [["0.95", "20"], ["0.90", "15"], ["0.80", "8"]],
    }
    assert [
        (r["name"], r["position"], r["total"], r["group_points"], r["points"])
        for r in body["results"]
    ] == [
        (
            world.district_2.name,
            1,
            "80.00",
            {"1": "55.00"},
            {"1.1": "20.00", "1.2": "15.00", "1.3": "20.00", "2": "15.00", "3": "10.00"},
        ),
        (
            world.district_1.name,
            2,
            "59.33",
            {"1": "27.33"},
            {"1.1": "4.00", "1.2": "20.00", "1.3": "3.33", "2": "27.00", "3": "5.00"},
        ),
    ]
    west = assessment_of(system, world.district_1.name)
    scores = api("auditor").get(f"/api/v1/evaluation/assessments/{west.pk}").json()["scores"]
    assert [(s["code"], s["shown_value"], s["points"], s["is_computed"]) for s in scores] == [
        ("1.1", "50.00%", "4.00", True),
        ("1.2", "95.00%", "20.00", True),
        ("1.3", "25.00%", "3.33", True),
        ("2", "0.962", "27.00", False),
        ("3", "1", "5.00", False),
    ]


def test_entering_a_score(world: World):
    system = active_system(world)
    west = assessment_of(system, world.district_1.name)
    url = f"/api/v1/evaluation/assessments/{west.pk}/scores"
    client = api("assessor")
    wrong = post(
        client, url, {"indicator_id": indicator(system, "3").pk, "value": "1.5", "evidence": "x"}
    )
    assert wrong.status_code == 400
    assert wrong.json() == {
        "code": "invalid_input",
        "message": "Count the events: a whole number, 0 or more.",
        "details": {"field": "value"},
    }
    finer = post(
        client,
        url,
        {"indicator_id": indicator(system, "2").pk, "value": "0.96251", "evidence": "x"},
    )
    assert (finer.status_code, finer.json()) == (
        400,
        {
            "code": "invalid_input",
            "message": "Value may have at most 4 decimal places.",
            "details": {"field": "value"},
        },
    )
    ok = post(
        client,
        url,
        {"indicator_id": indicator(system, "2").pk, "value": "0.962", "evidence": "调查报告"},
    )
    assert ok.status_code == 200
    assert (ok.json()["points"], ok.json()["entered_by"]) == ("27.00", "assessor")
    assert IndicatorScore.objects.filter(assessment=west, is_computed=False).count() == 1


def test_a_rectification_round_trip(world: World):
    system = listed_system(world)
    item = subject_item(system, world)
    leader = api("district_leader")
    mine = leader.get("/api/v1/evaluation/rectifications?mine=true&state=open").json()
    assert mine["count"] == 4
    assert {i["owner_unit_name"] for i in mine["items"]} == {f"{world.district_1.name}人民政府"}
    url = f"/api/v1/evaluation/rectifications/{item.pk}"
    submitted = post(leader, f"{url}/submit", {"report": "已整改", "evidence_reference": "1号"})
    assert submitted.json()["state"] == "submitted"
    again = post(leader, f"{url}/submit", {"report": "再次报送"})
    assert again.status_code == 409
    assert again.json()["code"] == "wrong_state"
    rejected = post(api("assessor"), f"{url}/reject", {"reason": "材料不全"})
    assert [(e["action"], e["to_state"]) for e in rejected.json()["events"]] == [
        ("create", "open"),
        ("submit", "submitted"),
        ("reject", "open"),
    ]
    assert RectificationItem.objects.get(pk=item.pk).state == "open"


def test_creating_a_system_and_its_indicators(world: World):
    admin = api("city_admin")
    created = post(
        admin,
        "/api/v1/evaluation/systems",
        {
            "name": "2027年度考评",
            "kind": "annual",
            "region_id": world.city.pk,
            "first_month": "2027-01",
            "last_month": "2027-12",
            "subject_level": 2,
        },
    )
    assert created.status_code == 201
    system_id = created.json()["id"]
    bad = post(
        admin,
        f"/api/v1/evaluation/systems/{system_id}/indicators",
        {
            "code": "1",
            "name": "响应率",
            "weight": "10",
            "source": "computed",
            "figure": "response_rate",
            "rule": {"kind": "linear", "floor": "1", "target": "1"},
        },
    )
    assert bad.status_code == 400
    assert bad.json()["details"] == {"field": "rule", "problem": "linear_flat"}
    wrong_month = post(
        admin,
        "/api/v1/evaluation/systems",
        {
            "name": "x",
            "kind": "annual",
            "region_id": world.city.pk,
            "first_month": "2027-13",
            "subject_level": 2,
        },
    )
    assert wrong_month.status_code == 400
