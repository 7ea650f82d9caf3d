"""Ranking pages (红黑榜): the list, one frozen ranking, publishing one, and the score scheme.

Thin: rankings come through ``policies.rankings_visible_to`` / ``access_ranking``, regions
through ``policies.access_evaluated_region`` with the action the page needs; every change
is ``services.publish_ranking`` or ``services.set_score_scheme``. A domain error re-renders
the form with the person's input and the service's message, with the error's status.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import F
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of
from gongzhi.core.errors import Conflict, DomainError, PermissionDenied
from gongzhi.evaluation import policies, queries, services
from gongzhi.evaluation.choices import RankingList, RankingSubject
from gongzhi.evaluation.forms import PublishForm, SchemeForm
from gongzhi.evaluation.indicators import INDICATORS, Scheme
from gongzhi.evaluation.models import Ranking, RankingEntry, ScoreScheme
from gongzhi.evaluation.pages import last_full_month, show_value
from gongzhi.evaluation.periods import Period
from gongzhi.evaluation.views.figures import require_evaluation
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region

PAGE_SIZE = 50


@dataclass(frozen=True)
class EntryRow:
    """One line of a ranking as the page shows it."""

    position: int | None
    name: str
    score: Decimal | None
    grade: str
    listed: str
    listed_label: str
    case_count: int
    values: list[str]


def entry_rows(entries: list[RankingEntry]) -> list[EntryRow]:
    labels = dict(RankingList.choices)
    rows = []
    for entry in entries:
        values = entry.figures.get("indicators", {})
        counts = entry.figures.get("counts", {})
        rows.append(
            EntryRow(
                position=entry.position,
                name=entry.name,
                score=entry.score,
                grade=entry.grade,
                listed=entry.listed,
                listed_label=str(labels[entry.listed]) if entry.listed else "",
                case_count=int(
                    max(counts.get("submitted_count", 0), counts.get("assigned_count", 0))
                ),
                values=[show_value(name, values.get(name)) for name in INDICATORS],
            )
        )
    return rows


def ordered_entries(ranking: Ranking) -> list[RankingEntry]:
    """Ranked entries by position, then the unranked ones, by name (on every database)."""
    return list(ranking.entries.order_by(F("position").asc(nulls_last=True), "name"))


# --- Lists and one ranking ---------------------------------------------------------------------


@require_GET
def ranking_list(request: HttpRequest) -> HttpResponse:
    require_evaluation(request.user)
    page = Paginator(policies.rankings_visible_to(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "evaluation/rankings.html",
        {
            "page": page,
            "can_publish": not scope_of(request.user, Capability.PUBLISH_RANKINGS).is_empty,
        },
    )


@require_GET
def ranking_detail(request: HttpRequest, ranking_id: int) -> HttpResponse:
    ranking = policies.access_ranking(request.user, ranking_id)
    versions = policies.rankings_visible_to(request.user).filter(
        month=ranking.month, subject=ranking.subject, region_id=ranking.region_id
    )
    correct_query = urlencode(
        {
            "region": str(ranking.region_id),
            "month": f"{ranking.month:%Y-%m}",
            "subject": ranking.subject,
        }
    )
    return render(
        request,
        "evaluation/ranking.html",
        {
            "ranking": ranking,
            "rows": entry_rows(ordered_entries(ranking)),
            "labels": list(INDICATORS.values()),
            "versions": [v for v in versions if v.pk != ranking.pk],
            "scheme": Scheme.from_json(ranking.scheme),
            "can_correct": ranking.is_current
            and policies.can_publish_rankings(request.user, ranking.region),
            "correct_query": correct_query,
        },
    )


# --- Publishing --------------------------------------------------------------------------------


def regions_to_publish(user: AnyUser) -> list[Region]:
    """The regions whose streets or units the person may rank, top first."""
    scope = scope_of(user, Capability.PUBLISH_RANKINGS)
    return list(
        Region.objects.filter(scope.q("path"), level__lte=RegionLevel.STREET)
        .defer("boundary")
        .order_by("path")
    )


def _defaults(regions: list[Region]) -> dict[str, Any]:
    region = regions[0]
    subject = RankingSubject.STREET if region.level < RegionLevel.STREET else RankingSubject.UNIT
    return {"region": region.pk, "month": f"{last_full_month():%Y-%m}", "subject": subject}


def publish(request: HttpRequest) -> HttpResponse:
    """GET: the ranking as it would be published now (a draft, nothing saved). POST: publish
    it; publishing a month again is a correction and needs a reason."""
    user = request.user
    if scope_of(user, Capability.PUBLISH_RANKINGS).is_empty:
        raise PermissionDenied(_("Only leaders and assessors publish rankings."))
    regions = regions_to_publish(user)
    if request.method == "POST":
        data: Any = request.POST
    else:
        data = {**_defaults(regions), **request.GET.dict()} if regions else None
    form = PublishForm(data, regions=regions)
    context: dict[str, Any] = {"form": form}
    status = 200
    if form.is_bound and form.is_valid():
        cleaned = form.cleaned_data
        region = policies.access_evaluated_region(user, cleaned["region"], action="publish")
        if request.method == "POST":
            try:
                ranking = services.publish_ranking(
                    region,
                    month=cleaned["month"],
                    subject=cleaned["subject"],
                    actor=user,
                    correction_reason=cleaned["correction_reason"],
                )
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
                if isinstance(exc, Conflict) and "ranking" in exc.details:
                    context["published"] = exc.details["ranking"]
            else:
                messages.success(request, _("The ranking is published."))
                return redirect("evaluation:ranking", ranking_id=ranking.pk)
        try:
            _scheme, entries = services.draft_ranking(region, cleaned["month"], cleaned["subject"])
        except DomainError as exc:
            if status == 200:
                form.add_error(None, exc.message)
                status = exc.status
        else:
            context.update(
                region=region,
                month=cleaned["month"],
                subject_label=RankingSubject(cleaned["subject"]).label,
                rows=entry_rows(entries),
                computed_at=queries.computed_at(Period.month(cleaned["month"])),
            )
    elif form.is_bound:
        status = 400
    context["labels"] = list(INDICATORS.values())
    return render(request, "evaluation/ranking_publish.html", context, status=status)


# --- Score scheme ------------------------------------------------------------------------------


def scheme(request: HttpRequest, region_id: int) -> HttpResponse:
    """The weights, values and grade thresholds used within a region (administrators)."""
    user = request.user
    region = policies.access_evaluated_region(user, region_id, action="configure")
    current = queries.scheme_for(region)
    initial = {name: getattr(current, name) for name in queries.SCHEME_FIELDS}
    form = SchemeForm(request.POST if request.method == "POST" else None, initial=initial)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            try:
                services.set_score_scheme(region, actor=user, **form.cleaned_data)
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                messages.success(request, _("The score scheme is saved."))
                return redirect(reverse("evaluation:scheme", args=[region.pk]))
    own = ScoreScheme.objects.filter(region=region).first()
    return render(
        request,
        "evaluation/scheme.html",
        {"region": region, "form": form, "own": own},
        status=status,
    )
