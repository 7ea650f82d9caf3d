"""Triage's API: hot issues of a region, for those who see the region's cases."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.accounts.services import issue_personal_token
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.triage.models import HotIssueSnapshot

COVERED_OPERATIONS = {"list_hot_issues"}
ANON = "anonymous"
# Who sees the cases of 明湖区 (view_cases over the district or the city).
SEES_DISTRICT = {"district_leader", "dispatcher", "city_admin", "auditor", "assessor"}
PERSONAS = [
    ANON,
    "resident",
    "grid_worker",
    "dispatcher",
    "street_officer",
    "handler",
    "district_leader",
    "city_admin",
    "auditor",
    "mediator",
    "assessor",
]


def client_as(persona: str) -> Client:
    if persona == ANON:
        return Client()
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


@pytest.mark.parametrize("persona", PERSONAS)
def test_hot_issues_of_a_district(persona: str, world: World) -> None:
    now = timezone.now()
    case_id = "00000000-0000-0000-0000-0000000000aa"
    HotIssueSnapshot.objects.create(
        region_path=world.district_1.path,
        computed_at=now,
        issues=[
            {
                "label": "华东湾 垃圾",
                "keywords": ["垃圾", "清运"],
                "heat": 3.5,
                "heat_parts": {},
                "case_count": 2,
                "poster_count": 2,
                "recent_count": 2,
                "earlier_count": 0,
                "first_at": now.isoformat(),
                "last_at": now.isoformat(),
                "cases": [
                    {
                        "id": case_id,
                        "number": f"20260101-0000{i}",
                        "title": "门口垃圾，联系13800138000",
                        "region_path": world.grid_1.path,
                        "submitted_at": now.isoformat(),
                        "state": "submitted",
                    }
                    for i in (1, 2)
                ],
            }
        ],
    )
    response = client_as(persona).get(f"/api/v1/hot-issues?region_id={world.district_1.pk}")
    if persona == ANON:
        assert response.status_code == 401
        return
    if persona not in SEES_DISTRICT:
        assert response.status_code == 404
        assert response.json()["code"] == "not_found"
        return
    assert response.status_code == 200
    [issue] = response.json()
    assert (issue["label"], issue["case_count"], issue["heat"]) == ("华东湾 垃圾", 2, 3.5)
    assert [c["number"] for c in issue["cases"]] == ["20260101-00001", "20260101-00002"]
    assert "13800138000" not in response.content.decode()
