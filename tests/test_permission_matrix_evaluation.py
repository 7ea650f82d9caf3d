"""Evaluation's figures, rankings, publishing and score schemes (pages, exports and API), for
every persona: the status each gets, and on denial, that nothing changed.

Who holds what (see accounts/choices.py and conftest.py):

- see figures and rankings (VIEW_EVALUATION): dispatcher, city_admin, auditor, assessor over
  the city; district_leader over 明湖区 (district 1)
- publish rankings: assessor (city), district_leader (district 1)
- set score schemes: city_admin (city)
- nothing here: resident, grid_worker, street_officer, handler, mediator

Pages listing things answer 403 to those without the capability; a region or ranking outside
the person's scope answers 404 like a missing one; visible but not allowed answers 403.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.services import issue_personal_token
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import services
from gongzhi.evaluation.models import Ranking, ScoreScheme
from tests.test_permission_matrix import ANON, PERSONAS, Row, only, send, statuses

MARCH = dt.date(2026, 3, 1)
VIEWERS = {"dispatcher", "district_leader", "city_admin", "auditor", "assessor"}
CITY_VIEWERS = VIEWERS - {"district_leader"}
OTHERS = set(PERSONAS) - VIEWERS - {ANON}
PUBLISHERS = {"district_leader", "assessor"}


def rankings_state(w: World, ctx: dict[str, Any]) -> Any:
    return sorted(Ranking.objects.values_list("pk", "version", "is_current"))


def scheme_state(w: World, ctx: dict[str, Any]) -> Any:
    return sorted(ScoreScheme.objects.values_list("region_id", "response_weight", "grade_a"))


SCHEME_FORM = {
    "response_weight": "20",
    "resolution_weight": "40",
    "satisfaction_weight": "40",
    "basically_satisfied_value": "0.9",
    "partly_resolved_value": "0.5",
    "grade_a": "85",
    "grade_b": "75",
    "grade_c": "60",
    "grade_d": "40",
    "list_size": "3",
    "min_cases": "1",
}


def figures_of(region: str) -> Any:
    return lambda w, c: f"/evaluation/?region={getattr(w, region).pk}&from=2026-03"


WEB_ROWS = [
    Row("figures", "GET", lambda w, c: "/evaluation/", only(VIEWERS, 200, 403)),
    Row(
        "figures of district 2",
        "GET",
        figures_of("district_2"),
        only(CITY_VIEWERS, 200, 403, district_leader=404),
    ),
    Row(
        "figures of grid 1 (inside every viewer's scope)",
        "GET",
        figures_of("grid_1"),
        only(VIEWERS, 200, 403),
    ),
    Row(
        "figures workbook",
        "GET",
        lambda w, c: "/evaluation/figures.xlsx?from=2026-03",
        only(VIEWERS, 200, 403),
    ),
    Row(
        "figures workbook of district 2",
        "GET",
        lambda w, c: f"/evaluation/figures.xlsx?region={w.district_2.pk}",
        only(CITY_VIEWERS, 200, 403, district_leader=404),
    ),
    Row(
        "monthly report of the city",
        "GET",
        lambda w, c: f"/evaluation/report.pdf?region={w.city.pk}&month=2026-03",
        only(CITY_VIEWERS, 200, 403, district_leader=404),
    ),
    Row(
        "monthly report of district 1",
        "GET",
        lambda w, c: f"/evaluation/report.pdf?region={w.district_1.pk}&month=2026-03",
        only(VIEWERS, 200, 403),
    ),
    Row("ranking list", "GET", lambda w, c: "/evaluation/rankings/", only(VIEWERS, 200, 403)),
    Row(
        "city ranking",
        "GET",
        lambda w, c: f"/evaluation/rankings/{c['city'].pk}/",
        only(CITY_VIEWERS, 200, 404),
    ),
    Row(
        "district 1 ranking",
        "GET",
        lambda w, c: f"/evaluation/rankings/{c['district'].pk}/",
        only(VIEWERS, 200, 404),
    ),
    Row(
        "city ranking workbook",
        "GET",
        lambda w, c: f"/evaluation/rankings/{c['city'].pk}.xlsx",
        only(CITY_VIEWERS, 200, 404),
    ),
    Row(
        "publish form (draft)",
        "GET",
        lambda w, c: "/evaluation/rankings/publish/",
        only(PUBLISHERS, 200, 403),
    ),
    Row(
        "draft of the city",
        "GET",
        lambda w, c: f"/evaluation/rankings/publish/?region={w.city.pk}&month=2026-03",
        only(PUBLISHERS, 200, 403, district_leader=404),
    ),
    Row(
        "publish district 1 streets",
        "POST",
        lambda w, c: "/evaluation/rankings/publish/",
        only(PUBLISHERS, 302, 403),
        data=lambda w: {"region": w.district_1.pk, "month": "2026-03", "subject": "street"},
        state=rankings_state,
    ),
    Row(
        "publish the city's units",
        "POST",
        lambda w, c: "/evaluation/rankings/publish/",
        only({"assessor"}, 302, 403, district_leader=404),
        data=lambda w: {"region": w.city.pk, "month": "2026-03", "subject": "unit"},
        state=rankings_state,
    ),
    Row(
        "score scheme of the city",
        "GET",
        lambda w, c: f"/evaluation/schemes/{w.city.pk}/",
        only({"city_admin"}, 200, 404, dispatcher=403, auditor=403, assessor=403),
    ),
    Row(
        "score scheme of district 1",
        "GET",
        lambda w, c: f"/evaluation/schemes/{w.district_1.pk}/",
        only({"city_admin"}, 200, 404, **dict.fromkeys(VIEWERS - {"city_admin"}, 403)),
    ),
    Row(
        "set the score scheme of district 1",
        "POST",
        lambda w, c: f"/evaluation/schemes/{w.district_1.pk}/",
        only({"city_admin"}, 302, 404, **dict.fromkeys(VIEWERS - {"city_admin"}, 403)),
        data=lambda w: SCHEME_FORM,
        state=scheme_state,
    ),
]

API_ROWS = [
    Row(
        "api figures",
        "GET",
        lambda w, c: "/api/v1/evaluation/figures",
        only(VIEWERS, 200, 403, anonymous=401),
        api=True,
    ),
    Row(
        "api figures of district 2",
        "GET",
        lambda w, c: f"/api/v1/evaluation/figures?region={w.district_2.pk}",
        only(CITY_VIEWERS, 200, 403, anonymous=401, district_leader=404),
        api=True,
    ),
    Row(
        "api rankings (an empty list without scope)",
        "GET",
        lambda w, c: "/api/v1/evaluation/rankings",
        statuses(200, anonymous=401),
        api=True,
    ),
    Row(
        "api city ranking",
        "GET",
        lambda w, c: f"/api/v1/evaluation/rankings/{c['city'].pk}",
        only(CITY_VIEWERS, 200, 404, anonymous=401),
        api=True,
    ),
    Row(
        "api publish district 1 streets",
        "POST",
        lambda w, c: "/api/v1/evaluation/rankings",
        only(
            PUBLISHERS,
            201,
            404,
            anonymous=401,
            **dict.fromkeys(VIEWERS - PUBLISHERS, 403),
        ),
        data=lambda w: {"region": w.district_1.pk, "month": "2026-03", "subject": "street"},
        state=rankings_state,
        api=True,
    ),
    Row(
        "api set the score scheme of district 1",
        "PUT",
        lambda w, c: f"/api/v1/evaluation/schemes/{w.district_1.pk}",
        only(
            {"city_admin"},
            200,
            404,
            anonymous=401,
            **dict.fromkeys(VIEWERS - {"city_admin"}, 403),
        ),
        data=lambda w: {"response_weight": "20", "grade_a": "85"},
        state=scheme_state,
        api=True,
    ),
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("row", WEB_ROWS + API_ROWS, ids=lambda r: r.name)
def test_permission_matrix_evaluation(row: Row, persona: str, world: World) -> None:
    ctx = {
        "city": services.publish_ranking(
            world.city, month=MARCH, subject="street", actor=world.persona("assessor")
        ),
        "district": services.publish_ranking(
            world.district_1, month=MARCH, subject="unit", actor=world.persona("district_leader")
        ),
    }
    headers: dict[str, str] = {}
    if row.api:
        client = Client()
        if persona != ANON:
            token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
            headers["Authorization"] = f"Bearer {token}"
    else:
        client = client_for(None if persona == ANON else persona)

    before = row.state(world, ctx) if row.state else None
    audit_before = AuditEvent.objects.count()
    response = send(client, row, row.url(world, ctx), world, headers)

    expected = row.expected[persona]
    assert response.status_code == expected, (row.name, persona, response.content[:300])
    if row.api and expected >= 400:
        body = response.json()
        assert set(body) == {"code", "message", "details"}
        assert body["code"] in {"not_found", "permission_denied", "not_authenticated"}
    if expected == 302 and persona == ANON:
        assert response["Location"].startswith("/accounts/login/")
    if row.state is None:
        return
    after = row.state(world, ctx)
    if expected in row.changes_on and persona != ANON:  # anonymous 302 is the login redirect
        assert after != before, f"{row.name} as {persona} should have changed something"
        assert AuditEvent.objects.count() == audit_before + 1
    else:
        assert after == before, f"{row.name} as {persona} was denied but changed something"
        assert AuditEvent.objects.count() == audit_before


# Names this module covers; tests/test_matrix_coverage.py checks that every URL is covered.
COVERED_VIEWS = {
    "figures",
    "figures_xlsx",
    "report_pdf",
    "rankings",
    "ranking",
    "ranking_xlsx",
    "publish",
    "scheme",
}
COVERED_OPERATIONS = {
    "get_figures",
    "list_rankings",
    "get_ranking",
    "publish_ranking",
    "set_score_scheme",
}
