"""The command centre and the public page: who sees what, pinned query counts, and no
personal data on the public page."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from typing import Any
from unittest import mock

import pytest
from django.core.cache import cache
from django.utils import timezone

from gongzhi.cases.tests.test_dashboard_queries import raise_case
from gongzhi.dashboards.templatetags.dashboards import change_of, percent, points
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

# What ``raise_case`` gives the person who raised it, and the case's own text.
NAME, PHONE, ADDRESS = "欧阳娜娜", "13912345678", "翠湖路88号"
TITLE = "翠湖路的路灯坏了一个星期"


@pytest.fixture
def tallied(world: World) -> World:
    """The fixed cases of March 2026 and one case raised at ``NOW`` by a person with a
    distinctive name, phone and address, at a point on the map."""
    load_cases(world)
    raise_case(world, NOW, world.grid_1, TITLE, with_point=True)
    rebuild_tallies(NOW)
    return world


@pytest.fixture
def at_now() -> Any:
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield


def charts(page: str) -> dict[str, Any]:
    start = page.index('<script id="dashboard-charts" type="application/json">')
    body = page[start:].split(">", 1)[1].split("</script>", 1)[0]
    data: dict[str, Any] = json.loads(body)
    return data


def test_a_district_leader_sees_the_district(tallied: World, at_now: None):
    response = client_for("district_leader").get("/command/")
    assert response.status_code == 200
    page = response.content.decode()
    assert f'data-testid="region-name">{tallied.district_1.name}<' in page
    assert 'data-counter="open">2<' in page  # E, and the case raised at NOW
    assert 'data-counter="today">1<' in page
    assert 'data-testid="command-centre-link"' in page
    assert "H20260330-00001" in page  # overdue and supervised
    data = charts(page)
    assert data["trend"]["months"][-1] == "2026-04"
    assert data["areas"]["names"] == [tallied.street_1.name, "柳秀街道"]
    assert len(data["heat"]["features"]) == 8


def test_the_region_can_be_narrowed_inside_the_scope_only(tallied: World, at_now: None):
    leader = client_for("district_leader")
    page = leader.get(f"/command/?region={tallied.street_1.pk}").content.decode()
    assert f'data-testid="region-name">{tallied.street_1.name}<' in page
    assert leader.get(f"/command/?region={tallied.district_2.pk}").status_code == 404
    assert leader.get("/command/?region=nonsense").status_code == 404
    city = client_for("dispatcher").get(f"/command/?region={tallied.district_2.pk}")
    assert f'data-testid="region-name">{tallied.district_2.name}<' in city.content.decode()


def test_the_public_page_shows_figures_and_no_person(tallied: World, at_now: None):
    response = client_for(None).get("/public/")
    assert response.status_code == 200
    page = response.content.decode()
    assert tallied.city.name in page
    assert 'data-testid="score">85.00<' in page  # March, the last full month
    assert tallied.district_2.name in page  # the districts' scores
    for private in (
        NAME,
        PHONE,
        PHONE[:3] + "****" + PHONE[-4:],
        ADDRESS,
        TITLE,
        "晚上很黑",
        "H2026",
    ):
        assert private not in page
    assert str(tallied.grid_1.centre_lat) not in page
    assert 'data-testid="command-centre-link"' not in page


def test_the_command_centre_is_for_staff_who_see_figures(tallied: World):
    assert client_for("resident").get("/command/").status_code == 403
    assert client_for("handler").get("/command/").status_code == 403
    anonymous = client_for(None).get("/command/")
    assert (anonymous.status_code, anonymous.headers["Location"]) == (
        302,
        "/accounts/login/?next=/command/",
    )


def test_the_pages_read_without_echarts(tallied: World, at_now: None):
    with mock.patch("gongzhi.dashboards.views.echarts_url", return_value=None):
        page = client_for("district_leader").get("/command/").content.decode()
    assert "vendor/echarts" not in page
    assert 'data-testid="trend-table"' in page
    assert '<details class="chart-table" open>' in page


def test_the_pages_load_echarts_when_it_is_installed(tallied: World, at_now: None):
    with mock.patch("gongzhi.dashboards.views.echarts_url", return_value="/static/e.js"):
        page = client_for(None).get("/public/").content.decode()
    assert '<script src="/static/e.js"></script>' in page


def test_query_counts_are_pinned(tallied: World, at_now: None, django_assert_num_queries: Any):
    leader, anonymous = client_for("district_leader"), client_for(None)
    leader.get("/command/")  # warm the session
    # However many cases, grids and months: sums of tallies, counters and two short lists
    # (one more query, for the entries, once a ranking is published).
    with django_assert_num_queries(23):
        assert leader.get("/command/").status_code == 200
    with django_assert_num_queries(15):
        assert anonymous.get("/public/").status_code == 200


def test_figures_read_as_people_expect():
    assert (percent(0.955), percent(None), percent(1.0)) == ("95.5%", "—", "100.0%")
    assert (points(0.05), points(-0.5), points(-0.0004), points(None)) == (
        "+5.0",
        "−50.0",
        "0.0",
        "—",
    )
    assert (change_of(Decimal("20.50"), 2), change_of(-68.5)) == ("+20.50", "−68.5")


def test_the_command_centre_shows_hot_issues_from_the_latest_snapshot(world: World):
    """Hot issues are computed in the background (triage.services.refresh_hot_issues); the
    page reads the district's snapshot and redacts the titles like every other list."""
    from gongzhi.triage.models import HotIssueSnapshot

    case = raise_case(world, timezone.now(), world.grid_1, "门口垃圾")
    HotIssueSnapshot.objects.create(
        region_path=world.district_1.path,
        computed_at=timezone.now(),
        issues=[
            {
                "label": "华东湾 垃圾",
                "keywords": ["垃圾"],
                "heat": 3.5,
                "heat_parts": {"posters": 2.2},
                "case_count": 2,
                "poster_count": 2,
                "recent_count": 2,
                "earlier_count": 0,
                "first_at": timezone.now().isoformat(),
                "last_at": timezone.now().isoformat(),
                "cases": [
                    {
                        "id": str(case.pk),
                        "number": case.number,
                        "title": "联系人13800138000门口垃圾",
                        "region_path": world.grid_1.path,
                        "submitted_at": timezone.now().isoformat(),
                        "state": "submitted",
                    },
                    {
                        "id": str(case.pk),
                        "number": "20260101-00002",
                        "title": "门口垃圾",
                        "region_path": world.community_1.path,
                        "submitted_at": timezone.now().isoformat(),
                        "state": "submitted",
                    },
                ],
            }
        ],
    )
    page = client_for("district_leader").get("/command/").content.decode()
    assert 'data-testid="hot-issue"' in page
    assert "华东湾 垃圾" in page
    assert case.number in page
    assert "13800138000" not in page


def test_the_header_leads_each_person_to_their_figures_or_rectifications(world: World):
    pages = {p: client_for(p).get("/").content.decode() for p in ("handler", "district_leader")}
    assert 'data-testid="rectifications-link"' in pages["handler"]
    assert 'data-testid="command-centre-link"' not in pages["handler"]
    assert 'data-testid="command-centre-link"' in pages["district_leader"]
    assert 'data-testid="rectifications-link"' not in pages["district_leader"]
    resident = client_for("resident").get("/").content.decode()
    assert "rectifications-link" not in resident
    assert "command-centre-link" not in resident


def unmasked(page: str) -> str:
    """The page without its CSRF token (masked differently in every response)."""
    return re.sub(r'"X-CSRFToken": "[^"]+"|name="csrfmiddlewaretoken" value="[^"]+"', "", page)


def test_the_public_figures_are_computed_once_a_minute_per_language(
    tallied: World, at_now: None, settings: Any, django_assert_num_queries: Any
):
    settings.GONGZHI_PUBLIC_CACHE_SECONDS = 60
    cache.clear()
    anonymous = client_for(None)
    with django_assert_num_queries(15):
        first = unmasked(anonymous.get("/public/").content.decode())
    with django_assert_num_queries(1):  # which region is the city: the figures come cached
        assert unmasked(anonymous.get("/public/").content.decode()) == first
    english = client_for(None)
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with django_assert_num_queries(15):
        assert english.get("/public/").status_code == 200
    cache.clear()
