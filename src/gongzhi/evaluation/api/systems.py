"""The evaluation API (systems): indicator systems, assessments and rectification lists.

Thin adapters over ``assessments`` (writes), ``assessment_queries`` (reads) and
``assessment_policies`` (who may): parse, access, call the service, return the schema.
Errors are DomainErrors, which the API maps to ``{"code", "message", "details"}``.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any, Literal

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import Field

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import units_with
from gongzhi.core.errors import NotFound
from gongzhi.evaluation import assessment_policies as policies
from gongzhi.evaluation import assessment_queries as queries
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import (
    Assessment,
    Indicator,
    IndicatorSystem,
    RectificationItem,
)
from gongzhi.evaluation.periods import Period
from gongzhi.territory.policies import access_region

router = Router(tags=["evaluation"])


# --- schemas --------------------------------------------------------------------------------------


class IndicatorOut(Schema):
    id: int
    code: str
    name: str
    parent_id: int | None
    weight: Decimal
    source: str
    figure: str
    rule: dict[str, Any]
    higher_is_better: bool
    criteria: str


class SystemOut(Schema):
    id: int
    name: str
    kind: str
    state: str
    state_label: str
    region_id: int
    region_name: str
    first_month: str
    last_month: str
    subject_kind: str
    subject_level: int | None
    subject_unit_kind: str
    computed_at: dt.datetime | None
    closed_at: dt.datetime | None


class ScoreOut(Schema):
    indicator_id: int
    code: str
    value: Decimal | None
    shown_value: str
    points: Decimal
    is_computed: bool
    evidence: str
    evidence_reference: str
    evidence_file: str | None
    entered_by: str | None
    entered_at: dt.datetime


class AssessmentOut(Schema):
    id: int
    system_id: int
    name: str
    region_id: int | None
    unit_id: int | None
    total: Decimal
    position: int | None
    scored_count: int


class ResultOut(AssessmentOut):
    group_points: dict[str, Decimal]
    points: dict[str, Decimal]


class SystemDetailOut(SystemOut):
    description: str
    indicators: list[IndicatorOut]
    results: list[ResultOut]


class AssessmentDetailOut(AssessmentOut):
    scores: list[ScoreOut]


class EventOut(Schema):
    seq: int
    action: str
    from_state: str
    to_state: str
    occurred_at: dt.datetime
    actor: str | None
    actor_role: str
    actor_unit_name: str
    reason: str


class RectificationOut(Schema):
    id: int
    system_id: int
    assessment_id: int
    subject: str
    indicator_code: str | None
    problem: str
    owner_unit_id: int
    owner_unit_name: str
    deadline: dt.date
    state: str
    state_label: str
    report: str
    evidence_reference: str
    evidence_file: str | None
    submitted_at: dt.datetime | None
    overdue_at: dt.datetime | None
    accepted_at: dt.datetime | None


class RectificationDetailOut(RectificationOut):
    events: list[EventOut]


class RectificationPage(Schema):
    count: int
    items: list[RectificationOut]


class SystemIn(Schema):
    name: str = Field(max_length=200)
    kind: Literal["annual", "pilot"]
    region_id: int
    first_month: str = Field(description="YYYY-MM")
    last_month: str | None = Field(default=None, description="YYYY-MM; the first if omitted")
    subject_kind: Literal["region", "unit"] = "region"
    subject_level: int | None = None
    subject_unit_kind: str = ""
    description: str = Field(default="", max_length=4000)


class IndicatorIn(Schema):
    code: str = Field(max_length=20)
    name: str = Field(max_length=200)
    weight: Decimal
    source: Literal["computed", "entered", "group"]
    figure: str = ""
    rule: dict[str, Any] | None = None
    higher_is_better: bool = True
    parent_id: int | None = None
    criteria: str = Field(default="", max_length=4000)


class IndicatorPatch(Schema):
    """The fields to change; those left out keep their value (``parent_id: null`` takes the
    indicator out of its group)."""

    code: str | None = Field(default=None, max_length=20)
    name: str | None = Field(default=None, max_length=200)
    weight: Decimal | None = None
    source: Literal["computed", "entered", "group"] | None = None
    figure: str | None = None
    rule: dict[str, Any] | None = None
    higher_is_better: bool | None = None
    parent_id: int | None = None
    criteria: str | None = Field(default=None, max_length=4000)


class ScoreIn(Schema):
    indicator_id: int
    value: Decimal
    evidence: str = Field(max_length=4000)
    evidence_reference: str = Field(default="", max_length=300)


class GenerateIn(Schema):
    deadline: dt.date
    below: Decimal | None = Field(default=None, description="share of the points, 0..1")
    bottom: int | None = None


class SubmitIn(Schema):
    report: str = Field(max_length=4000)
    evidence_reference: str = Field(default="", max_length=300)


class AcceptIn(Schema):
    note: str = Field(default="", max_length=2000)


class RejectIn(Schema):
    reason: str = Field(max_length=2000)


class RectificationFilters(Schema):
    system_id: int | None = None
    state: Literal["open", "overdue", "submitted", "accepted"] | None = None
    mine: bool = False
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


# --- conversions ------------------------------------------------------------------------------


def _system(system: IndicatorSystem) -> dict[str, Any]:
    return {
        "id": system.pk,
        "name": system.name,
        "kind": system.kind,
        "state": system.state,
        "state_label": str(system.get_state_display()),
        "region_id": system.region_id,
        "region_name": system.region.name,
        "first_month": f"{system.first_month:%Y-%m}",
        "last_month": f"{system.last_month:%Y-%m}",
        "subject_kind": system.subject_kind,
        "subject_level": system.subject_level,
        "subject_unit_kind": system.subject_unit_kind,
        "computed_at": system.computed_at,
        "closed_at": system.closed_at,
    }


def _indicator(indicator: Indicator) -> IndicatorOut:
    return IndicatorOut(
        id=indicator.pk,
        code=indicator.code,
        name=indicator.name,
        parent_id=indicator.parent_id,
        weight=indicator.weight,
        source=indicator.source,
        figure=indicator.figure,
        rule=indicator.rule,
        higher_is_better=indicator.higher_is_better,
        criteria=indicator.criteria,
    )


def _assessment(assessment: Assessment) -> dict[str, Any]:
    return {
        "id": assessment.pk,
        "system_id": assessment.system_id,
        "name": assessment.name,
        "region_id": assessment.region_id,
        "unit_id": assessment.unit_id,
        "total": assessment.total,
        "position": assessment.position,
        "scored_count": assessment.scored_count,
    }


def _item(item: RectificationItem) -> dict[str, Any]:
    return {
        "id": item.pk,
        "system_id": item.system_id,
        "assessment_id": item.assessment_id,
        "subject": item.assessment.name,
        "indicator_code": item.indicator.code if item.indicator else None,
        "problem": item.problem,
        "owner_unit_id": item.owner_unit_id,
        "owner_unit_name": item.owner_unit.name,
        "deadline": item.deadline,
        "state": item.state,
        "state_label": str(item.get_state_display()),
        "report": item.report,
        "evidence_reference": item.evidence_reference,
        "evidence_file": str(item.evidence_file_id) if item.evidence_file_id else None,
        "submitted_at": item.submitted_at,
        "overdue_at": item.overdue_at,
        "accepted_at": item.accepted_at,
    }


def _detail(request: HttpRequest, system: IndicatorSystem) -> SystemDetailOut:
    rows = queries.results(system, policies.assessments_visible_to(request.user, system))
    groups = {i.pk: i.code for i in system.indicators.all() if i.is_group}
    return SystemDetailOut(
        **_system(system),
        description=system.description,
        indicators=[_indicator(i) for i in queries.indicators_of(system)],
        results=[
            ResultOut(
                **_assessment(row.assessment),
                group_points={groups[pk]: points for pk, points in row.group_points.items()},
                points={c.indicator.code: c.score.points for c in row.cells if c.score},
            )
            for row in rows
        ],
    )


def _item_detail(item: RectificationItem) -> RectificationDetailOut:
    return RectificationDetailOut(
        **_item(item),
        events=[
            EventOut(
                seq=e.seq,
                action=e.action,
                from_state=e.from_state,
                to_state=e.to_state,
                occurred_at=e.occurred_at,
                actor=str(e.actor) if e.actor else None,
                actor_role=e.actor_role,
                actor_unit_name=e.actor_unit_name,
                reason=e.reason,
            )
            for e in queries.events_of(item)
        ],
    )


# --- systems -------------------------------------------------------------------------------------


@router.get("/evaluation/systems", response=list[SystemOut])
def list_indicator_systems(request: HttpRequest) -> list[dict[str, Any]]:
    systems = policies.systems_visible_to(request.user).order_by("-first_month", "name")[:500]
    return [_system(s) for s in systems]


@router.post("/evaluation/systems", response={201: SystemDetailOut})
def create_indicator_system(request: HttpRequest, body: SystemIn) -> Status[SystemDetailOut]:
    region = access_region(request.user, body.region_id)
    system = assessments.create_system(
        region,
        actor=request.user,
        name=body.name,
        kind=body.kind,
        period=Period.parse(body.first_month, body.last_month),
        subject_kind=body.subject_kind,
        subject_level=body.subject_level,
        subject_unit_kind=body.subject_unit_kind,
        description=body.description,
    )
    return Status(201, _detail(request, system))


@router.get("/evaluation/systems/{system_id}", response=SystemDetailOut)
def get_indicator_system(request: HttpRequest, system_id: int) -> SystemDetailOut:
    return _detail(request, policies.access_system(request.user, system_id))


@router.post("/evaluation/systems/{system_id}/indicators", response={201: IndicatorOut})
def add_indicator(request: HttpRequest, system_id: int, body: IndicatorIn) -> Status[IndicatorOut]:
    system = policies.access_system(request.user, system_id, action="manage")
    parent = None
    if body.parent_id is not None:
        parent = system.indicators.filter(pk=body.parent_id).first()
        if parent is None:
            raise NotFound(_("No such indicator."))
    indicator = assessments.add_indicator(
        system,
        actor=request.user,
        code=body.code,
        name=body.name,
        weight=body.weight,
        source=body.source,
        figure=body.figure,
        rule=body.rule,
        higher_is_better=body.higher_is_better,
        parent=parent,
        criteria=body.criteria,
    )
    return Status(201, _indicator(indicator))


def _system_indicator(request: HttpRequest, system_id: int, indicator_id: int) -> Indicator:
    system = policies.access_system(request.user, system_id, action="manage")
    indicator = system.indicators.filter(pk=indicator_id).first()
    if indicator is None:
        raise NotFound(_("No such indicator."))
    return indicator


def _patched_parent(indicator: Indicator, body: IndicatorPatch) -> Indicator | None:
    if "parent_id" not in body.model_fields_set:
        return indicator.parent
    if body.parent_id is None:
        return None
    parent = indicator.system.indicators.filter(pk=body.parent_id).first()
    if parent is None:
        raise NotFound(_("No such indicator."))
    return parent


@router.patch("/evaluation/systems/{system_id}/indicators/{indicator_id}", response=IndicatorOut)
def update_indicator(
    request: HttpRequest, system_id: int, indicator_id: int, body: IndicatorPatch
) -> IndicatorOut:
    indicator = _system_indicator(request, system_id, indicator_id)
    sent = body.model_fields_set

    def pick(name: str) -> Any:
        value = getattr(body, name)
        return value if name in sent and value is not None else getattr(indicator, name)

    indicator = assessments.update_indicator(
        indicator,
        actor=request.user,
        code=pick("code"),
        name=pick("name"),
        weight=pick("weight"),
        source=pick("source"),
        figure=pick("figure"),
        rule=pick("rule"),
        higher_is_better=pick("higher_is_better"),
        parent=_patched_parent(indicator, body),
        criteria=pick("criteria"),
    )
    return _indicator(indicator)


@router.delete("/evaluation/systems/{system_id}/indicators/{indicator_id}", response={204: None})
def remove_indicator(request: HttpRequest, system_id: int, indicator_id: int) -> Status[None]:
    indicator = _system_indicator(request, system_id, indicator_id)
    assessments.remove_indicator(indicator, actor=request.user)
    return Status(204, None)


@router.post("/evaluation/systems/{system_id}/activate", response=SystemDetailOut)
def activate_indicator_system(request: HttpRequest, system_id: int) -> SystemDetailOut:
    system = policies.access_system(request.user, system_id, action="manage")
    return _detail(request, assessments.activate_system(system, actor=request.user))


@router.post("/evaluation/systems/{system_id}/compute", response=SystemDetailOut)
def compute_indicator_scores(request: HttpRequest, system_id: int) -> SystemDetailOut:
    system = policies.access_system(request.user, system_id, action="manage")
    assessments.compute_scores(system, actor=request.user)
    return _detail(request, policies.access_system(request.user, system_id))


@router.post("/evaluation/systems/{system_id}/close", response=SystemDetailOut)
def close_indicator_system(request: HttpRequest, system_id: int) -> SystemDetailOut:
    system = policies.access_system(request.user, system_id, action="manage")
    return _detail(request, assessments.close_system(system, actor=request.user))


@router.post(
    "/evaluation/systems/{system_id}/rectifications", response={201: list[RectificationOut]}
)
def generate_rectification_list(
    request: HttpRequest, system_id: int, body: GenerateIn
) -> Status[list[RectificationOut]]:
    system = policies.access_system(request.user, system_id, action="manage")
    created = assessments.generate_rectifications(
        system, actor=request.user, deadline=body.deadline, below=body.below, bottom=body.bottom
    )
    return Status(201, [RectificationOut(**_item(i)) for i in created])


# --- assessments ---------------------------------------------------------------------------------


@router.get("/evaluation/assessments/{assessment_id}", response=AssessmentDetailOut)
def get_assessment(request: HttpRequest, assessment_id: int) -> AssessmentDetailOut:
    assessment = policies.access_assessment(request.user, assessment_id)
    return AssessmentDetailOut(
        **_assessment(assessment),
        scores=[
            ScoreOut(
                indicator_id=c.indicator.pk,
                code=c.indicator.code,
                value=c.score.value,
                shown_value=c.shown_value,
                points=c.score.points,
                is_computed=c.score.is_computed,
                evidence=c.score.evidence,
                evidence_reference=c.score.evidence_reference,
                evidence_file=str(c.score.evidence_file_id) if c.score.evidence_file_id else None,
                entered_by=c.score.entered_by.username if c.score.entered_by else None,
                entered_at=c.score.entered_at,
            )
            for c in queries.assessment_cells(assessment)
            if c.score is not None
        ],
    )


@router.post("/evaluation/assessments/{assessment_id}/scores", response=ScoreOut)
def enter_indicator_score(request: HttpRequest, assessment_id: int, body: ScoreIn) -> ScoreOut:
    assessment = policies.access_assessment(request.user, assessment_id, action="assess")
    indicator = assessment.system.indicators.filter(pk=body.indicator_id).first()
    if indicator is None:
        raise NotFound(_("No such indicator."))
    score = assessments.enter_score(
        assessment,
        indicator,
        actor=request.user,
        value=body.value,
        evidence=body.evidence,
        evidence_reference=body.evidence_reference,
    )
    return ScoreOut(
        indicator_id=indicator.pk,
        code=indicator.code,
        value=score.value,
        shown_value=queries.show_value(indicator, score.value),
        points=score.points,
        is_computed=False,
        evidence=score.evidence,
        evidence_reference=score.evidence_reference,
        evidence_file=None,
        entered_by=request.user.get_username(),
        entered_at=score.entered_at,
    )


# --- rectifications ------------------------------------------------------------------------------


@router.get("/evaluation/rectifications", response=RectificationPage)
def list_rectifications(
    request: HttpRequest, filters: Query[RectificationFilters]
) -> dict[str, Any]:
    found = queries.rectifications_of(
        policies.rectifications_visible_to(request.user),
        system_id=filters.system_id,
        state=filters.state,
        unit_ids=units_with(request.user, Capability.RECTIFY) if filters.mine else None,
    )
    page = found[filters.offset : filters.offset + filters.limit]
    return {"count": found.count(), "items": [_item(i) for i in page]}


@router.get("/evaluation/rectifications/{item_id}", response=RectificationDetailOut)
def get_rectification(request: HttpRequest, item_id: int) -> RectificationDetailOut:
    return _item_detail(policies.access_rectification(request.user, item_id))


@router.post("/evaluation/rectifications/{item_id}/submit", response=RectificationDetailOut)
def submit_rectification_report(
    request: HttpRequest, item_id: int, body: SubmitIn
) -> RectificationDetailOut:
    item = policies.access_rectification(request.user, item_id, action="submit")
    assessments.submit_rectification(
        item, actor=request.user, report=body.report, evidence_reference=body.evidence_reference
    )
    return _item_detail(policies.access_rectification(request.user, item_id))


@router.post("/evaluation/rectifications/{item_id}/accept", response=RectificationDetailOut)
def accept_rectification_item(
    request: HttpRequest, item_id: int, body: AcceptIn
) -> RectificationDetailOut:
    item = policies.access_rectification(request.user, item_id, action="decide")
    assessments.accept_rectification(item, actor=request.user, note=body.note)
    return _item_detail(policies.access_rectification(request.user, item_id))


@router.post("/evaluation/rectifications/{item_id}/reject", response=RectificationDetailOut)
def reject_rectification_item(
    request: HttpRequest, item_id: int, body: RejectIn
) -> RectificationDetailOut:
    item = policies.access_rectification(request.user, item_id, action="decide")
    assessments.reject_rectification(item, actor=request.user, reason=body.reason)
    return _item_detail(policies.access_rectification(request.user, item_id))
