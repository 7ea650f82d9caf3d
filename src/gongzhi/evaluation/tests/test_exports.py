"""Exports: the report's content (exact values from the fixed cases), the Excel workbooks
cell by cell, and the PDF's pages. No personal data in any of them."""

from __future__ import annotations

import datetime as dt
import io
import re
from dataclasses import astuple
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import translation
from openpyxl import load_workbook

from gongzhi.cases.models import Case
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import exports, services
from gongzhi.evaluation.exports import ListedLine, RankingLists, SubjectLine
from gongzhi.evaluation.indicators import INDICATORS
from gongzhi.evaluation.models import Ranking
from gongzhi.evaluation.periods import Period
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
PP = '+0.0" pp";-0.0" pp";0.0" pp"'
STREET_1: dict[str, Any] = {
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
STREET_OF_DISTRICT_2: dict[str, Any] = {
    "response_rate": 1.0,
    "sign_on_time_rate": 1.0,
    "resolution_rate": 1.0,
    "satisfaction_rate": pytest.approx(0.9),
    "on_time_closure_rate": 1.0,
    "return_rate": 0.0,
    "rework_rate": 1.0,
    "repeat_rate": 0.0,
    "average_handling_hours": 75.0,
}
EMPTY: dict[str, Any] = dict.fromkeys(STREET_1)


@pytest.fixture
def tallied(world: World) -> World:
    load_cases(world)
    rebuild_tallies(NOW)
    return world


@pytest.fixture
def english() -> Any:
    with translation.override("en"):
        yield


def en(persona: str) -> Client:
    client = client_for(persona)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def city_streets(world: World) -> Ranking:
    return services.publish_ranking(
        world.city, month=MARCH, subject="street", actor=world.persona("assessor"), now=NOW
    )


def unit_name(number: str) -> str:
    return Case.objects.get(number=number).unit.name


def rows(sheet: Any) -> list[list[Any]]:
    return [list(row) for row in sheet.iter_rows(values_only=True)]


# --- The content -------------------------------------------------------------------------------


def test_the_monthly_report_of_the_city(tallied: World, english: None):
    city_streets(tallied)
    report = exports.monthly_report(tallied.persona("assessor"), tallied.city, MARCH)
    assert (report.region_name, report.region_code, report.period_label) == (
        "示范市",
        "990100000000",
        "2026-03",
    )
    assert report.computed_at == NOW
    assert (report.case_count, report.score, report.grade) == (5, Decimal("85.00"), "B")
    # February: one case, on time, resolved, unsatisfied: 10 + 50 + 0
    assert (report.score_mom, report.score_yoy) == (Decimal("25.00"), None)
    approx = pytest.approx
    assert [astuple(line) for line in report.indicators] == [
        ("response_rate", "Response rate", 0.6, approx(-0.4), None),
        ("sign_on_time_rate", "On-time sign-for rate", 0.5, -0.5, None),
        ("resolution_rate", "Resolution rate", approx(2.5 / 3), approx(-0.5 / 3), None),
        ("satisfaction_rate", "Satisfaction rate", approx(2.8 / 3), approx(2.8 / 3), None),
        ("on_time_closure_rate", "On-time closure rate", approx(2 / 3), approx(-1 / 3), None),
        ("return_rate", "Return rate", 0.2, 0.2, None),
        ("rework_rate", "Rework rate", approx(1 / 3), approx(1 / 3), None),
        ("repeat_rate", "Repeat-complaint rate", 0.0, 0.0, None),
        # 511.5 h over 3 closed cases; February 26.5 h
        ("average_handling_hours", "Average handling time (hours)", 170.5, 144.0, None),
    ]
    assert report.child_level_label == "Street / township"
    assert report.children == [
        SubjectLine("春山街道", 4, Decimal("80.50"), "B", STREET_1),
        SubjectLine("柳秀街道", 0, None, "", EMPTY),
        SubjectLine(
            tallied.street_of_district_2.name, 1, Decimal("96.00"), "A", STREET_OF_DISTRICT_2
        ),
    ]
    assert sorted(report.units, key=lambda u: u.case_count) == [
        SubjectLine(unit_name("H20260310-00001"), 1, Decimal("96.00"), "A", STREET_OF_DISTRICT_2),
        SubjectLine(unit_name("H20260309-00001"), 4, Decimal("80.50"), "B", STREET_1),
    ]
    assert report.rankings == [
        RankingLists(
            subject="street",
            subject_label="Streets and towns",
            version=1,
            red=[ListedLine(1, tallied.street_of_district_2.name, Decimal("96.00"), "A")],
            black=[ListedLine(2, "春山街道", Decimal("80.50"), "B")],
        )
    ]


def test_a_report_without_a_ranking_and_of_a_street(tallied: World, english: None):
    report = exports.monthly_report(tallied.persona("dispatcher"), tallied.street_1, MARCH)
    assert report.rankings == []
    assert report.child_level_label == "Community / village"
    assert [(c.name, c.case_count, c.score) for c in report.children] == [
        (tallied.community_1.name, 4, Decimal("80.50")),
        (report.children[1].name, 0, None),
    ]


def test_only_current_versions_and_rankings_in_scope_are_reported(tallied: World):
    city_streets(tallied)
    services.publish_ranking(
        tallied.city,
        month=MARCH,
        subject="street",
        actor=tallied.persona("assessor"),
        now=NOW,
        correction_reason="更正",
    )
    report = exports.monthly_report(tallied.persona("dispatcher"), tallied.city, MARCH)
    assert [r.version for r in report.rankings] == [2]
    # The ranking of another month is not this month's.
    assert (
        exports.monthly_report(
            tallied.persona("dispatcher"), tallied.city, dt.date(2026, 2, 1)
        ).rankings
        == []
    )


# --- Excel -------------------------------------------------------------------------------------


def test_the_figures_workbook(tallied: World):
    response = en("district_leader").get(
        f"/evaluation/figures.xlsx?region={tallied.district_1.pk}&from=2026-03&to=2026-03"
    )
    assert response.status_code == 200
    assert response["Content-Type"] == exports.XLSX
    assert response["Content-Disposition"] == (
        'attachment; filename="figures-990102000000-202603-202603.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["Indicators", "Regions below", "Units"]
    sheet = book["Indicators"]
    assert rows(sheet) == [
        ["明湖区 · 2026-03 · figures as of 2026-04-02 12:00", None, None, None],
        ["Indicator", "This period", "Month on month", "Year on year"],
        ["Response rate", 0.5, -50, None],
        ["On-time sign-for rate", pytest.approx(1 / 3), pytest.approx(-200 / 3), None],
        ["Resolution rate", 0.75, -25, None],
        ["Satisfaction rate", 0.95, 95, None],
        ["On-time closure rate", 0.5, -50, None],
        ["Return rate", 0.25, 25, None],
        ["Rework rate", 0, 0, None],
        ["Repeat-complaint rate", 0, 0, None],
        ["Average handling time (hours)", 218.25, 191.75, None],
        ["Composite score", 80.5, 20.5, None],
        ["Grade", "B", None, None],
        ["Cases", 4, None, None],
    ]
    assert [sheet.cell(row=3, column=c).number_format for c in (2, 3, 4)] == ["0.0%", PP, PP]
    assert sheet["B11"].number_format == "0.0"
    assert sheet["C11"].number_format == '+0.0" h";-0.0" h";0.0" h"'
    assert sheet["B12"].number_format == "0.00"
    streets = rows(book["Regions below"])
    assert streets[0][0] == "明湖区 · 2026-03 · figures as of 2026-04-02 12:00 · Street / township"
    assert streets[1] == ["Name", "Cases", "Score", "Grade", *LABELS]
    assert streets[2][:6] == ["春山街道", 4, 80.5, "B", 0.5, pytest.approx(1 / 3)]
    assert streets[3] == ["柳秀街道", 0, None, None, *([None] * 9)]
    assert book["Regions below"]["E3"].number_format == "0.0%"
    units = rows(book["Units"])
    assert units[2][:5] == [unit_name("H20260309-00001"), 4, 80.5, "B", 0.5]
    assert len(units) == 3


def test_the_header_follows_the_language(tallied: World):
    response = client_for("dispatcher").get("/evaluation/figures.xlsx?from=2026-03")
    sheet = load_workbook(io.BytesIO(response.content)).worksheets[1]
    with translation.override("zh-hans"):
        labels = [str(label) for label in INDICATORS.values()]
    assert list(next(sheet.iter_rows(min_row=2, max_row=2, values_only=True)))[4:] == labels


def test_the_ranking_workbook(tallied: World):
    ranking = city_streets(tallied)
    response = en("auditor").get(f"/evaluation/rankings/{ranking.pk}.xlsx")
    assert response.status_code == 200
    assert response["Content-Disposition"] == (
        'attachment; filename="ranking-990100000000-202603-street-v1.xlsx"'
    )
    sheet = load_workbook(io.BytesIO(response.content))["Ranking"]
    found = rows(sheet)
    assert found[0] == [
        "示范市 · 2026-03 · Streets and towns · v1 · figures as of 2026-04-02 12:00",
        *([None] * 14),
    ]
    assert found[1] == ["Position", "Name", "Score", "Grade", "List", "Cases", *LABELS]
    assert found[2] == [
        1,
        tallied.street_of_district_2.name,
        96.0,
        "A",
        "Red list (best)",
        1,
        1.0,
        1.0,
        1.0,
        0.9,
        1.0,
        0.0,
        1.0,
        0.0,
        75.0,
    ]
    assert found[3][:6] == [2, "春山街道", 80.5, "B", "Black list (worst)", 4]
    assert found[3][6:] == [0.5, 0.333333, 0.75, 0.95, 0.5, 0.25, 0.0, 0.0, 218.25]
    assert found[4] == [None, "柳秀街道", None, None, None, 0, *([None] * 9)]
    assert sheet["G3"].number_format == "0.0%"
    assert sheet["O3"].number_format == "0.0"
    assert sheet["C3"].number_format == "0.00"


def test_no_personal_data_in_the_workbooks(tallied: World):
    ranking = city_streets(tallied)
    assessor = tallied.persona("assessor")
    for url in [f"/evaluation/rankings/{ranking.pk}.xlsx", "/evaluation/figures.xlsx?from=2026-03"]:
        book = load_workbook(io.BytesIO(en("assessor").get(url).content))
        cells = {str(v) for sheet in book for row in rows(sheet) for v in row if v is not None}
        assert not {c for c in cells if assessor.display_name in c or assessor.username in c}


# --- PDF ---------------------------------------------------------------------------------------


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


def test_the_monthly_report_pdf(tallied: World):
    city_streets(tallied)
    response = en("assessor").get(f"/evaluation/report.pdf?region={tallied.city.pk}&month=2026-03")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        'attachment; filename="report-990100000000-202603.pdf"'
    )
    assert response.content.startswith(b"%PDF-")
    assert pages(response.content) == 1
    assert b"/STSong-Light" in response.content  # the built-in CID font: no font file


def test_a_long_report_runs_onto_more_pages(tallied: World, english: None):
    report = exports.figures_report(tallied.city, Period.month(MARCH))
    many = [exports.SubjectLine(f"单位{n:03}", n, Decimal("50.00"), "D", EMPTY) for n in range(120)]
    longer = exports.FiguresReport(**{**report.__dict__, "units": many})
    assert pages(exports.report_pdf_bytes(report)) == 1
    assert pages(exports.report_pdf_bytes(longer)) == 4


def test_a_bad_month_for_the_report(tallied: World):
    response = en("dispatcher").get("/evaluation/report.pdf?month=2026-3")
    assert response.status_code == 400
    assert "is not a month" in response.content.decode()
