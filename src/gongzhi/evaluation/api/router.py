"""The evaluation API (router): figures, rankings and score schemes.

Thin adapters over evaluation services and queries: parse, access through ``policies``
(``access_evaluated_region`` / ``access_ranking``: 404 outside the person's scope, 403 when
visible but not allowed), call the service, return the schema. Domain errors go through the
API's one handler as ``{"code", "message", "details"}``.
"""

from __future__ import annotations

from typing import Any

from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongzhi.core.errors import PermissionDenied
from gongzhi.evaluation import policies, queries, services
from gongzhi.evaluation.api.schemas import (
    ChangeOut,
    EntryOut,
    FiguresOut,
    PeriodOut,
    PublishIn,
    RankingDetailOut,
    RankingOut,
    RankingPage,
    RegionRef,
    SchemeIn,
    SchemeOut,
    SubjectFigures,
)
from gongzhi.evaluation.choices import RankingSubject
from gongzhi.evaluation.indicators import Figures, change
from gongzhi.evaluation.models import Ranking, ScoreScheme
from gongzhi.evaluation.periods import Period, add_months, month_of, parse_month
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

router = Router(tags=["evaluation"])


class FiguresQuery(Schema):
    region: int | None = Field(default=None, description="default: the top of your scope")
    from_: str | None = Field(default=None, alias="from", description="YYYY-MM")
    to: str | None = Field(default=None, description="YYYY-MM")


class RankingFilters(Schema):
    month: str | None = Field(default=None, max_length=7, description="YYYY-MM")
    region: int | None = None
    subject: RankingSubject | None = None
    current: bool | None = Field(default=None, description="only current versions (true)")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


def _region_ref(region: Region) -> RegionRef:
    return RegionRef(id=region.pk, name=region.name, code=region.code, level=region.level)


def _subject(pk: int, name: str, figures: Figures) -> SubjectFigures:
    return SubjectFigures(
        id=pk,
        name=name,
        case_count=figures.case_count,
        indicators=figures.indicators(),
        score=figures.score,
        grade=figures.grade or "",
    )


def _change(current: Figures, before: Figures) -> ChangeOut:
    now, then = current.indicators(), before.indicators()
    score = None
    if current.score is not None and before.score is not None:
        score = current.score - before.score
    return ChangeOut(indicators={k: change(v, then[k]) for k, v in now.items()}, score=score)


def _period(query: FiguresQuery) -> Period:
    if not query.from_ and not query.to:
        return Period.month(add_months(month_of(timezone.now()), -1))
    return Period.parse(query.from_ or query.to or "", query.to or None)


@router.get("/evaluation/figures", response=FiguresOut, summary="考评数据 Figures of a region")
def get_figures(request: HttpRequest, query: Query[FiguresQuery]) -> FiguresOut:
    user = request.user
    if not policies.can_view_evaluation(user):
        raise PermissionDenied(_("Figures and rankings are for the staff who evaluate the work."))
    if query.region is not None:
        region = policies.access_evaluated_region(user, query.region)
    else:
        found = policies.evaluated_regions(user).first()
        if found is None:
            raise PermissionDenied(_("You have no region to evaluate."))
        region = found
    period = _period(query)
    scheme = queries.scheme_for(region)
    current = queries.figures_for_region(region, period, scheme)
    previous = queries.figures_for_region(region, period.previous(), scheme)
    year_before = queries.figures_for_region(region, period.year_before(), scheme)
    if region.level < RegionLevel.STREET:
        level: int | None = RegionLevel.STREET
    else:
        level = region.level + 1 if region.level < RegionLevel.GRID else None
    children = queries.figures_by_child(region, period, level, scheme) if level else {}
    units = sorted(queries.figures_by_unit(region, period, scheme).items(), key=lambda u: u[0].name)
    return FiguresOut(
        region=_region_ref(region),
        period=PeriodOut(
            first=f"{period.first:%Y-%m}", last=f"{period.last:%Y-%m}", label=period.label
        ),
        computed_at=queries.computed_at(period),
        counts=current.counts,
        case_count=current.case_count,
        indicators=current.indicators(),
        score=current.score,
        grade=current.grade or "",
        mom=_change(current, previous),
        yoy=_change(current, year_before),
        children=[_subject(r.pk, r.name, f) for r, f in children.items()],
        units=[_subject(u.pk, u.name, f) for u, f in units],
    )


def _ranking_out(ranking: Ranking) -> dict[str, Any]:
    return {
        "id": ranking.pk,
        "month": f"{ranking.month:%Y-%m}",
        "subject": ranking.subject,
        "subject_label": str(RankingSubject(ranking.subject).label),
        "region": _region_ref(ranking.region),
        "version": ranking.version,
        "is_current": ranking.is_current,
        "correction_reason": ranking.correction_reason,
        "computed_at": ranking.computed_at,
        "published_at": ranking.published_at,
    }


def _ranking_detail(ranking: Ranking) -> RankingDetailOut:
    entries = ranking.entries.order_by(F("position").asc(nulls_last=True), "name")
    return RankingDetailOut(
        **_ranking_out(ranking),
        scheme=ranking.scheme,
        entries=[
            EntryOut(
                position=e.position,
                name=e.name,
                region_id=e.region_id,
                unit_id=e.unit_id,
                score=e.score,
                grade=e.grade,
                listed=e.listed,
                case_count=int(
                    max(
                        e.figures.get("counts", {}).get("submitted_count", 0),
                        e.figures.get("counts", {}).get("assigned_count", 0),
                    )
                ),
                indicators=e.figures.get("indicators", {}),
            )
            for e in entries
        ],
    )


@router.get("/evaluation/rankings", response=RankingPage, summary="Published rankings I can see")
def list_rankings(request: HttpRequest, filters: Query[RankingFilters]) -> RankingPage:
    rankings = policies.rankings_visible_to(request.user)
    if filters.month:
        rankings = rankings.filter(month=parse_month(filters.month))
    if filters.region is not None:
        region = policies.access_evaluated_region(request.user, filters.region)
        rankings = rankings.filter(region=region)
    if filters.subject:
        rankings = rankings.filter(subject=filters.subject)
    if filters.current is not None:
        rankings = rankings.filter(is_current=filters.current)
    count = rankings.count()
    rows = rankings[filters.offset : filters.offset + filters.limit]
    return RankingPage(
        count=count,
        limit=filters.limit,
        offset=filters.offset,
        items=[RankingOut(**_ranking_out(r)) for r in rows],
    )


@router.get(
    "/evaluation/rankings/{ranking_id}",
    response=RankingDetailOut,
    summary="One frozen ranking with every entry",
)
def get_ranking(request: HttpRequest, ranking_id: int) -> RankingDetailOut:
    return _ranking_detail(policies.access_ranking(request.user, ranking_id))


@router.post(
    "/evaluation/rankings",
    response={201: RankingDetailOut},
    summary="发布红黑榜 Publish a monthly ranking (again: a correction with a reason)",
)
def publish_ranking(request: HttpRequest, payload: PublishIn) -> Status[RankingDetailOut]:
    region = policies.access_evaluated_region(request.user, payload.region, action="publish")
    ranking = services.publish_ranking(
        region,
        month=parse_month(payload.month),
        subject=payload.subject,
        actor=request.user,
        correction_reason=payload.correction_reason,
    )
    return Status(201, _ranking_detail(policies.access_ranking(request.user, ranking.pk)))


@router.put(
    "/evaluation/schemes/{region_id}",
    response=SchemeOut,
    summary="Set the score scheme used within a region",
)
def set_score_scheme(request: HttpRequest, region_id: int, payload: SchemeIn) -> SchemeOut:
    region = policies.access_evaluated_region(request.user, region_id, action="configure")
    values = {k: v for k, v in payload.model_dump(exclude_unset=True).items() if v is not None}
    saved: ScoreScheme = services.set_score_scheme(region, actor=request.user, **values)
    saved.refresh_from_db()  # the values as stored (two decimal places)
    fields: dict[str, Any] = {name: getattr(saved, name) for name in queries.SCHEME_FIELDS}
    return SchemeOut(region=_region_ref(region), updated_at=saved.updated_at, **fields)
