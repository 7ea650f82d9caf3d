"""The evaluation pages: figures, rankings, publishing, the score scheme, against the figures
computed by hand from the fixed cases (fixtures.py, test_figures.py).

Pages are read in English so the assertions do not depend on the state of the Chinese
catalogue; one test reads the Chinese page. Who may open what is the permission matrix's
job (tests/test_permission_matrix_evaluation.py).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client

from gongzhi.cases.models import Case
from gongzhi.cases.tests.test_views import _Text
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import services
from gongzhi.evaluation.models import Ranking, ScoreScheme
from gongzhi.evaluation.periods import add_months, month_of
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

MARCH = dt.date(2026, 3, 1)
LABELS = [
    "Response rate",
    "On-time sign-for rate",
    "Resolution rate",
    "Satisfaction rate",
    "On-time closure rate",
    "Return rate",
    "Rework rate",
    "Repeat-complaint rate",
    "Average handling time (hours)",
]
NOTHING = ["—"] * 9
# District 1 (明湖区) in March: see test_figures.py.
DISTRICT_1 = ["50.0%", "33.3%", "75.0%", "95.0%", "50.0%", "25.0%", "0.0%", "0.0%", "218.3"]
# 东岳区's one case in March.
DISTRICT_2 = ["100.0%", "100.0%", "100.0%", "90.0%", "100.0%", "0.0%", "100.0%", "0.0%", "75.0"]


@pytest.fixture
def tallied(world: World) -> World:
    load_cases(world)
    rebuild_tallies(NOW)
    return world


def en(persona: str) -> Client:
    client = client_for(persona)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def squash(value: str) -> str:
    return " ".join(value.split())


class Page:
    """The texts and table rows of a page, by ``data-testid``, whitespace squashed."""

    def __init__(self, response: Any) -> None:
        self.parsed = _Text()
        self.parsed.feed(response.content.decode())

    def has(self, testid: str) -> bool:
        return testid in self.parsed.texts

    def text(self, testid: str) -> str:
        assert self.has(testid), f"no element with data-testid={testid}"
        return squash(" ".join(self.parsed.texts[testid]))

    def table(self, testid: str) -> list[list[str]]:
        return [[squash(cell) for cell in row] for row in self.parsed.rows.get(testid, [])]


def parse(response: Any) -> Page:
    return Page(response)


def unit_of(number: str) -> str:
    return Case.objects.get(number=number).unit.name


def publish_city_streets(world: World) -> Ranking:
    return services.publish_ranking(
        world.city, month=MARCH, subject="street", actor=world.persona("assessor"), now=NOW
    )


# --- Figures ------------------------------------------------------------------------------------


def test_every_indicator_of_a_district_with_month_on_month(tallied: World):
    response = en("district_leader").get(
        f"/evaluation/?region={tallied.district_1.pk}&from=2026-03&to=2026-03"
    )
    assert response.status_code == 200
    page = parse(response)
    assert page.text("figures-title") == "Figures · 明湖区 2026-03"
    assert page.text("figures-as-of").startswith("Figures as of 2026-04-02 12:00")
    assert page.text("figures-score") == "80.50"
    assert page.text("figures-grade") == "B"
    # February: response 1/1, resolution 1/1, satisfaction 0/1 > 60.00
    assert page.text("figures-score-mom") == "+20.50"
    assert page.text("figures-score-yoy") == "—"
    assert page.text("figures-cases") == "4"
    assert page.table("indicator-table") == [
        ["Response rate", "50.0%", "-50.0 pp", "—"],
        ["On-time sign-for rate", "33.3%", "-66.7 pp", "—"],
        ["Resolution rate", "75.0%", "-25.0 pp", "—"],
        ["Satisfaction rate", "95.0%", "+95.0 pp", "—"],
        ["On-time closure rate", "50.0%", "-50.0 pp", "—"],
        ["Return rate", "25.0%", "+25.0 pp", "—"],
        ["Rework rate", "0.0%", "0.0 pp", "—"],
        ["Repeat-complaint rate", "0.0%", "0.0 pp", "—"],
        # 436.5 h over 2 closed cases; February's one case took 26.5 h
        ["Average handling time (hours)", "218.3", "+191.8 h", "—"],
    ]
    streets = {row[0]: row[1:] for row in page.table("child-table")}
    assert streets == {
        tallied.street_1.name: ["4", "80.50", "B", *DISTRICT_1],
        "柳秀街道": ["0", "—", "—", *NOTHING],
    }
    assert page.table("unit-table") == [
        [unit_of("H20260309-00001"), "4", "80.50", "B", *DISTRICT_1]
    ]


def test_better_and_worse_changes_are_marked(tallied: World):
    html = (
        en("district_leader")
        .get(f"/evaluation/?region={tallied.district_1.pk}&from=2026-03")
        .content.decode()
    )
    # A lower response rate is worse; a higher return rate is worse; more satisfaction better.
    assert '<span class="badge badge-red">-50.0 pp</span>' in html
    assert '<span class="badge badge-red">+25.0 pp</span>' in html
    assert '<span class="badge badge-green">+95.0 pp</span>' in html
    assert (
        '<strong data-testid="figures-score-mom"><span class="badge badge-green">+20.50</span>'
        in html
    )


def test_the_city_shows_its_streets_and_every_unit(tallied: World):
    page = parse(en("dispatcher").get("/evaluation/?from=2026-03"))
    assert page.text("figures-title") == "Figures · 示范市 2026-03"
    # 10 % x 3/5 + 50 % x 2.5/3 + 40 % x 2.8/3; February 60.00
    assert (page.text("figures-score"), page.text("figures-score-mom")) == ("85.00", "+25.00")
    assert page.table("child-table") == [
        [tallied.street_1.name, "4", "80.50", "B", *DISTRICT_1],
        ["柳秀街道", "0", "—", "—", *NOTHING],
        [tallied.street_of_district_2.name, "1", "96.00", "A", *DISTRICT_2],
    ]
    assert sorted(page.table("unit-table")) == sorted(
        [
            [unit_of("H20260309-00001"), "4", "80.50", "B", *DISTRICT_1],
            [unit_of("H20260310-00001"), "1", "96.00", "A", *DISTRICT_2],
        ]
    )


def test_a_street_shows_its_communities_and_links_them(tallied: World):
    response = en("dispatcher").get(f"/evaluation/?region={tallied.street_1.pk}&from=2026-03")
    page = parse(response)
    communities = {row[0]: row[1:4] for row in page.table("child-table")}
    assert communities[tallied.community_1.name] == ["4", "80.50", "B"]
    assert len(communities) == 2
    assert (
        f'href="/evaluation/?region={tallied.community_1.pk}&amp;from=2026-03&amp;to=2026-03"'
        in response.content.decode()
    )


def test_a_community_shows_its_grids_and_stays_picked(tallied: World):
    response = en("dispatcher").get(f"/evaluation/?region={tallied.community_1.pk}&from=2026-03")
    grids = {row[0]: row[1:4] for row in parse(response).table("child-table")}
    assert grids[tallied.grid_1.name] == ["4", "80.50", "B"]
    assert len(grids) == 2
    html = response.content.decode()
    assert f'<option value="{tallied.community_1.pk}" selected>' in html


def test_a_run_of_months(tallied: World):
    page = parse(
        en("dispatcher").get(f"/evaluation/?region={tallied.city.pk}&from=2026-02&to=2026-03")
    )
    assert page.text("figures-title") == "Figures · 示范市 2026-02 – 2026-03"
    assert page.text("figures-cases") == "6"


def test_the_last_full_month_is_the_default(tallied: World):
    page = parse(en("district_leader").get("/evaluation/"))
    month = add_months(month_of(dt.datetime.now(dt.UTC)), -1)
    assert page.text("figures-title") == f"Figures · 明湖区 {month:%Y-%m}"
    assert page.text("figures-score") == "—"


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("from=2026-13", "“2026-13” is not a month: write it as YYYY-MM, e.g. 2026-11."),
        ("from=March", "“March” is not a month: write it as YYYY-MM, e.g. 2026-11."),
        ("from=2026-05&to=2026-03", "The period ends before it starts."),
        ("from=2001-01&to=2026-03", "A period is at most ten years."),
    ],
)
def test_a_bad_month_is_explained_on_the_page(tallied: World, query: str, message: str):
    response = en("dispatcher").get(f"/evaluation/?{query}")
    assert response.status_code == 400
    page = parse(response)
    assert page.text("figures-error") == message
    assert not page.has("indicator-table")


def test_figures_page_queries_do_not_grow_with_regions(
    tallied: World, django_assert_num_queries: Any
):
    client = en("dispatcher")
    # session, user, memberships, regions to pick, the region, scheme, 3 sums, children,
    # their sums, unit sums, units, computed at, unread notices
    with django_assert_num_queries(15):
        client.get(f"/evaluation/?region={tallied.city.pk}&from=2026-03")
    with django_assert_num_queries(15):
        client.get(f"/evaluation/?region={tallied.street_1.pk}&from=2026-01&to=2026-03")


def test_the_chinese_page(tallied: World):
    response = client_for("district_leader").get(
        f"/evaluation/?region={tallied.district_1.pk}&from=2026-03"
    )
    assert response.status_code == 200
    page = parse(response)
    assert page.text("figures-score") == "80.50"
    assert '<html lang="zh-CN">' in response.content.decode()


def test_the_header_links_evaluation_for_those_who_evaluate(tallied: World):
    for persona, shown in [("dispatcher", True), ("auditor", True), ("handler", False)]:
        html = client_for(persona).get("/").content.decode()
        assert ('data-testid="evaluation-link"' in html) == shown, persona


def test_the_scheme_link_is_for_administrators(tallied: World):
    url = f"/evaluation/?region={tallied.district_1.pk}&from=2026-03"
    assert 'data-testid="scheme-link"' in en("city_admin").get(url).content.decode()
    assert 'data-testid="scheme-link"' not in en("district_leader").get(url).content.decode()


# --- Rankings -------------------------------------------------------------------------------------


def test_a_ranking_with_its_red_and_black_lists(tallied: World, django_assert_num_queries: Any):
    ranking = publish_city_streets(tallied)
    client = en("dispatcher")
    client.get("/")  # the session is warm
    # session, user, memberships, ranking, entries, versions, unread notices
    with django_assert_num_queries(7):
        response = client.get(f"/evaluation/rankings/{ranking.pk}/")
    page = parse(response)
    assert page.text("ranking-title") == "示范市 · 2026-03 · Streets and towns"
    assert page.table("ranking-entries") == [
        ["1", tallied.street_of_district_2.name, "96.00", "A", "Red list (best)", "1", *DISTRICT_2],
        ["2", tallied.street_1.name, "80.50", "B", "Black list (worst)", "4", *DISTRICT_1],
        ["—", "柳秀街道", "—", "—", "", "0", *NOTHING],
    ]
    facts = page.text("ranking-facts")
    assert facts.startswith("Version v1 current Figures as of 2026-04-02 12:00")
    assert "response 10 · resolution 50 · satisfaction 40" in facts
    # Only publishers may correct it.
    assert not page.has("correct-link")
    assert parse(en("assessor").get(f"/evaluation/rankings/{ranking.pk}/")).has("correct-link")


def test_a_corrected_ranking_links_its_versions(tallied: World):
    first = publish_city_streets(tallied)
    second = services.publish_ranking(
        tallied.city,
        month=MARCH,
        subject="street",
        actor=tallied.persona("assessor"),
        now=NOW,
        correction_reason="回访结果更正",
    )
    page = parse(en("auditor").get(f"/evaluation/rankings/{second.pk}/"))
    facts = page.text("ranking-facts")
    assert "Why corrected 回访结果更正" in facts
    assert "Other versions v1" in facts
    old = parse(en("auditor").get(f"/evaluation/rankings/{first.pk}/"))
    assert "corrected by a later version" in old.text("ranking-facts")


def test_the_list_shows_the_rankings_in_scope(tallied: World, django_assert_num_queries: Any):
    publish_city_streets(tallied)
    services.publish_ranking(
        tallied.district_1,
        month=MARCH,
        subject="unit",
        actor=tallied.persona("district_leader"),
        now=NOW,
    )
    assert parse(en("dispatcher").get("/evaluation/rankings/")).table("ranking-list") == [
        ["2026-03", "示范市", "Streets and towns", "v1", "2026-04-02 12:00"],
        ["2026-03", "明湖区", "Handling units", "v1", "2026-04-02 12:00"],
    ]
    client = en("district_leader")
    client.get("/")
    with django_assert_num_queries(6):
        response = client.get("/evaluation/rankings/")
    page = parse(response)
    assert page.table("ranking-list") == [
        ["2026-03", "明湖区", "Handling units", "v1", "2026-04-02 12:00"]
    ]
    assert page.has("publish-link")
    assert not parse(en("auditor").get("/evaluation/rankings/")).has("publish-link")


# --- Publishing -----------------------------------------------------------------------------------


def test_the_draft_is_shown_before_publishing(tallied: World):
    response = en("assessor").get(
        f"/evaluation/rankings/publish/?region={tallied.city.pk}&month=2026-03&subject=street"
    )
    assert response.status_code == 200
    page = parse(response)
    assert page.text("draft-title") == "Draft: Streets and towns within 示范市, 2026-03"
    assert [row[:5] for row in page.table("draft-entries")] == [
        ["1", tallied.street_of_district_2.name, "96.00", "A", "Red list (best)"],
        ["2", tallied.street_1.name, "80.50", "B", "Black list (worst)"],
        ["—", "柳秀街道", "—", "—", ""],
    ]
    assert Ranking.objects.count() == 0


def test_the_publish_page_starts_with_the_top_region_and_last_month(tallied: World):
    page = parse(en("district_leader").get("/evaluation/rankings/publish/"))
    month = add_months(month_of(dt.datetime.now(dt.UTC)), -1)
    assert page.text("draft-title") == f"Draft: Streets and towns within 明湖区, {month:%Y-%m}"


def test_publishing_and_publishing_again_with_a_reason(tallied: World):
    client = en("district_leader")
    data = {"region": tallied.district_1.pk, "month": "2026-03", "subject": "unit"}
    response = client.post("/evaluation/rankings/publish/", data)
    ranking = Ranking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/evaluation/rankings/{ranking.pk}/"
    assert (ranking.region, ranking.subject, ranking.version) == (tallied.district_1, "unit", 1)
    assert [(e.position, e.score) for e in ranking.entries.all()] == [(1, Decimal("80.50"))]

    again = client.post("/evaluation/rankings/publish/", data)
    assert again.status_code == 409
    page = parse(again)
    assert page.text("publish-error") == (
        "This ranking is published already. Say why it is corrected to publish it again. "
        "See the published ranking"
    )
    assert Ranking.objects.count() == 1

    corrected = client.post(
        "/evaluation/rankings/publish/", {**data, "correction_reason": "回访结果更正"}
    )
    assert corrected.status_code == 302
    assert list(Ranking.objects.order_by("version").values_list("version", "is_current")) == [
        (1, False),
        (2, True),
    ]


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        ({"month": "2026-3"}, 400, "“2026-3” is not a month: write it as YYYY-MM, e.g. 2026-11."),
        ({"subject": "people"}, 400, "Select a valid choice. people is not one of the"),
        ({"month": "2099-01"}, 400, "Only a month that has ended can be ranked."),
    ],
)
def test_publishing_what_cannot_be_published(tallied: World, data, status, message):
    form = {"region": tallied.district_1.pk, "month": "2026-03", "subject": "street", **data}
    response = en("district_leader").post("/evaluation/rankings/publish/", form)
    assert response.status_code == status
    assert message in response.content.decode()
    assert Ranking.objects.count() == 0


def test_streets_are_not_ranked_within_a_street(tallied: World):
    form = {"region": tallied.street_1.pk, "month": "2026-03", "subject": "street"}
    response = en("assessor").post("/evaluation/rankings/publish/", form)
    assert response.status_code == 400
    assert parse(response).text("publish-error") == (
        "Streets are ranked within a district or the city."
    )
    assert Ranking.objects.count() == 0


# --- Score scheme ---------------------------------------------------------------------------------


def test_the_scheme_form_shows_what_applies_and_saves(tallied: World):
    url = f"/evaluation/schemes/{tallied.district_1.pk}/"
    client = en("city_admin")
    page = parse(client.get(url))
    assert page.text("scheme-origin").startswith("This region has no scheme of its own")
    form = {
        "response_weight": "20",
        "resolution_weight": "40",
        "satisfaction_weight": "40",
        "basically_satisfied_value": "0.8",
        "partly_resolved_value": "0",
        "grade_a": "90",
        "grade_b": "75",
        "grade_c": "60",
        "grade_d": "40",
        "list_size": "3",
        "min_cases": "1",
    }
    response = client.post(url, form)
    assert response.status_code == 302
    assert response["Location"] == url
    scheme = ScoreScheme.objects.get(region=tallied.district_1)
    assert (scheme.response_weight, scheme.basically_satisfied_value) == (
        Decimal("20.00"),
        Decimal("0.80"),
    )
    # As in test_figures: 20 % x 0.5 + 40 % x 0.5 + 40 % x 0.9
    figures = parse(client.get(f"/evaluation/?region={tallied.district_1.pk}&from=2026-03"))
    assert (figures.text("figures-score"), figures.text("figures-grade")) == ("66.00", "C")
    assert parse(client.get(url)).text("scheme-origin").startswith("Set for this region on")


def test_a_scheme_the_service_refuses_changes_nothing(tallied: World):
    url = f"/evaluation/schemes/{tallied.district_1.pk}/"
    form = {
        "response_weight": "10",
        "resolution_weight": "50",
        "satisfaction_weight": "40",
        "basically_satisfied_value": "0.9",
        "partly_resolved_value": "0.5",
        "grade_a": "50",
        "grade_b": "75",
        "grade_c": "60",
        "grade_d": "40",
        "list_size": "3",
        "min_cases": "1",
    }
    response = en("city_admin").post(url, form)
    assert response.status_code == 400
    assert parse(response).text("scheme-error") == "Grade thresholds must fall from A to D."
    missing = en("city_admin").post(url, {**form, "grade_a": ""})
    assert missing.status_code == 400
    assert ScoreScheme.objects.count() == 0
