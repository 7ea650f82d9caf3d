"""The evaluation API: figures, rankings, publishing and score schemes, with the exact values
of the fixed cases (fixtures.py, test_figures.py) and the error bodies of the one handler.
Who may call what is the permission matrix's job (tests/test_permission_matrix_evaluation.py).
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases.models import Case
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.evaluation import services
from gongzhi.evaluation.models import Ranking, ScoreScheme
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

MARCH = dt.date(2026, 3, 1)
NAMES = [
    "response_rate",
    "sign_on_time_rate",
    "resolution_rate",
    "satisfaction_rate",
    "on_time_closure_rate",
    "return_rate",
    "rework_rate",
    "repeat_rate",
    "average_handling_hours",
]
EMPTY = dict.fromkeys(NAMES)
DISTRICT_1 = {
    "response_rate": 0.5,
    "sign_on_time_rate": pytest.approx(1 / 3),
    "resolution_rate": 0.75,
    "satisfaction_rate": pytest.approx(0.95),
    "on_time_closure_rate": 0.5,
    "return_rate": 0.25,
    "rework_rate": 0.0,
    "repeat_rate": 0.0,
    "average_handling_hours": 218.25,
}


@pytest.fixture
def tallied(world: World) -> World:
    load_cases(world)
    rebuild_tallies(NOW)
    return world


def client_as(username: str) -> Client:
    token = issue_personal_token(None, username=username, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})


def send(client: Client, method: str, url: str, body: object) -> Any:
    return client.generic(method, url, json.dumps(body), content_type="application/json")


def test_figures_of_a_district_with_month_on_month_and_year_on_year(tallied: World):
    response = client_as("district_leader").get(
        f"/api/v1/evaluation/figures?region={tallied.district_1.pk}&from=2026-03&to=2026-03"
    )
    assert response.status_code == 200
    body = response.json()
    unit = Case.objects.get(number="H20260309-00001").unit
    assert body == {
        "region": {
            "id": tallied.district_1.pk,
            "name": "明湖区",
            "code": "990102000000",
            "level": 2,
        },
        "period": {"first": "2026-03", "last": "2026-03", "label": "2026-03"},
        "computed_at": "2026-04-02T04:00:00Z",
        "counts": {
            "submitted_count": 4,
            "repeat_count": 0,
            "assigned_count": 4,
            "response_due_count": 4,
            "responded_on_time_count": 2,
            "signed_on_time_count": 1,
            "returned_count": 1,
            "closed_count": 2,
            "closed_on_time_count": 1,
            "reworked_count": 0,
            "handling_hours": 436.5,
            "rated_count": 2,
            "resolved_count": 1,
            "partly_resolved_count": 1,
            "satisfied_count": 1,
            "basically_satisfied_count": 1,
        },
        "case_count": 4,
        "indicators": DISTRICT_1,
        "score": "80.50",
        "grade": "B",
        "mom": {
            "indicators": {
                "response_rate": -0.5,
                "sign_on_time_rate": pytest.approx(-2 / 3),
                "resolution_rate": -0.25,
                "satisfaction_rate": pytest.approx(0.95),
                "on_time_closure_rate": -0.5,
                "return_rate": 0.25,
                "rework_rate": 0.0,
                "repeat_rate": 0.0,
                "average_handling_hours": 191.75,
            },
            "score": "20.50",
        },
        "yoy": {"indicators": EMPTY, "score": None},
        "children": [
            {
                "id": tallied.street_1.pk,
                "name": "春山街道",
                "case_count": 4,
                "indicators": DISTRICT_1,
                "score": "80.50",
                "grade": "B",
            },
            {
                "id": body["children"][1]["id"],
                "name": "柳秀街道",
                "case_count": 0,
                "indicators": EMPTY,
                "score": None,
                "grade": "",
            },
        ],
        "units": [
            {
                "id": unit.pk,
                "name": unit.name,
                "case_count": 4,
                "indicators": DISTRICT_1,
                "score": "80.50",
                "grade": "B",
            }
        ],
    }


def test_figures_default_to_the_top_of_the_scope(tallied: World):
    body = client_as("dispatcher").get("/api/v1/evaluation/figures?from=2026-03").json()
    assert (body["region"]["name"], body["score"], body["mom"]["score"]) == (
        "示范市",
        "85.00",
        "25.00",
    )
    assert [(c["name"], c["score"]) for c in body["children"]] == [
        ("春山街道", "80.50"),
        ("柳秀街道", None),
        (tallied.street_of_district_2.name, "96.00"),
    ]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13", "“2026-13” is not a month: write it as YYYY-MM, e.g. 2026-11."),
        ("from=2026-05&to=2026-03", "The period ends before it starts."),
    ],
)
def test_a_bad_month_is_a_clear_error(tallied: World, query: str, message: str):
    response = client_as("dispatcher").get(f"/api/v1/evaluation/figures?{query}")
    assert response.status_code == 400
    assert response.json() == {"code": "invalid_input", "message": message, "details": {}}


def test_publish_read_and_correct_a_ranking(tallied: World):
    client = client_as("assessor")
    body = {"region": tallied.city.pk, "month": "2026-03", "subject": "street"}
    response = send(client, "POST", "/api/v1/evaluation/rankings", body)
    assert response.status_code == 201
    published = response.json()
    ranking = Ranking.objects.get()
    assert {k: v for k, v in published.items() if not k.endswith("_at") and k != "entries"} == {
        "id": ranking.pk,
        "month": "2026-03",
        "subject": "street",
        "subject_label": "Streets and towns",
        "region": {"id": tallied.city.pk, "name": "示范市", "code": "990100000000", "level": 1},
        "version": 1,
        "is_current": True,
        "correction_reason": "",
        "scheme": {
            "response_weight": "10",
            "resolution_weight": "50",
            "satisfaction_weight": "40",
            "basically_satisfied_value": "0.90",
            "partly_resolved_value": "0.50",
            "grade_a": "90",
            "grade_b": "75",
            "grade_c": "60",
            "grade_d": "40",
            "list_size": 3,
            "min_cases": 1,
        },
    }
    assert [
        (e["position"], e["name"], e["score"], e["grade"], e["listed"], e["case_count"])
        for e in published["entries"]
    ] == [
        (1, tallied.street_of_district_2.name, "96.00", "A", "red", 1),
        (2, "春山街道", "80.50", "B", "black", 4),
        (None, "柳秀街道", None, "", "", 0),
    ]
    assert published["entries"][1]["indicators"] == DISTRICT_1
    assert published["entries"][1]["region_id"] == tallied.street_1.pk

    again = send(client, "POST", "/api/v1/evaluation/rankings", body)
    assert again.status_code == 409
    assert again.json()["code"] == "already_published"
    assert again.json()["details"] == {"ranking": ranking.pk}
    assert Ranking.objects.count() == 1

    corrected = send(
        client, "POST", "/api/v1/evaluation/rankings", {**body, "correction_reason": "回访更正"}
    )
    assert corrected.status_code == 201
    assert (corrected.json()["version"], corrected.json()["correction_reason"]) == (2, "回访更正")

    listed = client_as("auditor").get("/api/v1/evaluation/rankings").json()
    assert (listed["count"], [i["version"] for i in listed["items"]]) == (2, [2, 1])
    current = client_as("auditor").get("/api/v1/evaluation/rankings?current=true").json()
    assert [i["id"] for i in current["items"]] == [corrected.json()["id"]]
    one = client_as("auditor").get(f"/api/v1/evaluation/rankings/{ranking.pk}").json()
    assert (one["version"], one["is_current"]) == (1, False)


def test_rankings_are_filtered_and_scoped(tallied: World):
    services.publish_ranking(
        tallied.city, month=MARCH, subject="street", actor=tallied.persona("assessor"), now=NOW
    )
    unit_ranking = services.publish_ranking(
        tallied.district_1,
        month=MARCH,
        subject="unit",
        actor=tallied.persona("district_leader"),
        now=NOW,
    )
    city = client_as("dispatcher")
    by = {
        "": 2,
        "?subject=unit": 1,
        f"?region={tallied.district_1.pk}": 1,
        "?month=2026-02": 0,
        "?month=2026-03&limit=1": 2,
    }
    for query, count in by.items():
        assert city.get(f"/api/v1/evaluation/rankings{query}").json()["count"] == count, query
    mine = client_as("district_leader").get("/api/v1/evaluation/rankings").json()
    assert [i["id"] for i in mine["items"]] == [unit_ranking.pk]
    outside = client_as("district_leader").get(
        f"/api/v1/evaluation/rankings?region={tallied.city.pk}"
    )
    assert outside.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"subject": "people"}, 400, "invalid_input"),
        ({"month": "March"}, 400, "invalid_input"),
        ({"month": "2099-01"}, 400, "invalid_input"),
        ({"region": 999999}, 404, "not_found"),
    ],
)
def test_what_cannot_be_published(tallied: World, body: dict[str, Any], status: int, code: str):
    payload = {"region": tallied.district_1.pk, "month": "2026-03", "subject": "street", **body}
    response = send(client_as("district_leader"), "POST", "/api/v1/evaluation/rankings", payload)
    assert (response.status_code, response.json()["code"]) == (status, code)
    assert Ranking.objects.count() == 0


def test_set_a_score_scheme(tallied: World):
    admin = client_as("city_admin")  # signing in is recorded: before the count
    audits = AuditEvent.objects.count()
    response = send(
        admin,
        "PUT",
        f"/api/v1/evaluation/schemes/{tallied.district_1.pk}",
        {"response_weight": 20, "resolution_weight": "40", "basically_satisfied_value": 0.8},
    )
    assert response.status_code == 200
    body = response.json()
    del body["updated_at"]
    assert body == {
        "region": {
            "id": tallied.district_1.pk,
            "name": "明湖区",
            "code": "990102000000",
            "level": 2,
        },
        "response_weight": "20.00",
        "resolution_weight": "40.00",
        "satisfaction_weight": "40.00",
        "basically_satisfied_value": "0.80",
        "partly_resolved_value": "0.50",
        "grade_a": "90.00",
        "grade_b": "75.00",
        "grade_c": "60.00",
        "grade_d": "40.00",
        "list_size": 3,
        "min_cases": 1,
    }
    assert AuditEvent.objects.count() == audits + 1
    figures = client_as("city_admin").get(
        f"/api/v1/evaluation/figures?region={tallied.district_1.pk}&from=2026-03"
    )
    # 20 % x 0.5 + 40 % x 0.75 + 40 % x (1 + 0.8) / 2 = 10 + 30 + 36
    assert figures.json()["score"] == "76.00"


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"grade_a": 50}, 400),
        ({"partly_resolved_value": 2}, 400),
        ({"list_size": "many"}, 422),
    ],
)
def test_a_refused_scheme_changes_nothing(tallied: World, body: dict[str, Any], status: int):
    response = send(
        client_as("city_admin"), "PUT", f"/api/v1/evaluation/schemes/{tallied.district_1.pk}", body
    )
    assert response.status_code == status
    assert set(response.json()) == {"code", "message", "details"}
    assert ScoreScheme.objects.count() == 0


def test_the_score_of_a_published_ranking_is_a_decimal_string(tallied: World):
    ranking = services.publish_ranking(
        tallied.district_1,
        month=MARCH,
        subject="unit",
        actor=tallied.persona("district_leader"),
        now=NOW,
    )
    body = client_as("district_leader").get(f"/api/v1/evaluation/rankings/{ranking.pk}").json()
    assert Decimal(body["entries"][0]["score"]) == Decimal("80.50")
    publisher = tallied.persona("district_leader")
    shown = json.dumps(body, ensure_ascii=False)
    assert publisher.display_name not in shown  # who published is not in the API
    assert publisher.username not in shown


def test_the_operations_are_in_the_openapi_document(world: World):
    paths = client_as("dispatcher").get("/api/v1/openapi.json").json()["paths"]
    assert {
        method: sorted(paths[path])
        for method, path in [
            ("figures", "/api/v1/evaluation/figures"),
            ("rankings", "/api/v1/evaluation/rankings"),
            ("ranking", "/api/v1/evaluation/rankings/{ranking_id}"),
            ("scheme", "/api/v1/evaluation/schemes/{region_id}"),
        ]
    } == {
        "figures": ["get"],
        "rankings": ["get", "post"],
        "ranking": ["get"],
        "scheme": ["put"],
    }
    parameters = paths["/api/v1/evaluation/figures"]["get"]["parameters"]
    assert [p["name"] for p in parameters] == ["region", "from", "to"]
