"""Exports of evaluation: Excel workbooks of the figures and of a ranking, and the monthly
report as a PDF.

An adapter like the views: regions and rankings come through ``policies`` (404 outside the
person's scope), figures from ``queries``. The content of a report is assembled first
(``figures_report``, ``monthly_report``: plain values, tested on their own), then laid out.
Exports hold aggregates of regions and units only: no names of people, not even of the
staff who published a ranking.

Chinese in the PDF uses reportlab's built-in CID font ``STSong-Light`` (Adobe's Asian font
pack, which PDF readers supply), so no font file is shipped or embedded.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from gongzhi.accounts.queries import AnyUser
from gongzhi.core.errors import PermissionDenied
from gongzhi.evaluation import assessment_policies, assessment_queries, policies, queries
from gongzhi.evaluation.assessment_queries import ResultRow
from gongzhi.evaluation.choices import RankingList, RankingSubject
from gongzhi.evaluation.indicators import INDICATORS, Figures, change
from gongzhi.evaluation.models import IndicatorSystem, Ranking, RankingEntry
from gongzhi.evaluation.pages import (
    HOURS,
    NOTHING,
    last_full_month,
    period_from,
    score_change,
    show_change,
    show_score_change,
    show_value,
)
from gongzhi.evaluation.periods import Period, parse_month
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PERCENT = "0.0%"


# --- Content -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorLine:
    name: str
    label: str
    value: float | None
    mom: float | None  # difference of the rates (a fraction), or of the hours
    yoy: float | None


@dataclass(frozen=True)
class SubjectLine:
    """A region below, or a unit, with its figures for the period."""

    name: str
    case_count: int
    score: Decimal | None
    grade: str
    indicators: dict[str, float | None]


@dataclass(frozen=True)
class ListedLine:
    position: int | None
    name: str
    score: Decimal | None
    grade: str


@dataclass(frozen=True)
class RankingLists:
    """The red and black lists of a published ranking."""

    subject: str
    subject_label: str
    version: int
    red: list[ListedLine]
    black: list[ListedLine]


@dataclass(frozen=True)
class FiguresReport:
    region_name: str
    region_code: str
    period_label: str
    computed_at: dt.datetime | None
    case_count: int
    score: Decimal | None
    grade: str
    score_mom: Decimal | None
    score_yoy: Decimal | None
    indicators: list[IndicatorLine]
    child_level_label: str
    children: list[SubjectLine]
    units: list[SubjectLine]
    rankings: list[RankingLists] = field(default_factory=list)


def _subject(name: str, figures: Figures) -> SubjectLine:
    return SubjectLine(
        name=name,
        case_count=figures.case_count,
        score=figures.score,
        grade=figures.grade or "",
        indicators=figures.indicators(),
    )


def figures_report(region: Region, period: Period) -> FiguresReport:
    """Every indicator of ``region`` with month on month and year on year, the regions one
    level below (streets below a city or district) and the units, for ``period``."""
    scheme = queries.scheme_for(region)
    current = queries.figures_for_region(region, period, scheme)
    previous = queries.figures_for_region(region, period.previous(), scheme)
    year_before = queries.figures_for_region(region, period.year_before(), scheme)
    if region.level < RegionLevel.STREET:
        level: int | None = RegionLevel.STREET
    else:
        level = region.level + 1 if region.level < RegionLevel.GRID else None
    children = queries.figures_by_child(region, period, level, scheme) if level else {}
    units = queries.figures_by_unit(region, period, scheme)
    now, before, last_year = current.indicators(), previous.indicators(), year_before.indicators()
    return FiguresReport(
        region_name=region.name,
        region_code=region.code,
        period_label=period.label,
        computed_at=queries.computed_at(period),
        case_count=current.case_count,
        score=current.score,
        grade=current.grade or "",
        score_mom=score_change(current, previous),
        score_yoy=score_change(current, year_before),
        indicators=[
            IndicatorLine(
                name,
                str(label),
                now[name],
                change(now[name], before[name]),
                change(now[name], last_year[name]),
            )
            for name, label in INDICATORS.items()
        ],
        child_level_label=str(RegionLevel(level).label) if level else "",
        children=[_subject(r.name, f) for r, f in children.items()],
        units=sorted((_subject(u.name, f) for u, f in units.items()), key=lambda s: s.name),
    )


def _listed(entry: RankingEntry) -> ListedLine:
    return ListedLine(entry.position, entry.name, entry.score, entry.grade)


def monthly_report(user: AnyUser, region: Region, month: dt.date) -> FiguresReport:
    """The figures of one month and the red and black lists of the month's current
    rankings within ``region`` (streets first, then units), if published."""
    report = figures_report(region, Period.month(month))
    rankings = list(
        policies.rankings_visible_to(user)
        .filter(region=region, month=month, is_current=True)
        .order_by("subject")
    )
    listed = RankingEntry.objects.filter(
        ranking__in=rankings, listed__in=[RankingList.RED, RankingList.BLACK]
    ).order_by("position", "name")
    by_ranking: dict[int, list[RankingEntry]] = {}
    for entry in listed:
        by_ranking.setdefault(entry.ranking_id, []).append(entry)
    lists = [
        RankingLists(
            subject=ranking.subject,
            subject_label=str(RankingSubject(ranking.subject).label),
            version=ranking.version,
            red=[_listed(e) for e in by_ranking.get(ranking.pk, []) if e.listed == RankingList.RED],
            black=[
                _listed(e) for e in by_ranking.get(ranking.pk, []) if e.listed == RankingList.BLACK
            ],
        )
        for ranking in rankings
    ]
    return FiguresReport(**{**report.__dict__, "rankings": lists})


# --- Text --------------------------------------------------------------------------------------


def as_of(moment: dt.datetime | None) -> str:
    if moment is None:
        return _("figures not computed yet")
    return _("figures as of %(when)s") % {"when": f"{timezone.localtime(moment):%Y-%m-%d %H:%M}"}


def title_of(report: FiguresReport) -> str:
    return f"{report.region_name} · {report.period_label} · {as_of(report.computed_at)}"


def show_score(score: Decimal | None) -> str:
    return NOTHING if score is None else str(score)


# --- Excel -------------------------------------------------------------------------------------


def _sheet_title(text: str) -> str:
    for bad in "[]:*?/\\":
        text = text.replace(bad, " ")
    return text[:31]


def _start(sheet: Worksheet, title: str, header: list[str]) -> None:
    sheet.append([title])
    sheet["A1"].font = Font(bold=True, size=13)
    sheet.append(header)
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A3"


def _number(value: Decimal | float | None) -> float | None:
    return None if value is None else float(value)


def _indicator_cells(sheet: Worksheet, row: int, first_column: int, values: dict[str, Any]) -> None:
    for offset, name in enumerate(INDICATORS):
        cell = sheet.cell(row=row, column=first_column + offset, value=values.get(name))
        cell.number_format = "0.0" if name == HOURS else PERCENT


def _subject_sheet(sheet: Worksheet, title: str, lines: list[SubjectLine]) -> None:
    labels = [str(label) for label in INDICATORS.values()]
    _start(sheet, title, [_("Name"), _("Cases"), _("Score"), _("Grade"), *labels])
    for index, line in enumerate(lines, start=3):
        sheet.append([line.name, line.case_count, _number(line.score), line.grade or None])
        sheet.cell(row=index, column=3).number_format = "0.00"
        _indicator_cells(sheet, index, 5, line.indicators)
    sheet.column_dimensions["A"].width = 28


def figures_workbook(report: FiguresReport) -> Workbook:
    """Three sheets: the indicators with month on month and year on year, the regions
    below, the units. Rates are numbers with a percentage format; changes of rates are in
    percentage points."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(_("Indicators"))
    title = title_of(report)
    _start(sheet, title, [_("Indicator"), _("This period"), _("Month on month"), _("Year on year")])
    points = _("pp")
    hours = _("h")
    for index, line in enumerate(report.indicators, start=3):
        in_hours = line.name == HOURS
        scale = 1 if in_hours else 100
        unit = hours if in_hours else points
        sheet.append(
            [
                line.label,
                line.value,
                None if line.mom is None else line.mom * scale,
                None if line.yoy is None else line.yoy * scale,
            ]
        )
        sheet.cell(row=index, column=2).number_format = "0.0" if in_hours else PERCENT
        for column in (3, 4):
            sheet.cell(
                row=index, column=column
            ).number_format = f'+0.0" {unit}";-0.0" {unit}";0.0" {unit}"'
    row = 3 + len(report.indicators)
    sheet.append(
        [
            _("Composite score"),
            _number(report.score),
            _number(report.score_mom),
            _number(report.score_yoy),
        ]
    )
    sheet.cell(row=row, column=2).number_format = "0.00"
    for column in (3, 4):
        sheet.cell(row=row, column=column).number_format = "+0.00;-0.00;0.00"
    sheet.append([_("Grade"), report.grade or None])
    sheet.append([_("Cases"), report.case_count])
    sheet.column_dimensions["A"].width = 30
    if report.child_level_label:
        _subject_sheet(
            book.create_sheet(_sheet_title(_("Regions below"))),
            f"{title} · {report.child_level_label}",
            report.children,
        )
    _subject_sheet(
        book.create_sheet(_sheet_title(_("Units"))),
        f"{title} · {_('Handling units')}",
        report.units,
    )
    return book


def ranking_workbook(ranking: Ranking) -> Workbook:
    """One sheet: every entry of a frozen ranking as it was published."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(_("Ranking"))
    subject = str(RankingSubject(ranking.subject).label)
    title = (
        f"{ranking.region.name} · {ranking.month:%Y-%m} · {subject} · v{ranking.version} · "
        f"{as_of(ranking.computed_at)}"
    )
    labels = [str(label) for label in INDICATORS.values()]
    header = [_("Position"), _("Name"), _("Score"), _("Grade"), _("List"), _("Cases"), *labels]
    _start(sheet, title, header)
    names = dict(RankingList.choices)
    entries = RankingEntry.objects.filter(ranking=ranking).order_by("position", "name")
    ranked = [e for e in entries if e.position is not None] + [
        e for e in entries if e.position is None
    ]
    for index, entry in enumerate(ranked, start=3):
        counts = entry.figures.get("counts", {})
        sheet.append(
            [
                entry.position,
                entry.name,
                _number(entry.score),
                entry.grade or None,
                str(names[entry.listed]) if entry.listed else None,
                int(max(counts.get("submitted_count", 0), counts.get("assigned_count", 0))),
            ]
        )
        sheet.cell(row=index, column=3).number_format = "0.00"
        _indicator_cells(sheet, index, 7, entry.figures.get("indicators", {}))
    sheet.column_dimensions["B"].width = 28
    return book


def system_workbook(system: IndicatorSystem, rows: list[ResultRow]) -> Workbook:
    """One sheet: the results of an indicator system (年度考评 / 试点验收评估), each subject
    with its total, position and the points of every indicator (its value beside it)."""
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(_("Evaluation"))
    leaves = [i for i in assessment_queries.indicators_of(system) if not i.is_group]
    title = (
        f"{system.name} · {system.region.name} · "
        f"{system.first_month:%Y-%m} – {system.last_month:%Y-%m}"
    )
    header = [_("Position"), _("Subject"), _("Total")]
    for indicator in leaves:
        header += [f"{indicator.name} ({indicator.weight})", _("Value")]
    _start(sheet, title, header)
    for index, row in enumerate(rows, start=3):
        line: list[Any] = [row.assessment.position, row.assessment.name]
        line.append(_number(row.assessment.total))
        for cell in row.cells:
            line += [_number(cell.points), cell.shown_value]
        sheet.append(line)
        sheet.cell(row=index, column=3).number_format = "0.00"
        for column in range(4, 4 + 2 * len(row.cells), 2):
            sheet.cell(row=index, column=column).number_format = "0.00"
    sheet.column_dimensions["B"].width = 24
    return book


def workbook_bytes(book: Workbook) -> bytes:
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


# --- PDF ---------------------------------------------------------------------------------------

FONT = "STSong-Light"


def _font() -> str:
    if FONT not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    return FONT


def _table(rows: list[list[str]], widths: list[float] | None = None, size: float = 8) -> Any:
    table = Table(rows, colWidths=widths, repeatRows=1, hAlign="LEFT")
    table.setStyle(
        TableStyle(
            [
                ("FONT", (0, 0), (-1, -1), FONT, size),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f2f4f7")),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#c9ced6")),
                ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


def _subject_rows(lines: list[SubjectLine]) -> list[list[str]]:
    header = [_("Name"), _("Cases"), _("Score"), _("Grade"), *map(str, INDICATORS.values())]
    body = [
        [
            line.name,
            str(line.case_count),
            show_score(line.score),
            line.grade or NOTHING,
            *(show_value(name, line.indicators.get(name)) for name in INDICATORS),
        ]
        for line in lines
    ]
    return [header, *body]


def report_title(report: FiguresReport) -> str:
    return _("Monthly evaluation report: %(region)s, %(month)s") % {
        "region": report.region_name,
        "month": report.period_label,
    }


def report_pdf_bytes(report: FiguresReport) -> bytes:
    """Lay the report out on landscape A4 pages."""
    font = _font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, spaceAfter=4)
    heading = ParagraphStyle("heading", fontName=font, fontSize=11, leading=16, spaceBefore=8)
    body = ParagraphStyle("body", fontName=font, fontSize=9, leading=13)
    out = io.BytesIO()
    document = SimpleDocTemplate(
        out,
        pagesize=landscape(A4),
        leftMargin=12 * mm,
        rightMargin=12 * mm,
        topMargin=12 * mm,
        bottomMargin=12 * mm,
        title=report_title(report),
        author="gongzhi",
    )
    story: list[Any] = [
        Paragraph(report_title(report), title_style),
        Paragraph(as_of(report.computed_at), body),
        Paragraph(
            _(
                "Cases: %(cases)s; composite score %(score)s, grade %(grade)s; "
                "month on month %(mom)s, year on year %(yoy)s."
            )
            % {
                "cases": report.case_count,
                "score": show_score(report.score),
                "grade": report.grade or NOTHING,
                "mom": show_score_change(report.score_mom),
                "yoy": show_score_change(report.score_yoy),
            },
            body,
        ),
        Paragraph(_("Indicators"), heading),
        _table(
            [
                [_("Indicator"), _("This month"), _("Month on month"), _("Year on year")],
                *(
                    [
                        line.label,
                        show_value(line.name, line.value),
                        show_change(line.name, line.mom),
                        show_change(line.name, line.yoy),
                    ]
                    for line in report.indicators
                ),
            ],
            widths=[70 * mm, 35 * mm, 35 * mm, 35 * mm],
            size=9,
        ),
    ]
    if report.child_level_label:
        story += [Paragraph(report.child_level_label, heading)]
        story += [_table(_subject_rows(report.children), size=7)]
    story += [Paragraph(_("Handling units"), heading), _table(_subject_rows(report.units), size=7)]
    story += [Paragraph(_("Red and black lists"), heading)]
    if not report.rankings:
        story += [Paragraph(_("No ranking of this month is published yet."), body)]
    for lists in report.rankings:
        story += [
            Paragraph(
                _("%(subject)s, version %(version)s")
                % {"subject": lists.subject_label, "version": lists.version},
                body,
            ),
            Spacer(1, 2),
        ]
        rows = [[_("List"), _("Position"), _("Name"), _("Score"), _("Grade")]]
        for label, lines in (
            (RankingList.RED.label, lists.red),
            (RankingList.BLACK.label, lists.black),
        ):
            rows += [
                [
                    str(label),
                    str(line.position or NOTHING),
                    line.name,
                    show_score(line.score),
                    line.grade,
                ]
                for line in lines
            ]
        if len(rows) == 1:
            rows.append([NOTHING, "", _("Too few ranked to list."), "", ""])
        story += [_table(rows, widths=[35 * mm, 20 * mm, 90 * mm, 25 * mm, 20 * mm], size=9)]
    document.build(story)
    return out.getvalue()


# --- Views -------------------------------------------------------------------------------------


def _region(request: HttpRequest) -> Region:
    user = request.user
    if not policies.can_view_evaluation(user):
        raise PermissionDenied(_("Figures and rankings are for the staff who evaluate the work."))
    if request.GET.get("region"):
        return policies.access_evaluated_region(user, request.GET["region"])
    region = policies.evaluated_regions(user).first()
    if region is None:
        raise PermissionDenied(_("You have no region to evaluate."))
    return region


def _download(content: bytes, content_type: str, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_GET
def figures_xlsx(request: HttpRequest) -> HttpResponse:
    """The figures page as a workbook (same ``?region=&from=&to=``)."""
    region = _region(request)
    period = period_from(request.GET)
    book = figures_workbook(figures_report(region, period))
    name = f"figures-{region.code}-{period.first:%Y%m}-{period.last:%Y%m}.xlsx"
    return _download(workbook_bytes(book), XLSX, name)


@require_GET
def ranking_xlsx(request: HttpRequest, ranking_id: int) -> HttpResponse:
    ranking = policies.access_ranking(request.user, ranking_id)
    name = (
        f"ranking-{ranking.region.code}-{ranking.month:%Y%m}-{ranking.subject}"
        f"-v{ranking.version}.xlsx"
    )
    return _download(workbook_bytes(ranking_workbook(ranking)), XLSX, name)


@require_GET
def system_xlsx(request: HttpRequest, system_id: int) -> HttpResponse:
    """The results of an indicator system, as far as the person may see its subjects."""
    system = assessment_policies.access_system(request.user, system_id)
    visible = assessment_policies.assessments_visible_to(request.user, system)
    rows = assessment_queries.results(system, visible)
    name = f"evaluation-{system.pk}-{system.first_month:%Y%m}-{system.last_month:%Y%m}.xlsx"
    return _download(workbook_bytes(system_workbook(system, rows)), XLSX, name)


@require_GET
def report_pdf(request: HttpRequest) -> HttpResponse:
    """The monthly report (``?region=&month=YYYY-MM``; the last full month by default)."""
    region = _region(request)
    text = request.GET.get("month", "").strip()
    month = parse_month(text) if text else last_full_month()
    report = monthly_report(request.user, region, month)
    name = f"report-{region.code}-{month:%Y%m}.pdf"
    return _download(report_pdf_bytes(report), "application/pdf", name)
