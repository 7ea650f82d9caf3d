"""The pages of indicator systems and rectification lists: what they show, forms and errors."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation.models import IndicatorScore, RectificationItem
from gongzhi.evaluation.tests.assessment_fixtures import (
    DEADLINE,
    active_system,
    assessment_of,
    closed_system,
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


QUERIES = 6  # session, user, memberships, count, page, notices badge


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_the_system_page_shows_the_roll_up(world: World):
    system = scored_system(world)
    page = text(client_for("assessor").get(f"/evaluation/systems/{system.pk}/"))
    results = page.split('data-testid="results"')[1].split("</table>")[0]
    rows = re.findall(r"<tr>(.*?)</tr>", results)
    cells = [c for c in (re.findall(r"<td[^>]*>(.*?)</td>", row) for row in rows) if c]
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells[0]] == [
        "1",
        world.district_2.name,
        "55.00",
        "20.00",
        "15.00",
        "20.00",
        "15.00",
        "10.00",
        "80.00",
    ]
    assert [re.sub(r"<[^>]+>", "", c).strip() for c in cells[1]] == [
        "2",
        world.district_1.name,
        "27.33",
        "4.00",
        "20.00",
        "3.33",
        "27.00",
        "5.00",
        "59.33",
    ]


def test_a_district_leader_sees_only_the_own_district(world: World):
    system = scored_system(world)
    page = text(client_for("district_leader").get(f"/evaluation/systems/{system.pk}/"))
    assert world.district_1.name in page
    assert f">{world.district_2.name}<" not in page
    east = assessment_of(system, world.district_2.name)
    assert (
        client_for("district_leader").get(f"/evaluation/assessments/{east.pk}/").status_code == 404
    )


def test_an_assessor_enters_a_score_with_evidence(world: World, settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = tmp_path
    system = active_system(world)
    west = assessment_of(system, world.district_1.name)
    url = f"/evaluation/assessments/{west.pk}/indicators/{indicator(system, '2').pk}/"
    client = client_for("assessor")
    assert client.get(url).status_code == 200
    bad = client.post(url, {"value": "很好", "evidence": "调查报告"})
    assert bad.status_code == 200
    assert "Value must be a number." in text(bad)
    missing = client.post(url, {"value": "0.9", "evidence": ""})
    assert list(missing.context["form"].errors) == ["evidence"]
    assert not IndicatorScore.objects.filter(assessment=west, is_computed=False).exists()
    response = client.post(
        url, {"value": "0.962", "evidence": "一季度调查", "evidence_reference": "考评办〔2026〕3号"}
    )
    assert response.status_code == 302
    assert response.headers["Location"] == f"/evaluation/assessments/{west.pk}/"
    score = IndicatorScore.objects.get(assessment=west, indicator__code="2")
    assert (score.value, score.points, score.evidence) == (
        Decimal("0.9620"),
        Decimal("27.00"),
        "一季度调查",
    )
    west.refresh_from_db()
    assert west.total == Decimal("54.33")  # 4 + 20 + 3.33 + 27


def test_only_entered_indicators_have_a_form(world: World):
    system = active_system(world)
    west = assessment_of(system, world.district_1.name)
    url = f"/evaluation/assessments/{west.pk}/indicators/{indicator(system, '1.1').pk}/"
    assert client_for("assessor").get(url).status_code == 404


def test_closing_with_missing_scores_says_so(world: World):
    system = active_system(world)
    client = client_for("city_admin")
    response = client.post(f"/evaluation/systems/{system.pk}/close/", follow=True)
    assert "4 entered scores are still missing." in text(response)
    system.refresh_from_db()
    assert system.state == "active"
    assert client.post(f"/evaluation/systems/{system.pk}/nonsense/").status_code == 404


def test_generating_the_list_from_the_page(world: World):
    system = closed_system(world)
    client = client_for("city_admin")
    url = f"/evaluation/systems/{system.pk}/rectifications/"
    early = client.post(url, {"below_percent": "60", "deadline": "2020-01-01"})
    assert "The deadline must be a day after today." in text(early)
    none = client.post(url, {"deadline": "2099-12-31"})
    assert "Say which results need rectification" in text(none)
    assert RectificationItem.objects.count() == 0
    response = client.post(url, {"below_percent": "60", "bottom": "1", "deadline": "2099-12-31"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/evaluation/rectifications/?system={system.pk}"
    assert RectificationItem.objects.filter(system=system).count() == 5


def test_my_units_rectifications_and_the_round_trip(world: World, settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = tmp_path
    system = listed_system(world)
    item = subject_item(system, world)
    leader = client_for("district_leader")
    mine = text(leader.get("/evaluation/rectifications/?mine=1"))
    assert len(re.findall(r'href="/evaluation/rectifications/\d+/', mine)) == 4
    assert "4 items" in mine
    assert (
        re.findall(
            r'href="/evaluation/rectifications/\d+/',
            text(client_for("handler").get("/evaluation/rectifications/?mine=1")),
        )
        == []
    )
    empty = leader.post(f"/evaluation/rectifications/{item.pk}/submit/", {"report": ""})
    assert empty.status_code == 400
    assert list(empty.context["submit_form"].errors) == ["report"]
    done = leader.post(
        f"/evaluation/rectifications/{item.pk}/submit/",
        {"report": "已制定整改方案并落实。", "evidence_reference": "明政办〔2026〕12号"},
    )
    assert done.status_code == 302
    assessor = client_for("assessor")
    page = text(assessor.get(f"/evaluation/rectifications/{item.pk}/"))
    assert 'data-testid="decide-form"' in page
    no_reason = assessor.post(
        f"/evaluation/rectifications/{item.pk}/decide/", {"decision": "reject", "note": ""}
    )
    assert no_reason.status_code == 400
    assert "Fill in the reason." in text(no_reason)
    assessor.post(
        f"/evaluation/rectifications/{item.pk}/decide/", {"decision": "accept", "note": "同意"}
    )
    item.refresh_from_db()
    assert item.state == "accepted"
    history = text(assessor.get(f"/evaluation/rectifications/{item.pk}/"))
    assert history.count("<li>") == 3


def list_queries(client: Any) -> int:
    client.get("/evaluation/rectifications/")  # warm the session
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/evaluation/rectifications/")
    assert response.status_code == 200
    return len(queries)


def test_the_rectification_list_takes_a_fixed_number_of_queries(world: World):
    system = listed_system(world)
    client = client_for("assessor")
    five = list_queries(client)
    from gongzhi.evaluation import assessments
    from gongzhi.evaluation.tests.fixtures import NOW

    more = assessments.generate_rectifications(
        system, actor=world.persona("city_admin"), deadline=DEADLINE, below="1", now=NOW
    )
    assert len(more) == 2  # 明湖区 2 (27 < 30), 东岳区 1.2 (15 < 20)
    assert list_queries(client) == five == QUERIES


def test_the_results_export_to_excel_as_far_as_one_may_see(world: World):
    import io

    from openpyxl import load_workbook

    system = scored_system(world)

    def rows_for(persona: str) -> list[tuple[Any, ...]]:
        response = client_for(persona).get(f"/evaluation/systems/{system.pk}.xlsx")
        assert response.status_code == 200
        assert response["Content-Type"].startswith(
            "application/vnd.openxmlformats-officedocument.spreadsheetml"
        )
        sheet = load_workbook(io.BytesIO(response.content)).active
        return [tuple(r) for r in sheet.iter_rows(min_row=3, values_only=True)]

    rows = rows_for("assessor")
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, world.district_2.name, 80.0),
        (2, world.district_1.name, 59.33),
    ]
    # The district leader's export holds only the own district.
    assert [r[1] for r in rows_for("district_leader")] == [world.district_1.name]
    assert client_for("resident").get(f"/evaluation/systems/{system.pk}.xlsx").status_code == 404
