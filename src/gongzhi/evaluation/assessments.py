"""Every change to indicator systems, scores and rectification lists goes through here.

A system is defined as a draft (indicators, weights, rules), activated (one assessment per
subject; platform indicators computed from the tallies), scored by assessors with evidence,
closed (results final), and its bottom results become the rectification list (整改清单),
whose items the owner units report on and assessors accept or send back. Lifecycles:
``workflow.py``; formulas: ``scoring.py``; docs/evaluation-systems.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from typing import Any

from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.models import User
from gongzhi.accounts.queries import AnyUser, acting_membership, active_memberships
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import Conflict, InvalidInput, PermissionDenied
from gongzhi.core.timeline import append_event
from gongzhi.evaluation import assessment_policies as policies
from gongzhi.evaluation import assessment_queries as queries
from gongzhi.evaluation.indicators import Figures
from gongzhi.evaluation.models import (
    Assessment,
    EvidenceFile,
    Indicator,
    IndicatorScore,
    IndicatorSource,
    IndicatorSystem,
    RectificationEvent,
    RectificationItem,
    SubjectKind,
    SystemKind,
)
from gongzhi.evaluation.periods import Period
from gongzhi.evaluation.queries import figures_for_region, figures_for_unit
from gongzhi.evaluation.scoring import (
    Deduction,
    RuleError,
    parse_rule,
    points_for,
    positions,
    rule_as_json,
)
from gongzhi.evaluation.services import bounded_number, field_label
from gongzhi.evaluation.tallies import refresh_tallies
from gongzhi.evaluation.workflow import (
    Action,
    IllegalTransition,
    State,
    SystemAction,
    next_state,
    next_system_state,
)
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit

# Audit actions (core.AuditEvent) of systems and scores.
SYSTEM_CREATED = "indicator_system.created"
INDICATOR_ADDED = "indicator_system.indicator_added"
INDICATOR_UPDATED = "indicator_system.indicator_updated"
INDICATOR_REMOVED = "indicator_system.indicator_removed"
SYSTEM_ACTIVATED = "indicator_system.activated"
SYSTEM_COMPUTED = "indicator_system.computed"
SYSTEM_CLOSED = "indicator_system.closed"
RECTIFICATIONS_GENERATED = "indicator_system.rectifications_generated"
SCORE_ENTERED = "assessment.score_entered"

MAX_WEIGHT = Decimal(1000)
MAX_VALUE = Decimal(1_000_000)
MAX_EVIDENCE_BYTES = 8 * 1024 * 1024
EVIDENCE_TYPES = {
    b"%PDF-": (".pdf", "application/pdf"),
    b"\xff\xd8\xff": (".jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": (".png", "image/png"),
}

RULE_MESSAGES = {
    "not_a_number": gettext_lazy("Every number of the rule must be a number."),
    "linear_flat": gettext_lazy("The target must differ from the floor."),
    "linear_direction": gettext_lazy(
        "When higher is better the target lies above the floor; when lower is better, below it."
    ),
    "no_steps": gettext_lazy("Give between 1 and 20 steps."),
    "bad_step": gettext_lazy("Each step is a value and the points it earns."),
    "step_points": gettext_lazy("A step earns between 0 points and the indicator's points."),
    "duplicate_step": gettext_lazy("Two steps have the same value."),
    "steps_not_monotonic": gettext_lazy("A better step must not earn fewer points."),
    "deduction_not_positive": gettext_lazy("Each event must take off more than 0 points."),
    "unknown_kind": gettext_lazy("The rule is linear, thresholds or deduction per event."),
}


# --- small helpers ------------------------------------------------------------------------


def _text(value: str, name: str, limit: int, *, required: bool = True) -> str:
    text = (value or "").strip()
    label = field_label(name)
    if required and not text:
        raise InvalidInput(_("Fill in the %(name)s.") % {"name": label}, field=name)
    if len(text) > limit:
        message = _("%(name)s is longer than %(limit)s characters.") % {
            "name": label,
            "limit": limit,
        }
        raise InvalidInput(capfirst(message), field=name)
    return text


def _acting(actor: AnyUser, capability: str, path: str) -> tuple[str, str]:
    """The (role, unit name) the person acts in, snapshotted on events."""
    membership = acting_membership(actor, capability, path)
    if membership is not None:
        return membership.role, membership.unit.name
    return ("superuser", "") if actor.is_authenticated and actor.is_superuser else ("", "")


def _acting_for_unit(actor: AnyUser, unit_id: int) -> tuple[str, str]:
    for membership in active_memberships(actor):
        if membership.unit_id == unit_id:
            return membership.role, membership.unit.name
    return ("superuser", "") if actor.is_authenticated and actor.is_superuser else ("", "")


def _audit_system(
    system: IndicatorSystem, action: str, actor: AnyUser, data: dict[str, Any]
) -> None:
    role, unit_name = _acting(actor, Capability.MANAGE_EVALUATION, system.region_path)
    record_audit(
        subject_type="indicator_system",
        subject_id=system.pk,
        subject_label=system.name,
        region_path=system.region_path,
        action=action,
        actor=actor,
        actor_role=role,
        actor_unit_name=unit_name,
        data=data,
    )


def _locked_system(system: IndicatorSystem, action: SystemAction) -> IndicatorSystem:
    locked = IndicatorSystem.objects.select_for_update().get(pk=system.pk)
    try:
        next_system_state(locked.state, action)
    except IllegalTransition:
        raise Conflict(
            _("This cannot be done while the indicator system is %(state)s.")
            % {"state": locked.get_state_display()},
            code="wrong_state",
            state=locked.state,
        ) from None
    return locked


def _store_evidence(content: bytes, actor: AnyUser, now: dt.datetime) -> EvidenceFile:
    """Keep an evidence file (PDF, JPEG or PNG up to 8 MB; the type read from the bytes)."""
    if not content or len(content) > MAX_EVIDENCE_BYTES:
        raise InvalidInput(_("An evidence file must be between 1 byte and 8 MB."), field="file")
    kind = next((v for magic, v in EVIDENCE_TYPES.items() if content.startswith(magic)), None)
    if kind is None:
        raise InvalidInput(_("Evidence files are PDF, JPEG or PNG."), field="file")
    evidence = EvidenceFile(
        extension=kind[0],
        content_type=kind[1],
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        uploaded_by=actor if isinstance(actor, User) else None,
        uploaded_at=now,
    )
    evidence.file.save("evidence" + kind[0], ContentFile(content), save=False)
    evidence.save(force_insert=True)
    return evidence


# --- defining a system ----------------------------------------------------------------------


def create_system(
    region: Region,
    *,
    actor: AnyUser,
    name: str,
    kind: str,
    period: Period,
    subject_kind: str = SubjectKind.REGION,
    subject_level: int | None = None,
    subject_unit_kind: str = "",
    description: str = "",
    now: dt.datetime | None = None,
) -> IndicatorSystem:
    """A draft indicator system for the subjects inside ``region`` over ``period``."""
    if not policies.can_create_system(actor, region):
        raise PermissionDenied(_("You may not define indicator systems for this region."))
    name = _text(name, "name", 200)
    description = _text(description, "description", 4000, required=False)
    if kind not in SystemKind.values:
        raise InvalidInput(_("Choose the annual evaluation or a pilot acceptance."), field="kind")
    if subject_kind == SubjectKind.REGION:
        if subject_level not in RegionLevel.values or subject_level <= region.level:
            raise InvalidInput(
                _("Choose a level of regions below %(region)s.") % {"region": region.name},
                field="subject_level",
            )
        subject_unit_kind = ""
    elif subject_kind == SubjectKind.UNIT:
        if subject_unit_kind not in UnitKind.values:
            raise InvalidInput(_("Choose a kind of unit."), field="subject_unit_kind")
        subject_level = None
    else:
        raise InvalidInput(_("A system assesses regions or units."), field="subject_kind")
    if not isinstance(actor, User):
        raise PermissionDenied(_("You may not define indicator systems for this region."))
    now = now or timezone.now()
    with transaction.atomic():
        if IndicatorSystem.objects.filter(region=region, name=name).exists():
            raise Conflict(
                _("This region has an indicator system of that name already."),
                code="duplicate_name",
            )
        system = IndicatorSystem.objects.create(
            name=name,
            kind=kind,
            description=description,
            region=region,
            region_path=region.path,
            first_month=period.first,
            last_month=period.last,
            subject_kind=subject_kind,
            subject_level=subject_level,
            subject_unit_kind=subject_unit_kind,
            created_by=actor,
            created_at=now,
        )
        _audit_system(
            system,
            SYSTEM_CREATED,
            actor,
            {"kind": kind, "period": period.label, "subject_kind": subject_kind},
        )
    return system


def _indicator_fields(
    system: IndicatorSystem,
    *,
    code: str,
    name: str,
    weight: Any,
    source: str,
    figure: str,
    rule: dict[str, Any] | None,
    higher_is_better: bool,
    parent: Indicator | None,
    criteria: str,
) -> dict[str, Any]:
    """The checked fields of an indicator, as stored; shared by adding and editing so that
    both refuse the same things with the same messages."""
    code = _text(code, "code", 20)
    name = _text(name, "name", 200)
    criteria = _text(criteria, "criteria", 4000, required=False)
    points = bounded_number("weight", weight, Decimal("0.01"), MAX_WEIGHT, places=2)
    if source not in IndicatorSource.values:
        raise InvalidInput(_("Choose where the indicator's value comes from."), field="source")
    stored_rule: dict[str, Any] = {}
    if source == IndicatorSource.GROUP:
        if parent is not None:
            raise InvalidInput(_("Groups do not nest."), field="parent")
        figure, higher_is_better = "", True
    else:
        if source == IndicatorSource.COMPUTED and figure not in queries.FIGURES:
            raise InvalidInput(_("Choose a platform figure."), field="figure")
        if source == IndicatorSource.ENTERED:
            figure = ""
        try:
            parsed = parse_rule(rule or {}, weight=points, higher_is_better=higher_is_better)
        except RuleError as error:
            raise InvalidInput(
                str(RULE_MESSAGES.get(error.code, error)), field="rule", problem=error.code
            ) from None
        stored_rule = rule_as_json(parsed)
    if parent is not None and (parent.system_id != system.pk or not parent.is_group):
        raise InvalidInput(_("The group must be a group of this system."), field="parent")
    return {
        "code": code,
        "name": name,
        "criteria": criteria,
        "weight": points,
        "source": source,
        "figure": figure,
        "rule": stored_rule,
        "higher_is_better": higher_is_better,
        "parent": parent,
    }


def _audited(fields: dict[str, Any]) -> dict[str, Any]:
    """An indicator's fields as an audit event keeps them (as ``add_indicator`` always has)."""
    parent = fields["parent"]
    return {
        "code": fields["code"],
        "name": fields["name"],
        "weight": str(fields["weight"]),
        "source": fields["source"],
        "figure": fields["figure"],
        "rule": fields["rule"],
        "higher_is_better": fields["higher_is_better"],
        "parent": parent.code if parent else None,
    }


def _current_fields(indicator: Indicator) -> dict[str, Any]:
    return {
        "code": indicator.code,
        "name": indicator.name,
        "criteria": indicator.criteria,
        "weight": indicator.weight,
        "source": indicator.source,
        "figure": indicator.figure,
        "rule": indicator.rule,
        "higher_is_better": indicator.higher_is_better,
        "parent": indicator.parent,
    }


def add_indicator(
    system: IndicatorSystem,
    *,
    actor: AnyUser,
    code: str,
    name: str,
    weight: Any,
    source: str,
    figure: str = "",
    rule: dict[str, Any] | None = None,
    higher_is_better: bool = True,
    parent: Indicator | None = None,
    criteria: str = "",
) -> Indicator:
    """Add an indicator (or a group of indicators) to a draft system."""
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    fields = _indicator_fields(
        system,
        code=code,
        name=name,
        weight=weight,
        source=source,
        figure=figure,
        rule=rule,
        higher_is_better=higher_is_better,
        parent=parent,
        criteria=criteria,
    )
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.ACTIVATE)  # drafts only
        if locked.indicators.filter(code=fields["code"]).exists():
            raise Conflict(
                _("This system has an indicator with that code already."), code="duplicate_code"
            )
        indicator = Indicator.objects.create(
            system=locked, position=locked.indicators.count() + 1, **fields
        )
        _audit_system(locked, INDICATOR_ADDED, actor, _audited(fields))
    return indicator


def update_indicator(
    indicator: Indicator,
    *,
    actor: AnyUser,
    code: str,
    name: str,
    weight: Any,
    source: str,
    figure: str = "",
    rule: dict[str, Any] | None = None,
    higher_is_better: bool = True,
    parent: Indicator | None = None,
    criteria: str = "",
) -> Indicator:
    """Replace an indicator's fields while its system is a draft, under the checks of
    ``add_indicator``; a group that holds indicators stays a group. The audit event keeps the
    earlier fields in ``data.previous``."""
    system = indicator.system
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    if parent is not None and parent.pk == indicator.pk:
        raise InvalidInput(_("The group must be a group of this system."), field="parent")
    fields = _indicator_fields(
        system,
        code=code,
        name=name,
        weight=weight,
        source=source,
        figure=figure,
        rule=rule,
        higher_is_better=higher_is_better,
        parent=parent,
        criteria=criteria,
    )
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.ACTIVATE)  # drafts only
        current = Indicator.objects.select_for_update().get(pk=indicator.pk)
        previous = _audited(_current_fields(current))
        if locked.indicators.filter(code=fields["code"]).exclude(pk=current.pk).exists():
            raise Conflict(
                _("This system has an indicator with that code already."), code="duplicate_code"
            )
        if fields["source"] != IndicatorSource.GROUP and current.children.exists():
            raise Conflict(
                _("The group %(code)s holds indicators: it stays a group.")
                % {"code": current.code},
                code="group_not_empty",
            )
        for key, value in fields.items():
            setattr(current, key, value)
        current.save()
        _audit_system(locked, INDICATOR_UPDATED, actor, {**_audited(fields), "previous": previous})
    return current


def remove_indicator(indicator: Indicator, *, actor: AnyUser) -> None:
    """Remove an indicator from a draft system; a group is removed only once it is empty."""
    system = indicator.system
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.ACTIVATE)  # drafts only
        current = Indicator.objects.select_for_update().get(pk=indicator.pk)
        if current.children.exists():
            raise Conflict(
                _("The group %(code)s holds indicators: remove or move them out of it first.")
                % {"code": current.code},
                code="group_not_empty",
            )
        removed = _audited(_current_fields(current))
        current.delete()
        _audit_system(locked, INDICATOR_REMOVED, actor, removed)


def _check_structure(system: IndicatorSystem) -> None:
    indicators = list(system.indicators.all())
    leaves = [i for i in indicators if not i.is_group]
    if not leaves:
        raise InvalidInput(_("Add at least one indicator that earns points first."))
    for group in (i for i in indicators if i.is_group):
        children = [i for i in leaves if i.parent_id == group.pk]
        if not children:
            raise InvalidInput(
                _("The group %(code)s has no indicators.") % {"code": group.code},
                code="empty_group",
            )
        if sum((c.weight for c in children), Decimal(0)) != group.weight:
            raise InvalidInput(
                _("The points of the group %(code)s are not the sum of its indicators' points.")
                % {"code": group.code},
                code="group_weight",
            )


def activate_system(
    system: IndicatorSystem, *, actor: AnyUser, now: dt.datetime | None = None
) -> IndicatorSystem:
    """Start the assessment: one assessment per subject, platform indicators computed."""
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    now = now or timezone.now()
    refresh_tallies(now)
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.ACTIVATE)
        _check_structure(locked)
        subjects = queries.subjects_of(locked)
        if not subjects:
            raise InvalidInput(_("There is nothing to assess: no subject matches."))
        Assessment.objects.bulk_create(
            [
                Assessment(
                    system=locked,
                    region=subject if isinstance(subject, Region) else None,
                    unit=subject if isinstance(subject, Unit) else None,
                    subject_path=(
                        subject.path if isinstance(subject, Region) else subject.region.path
                    ),
                    name=subject.name,
                )
                for subject in subjects
            ]
        )
        locked.state = next_system_state(locked.state, SystemAction.ACTIVATE)
        locked.activated_at = now
        computed = _compute(locked, now)
        locked.save(update_fields=["state", "activated_at", "computed_at"])
        _audit_system(
            locked, SYSTEM_ACTIVATED, actor, {"subjects": len(subjects), "computed": computed}
        )
    return locked


def _figures(assessment: Assessment, period: Period) -> Figures:
    if assessment.unit is not None:
        return figures_for_unit(assessment.unit, period)
    region = assessment.region
    if region is None:
        raise InvalidInput(_("The assessment has no subject."))
    return figures_for_region(region, period)


def _figure_value(figures: Figures, figure: str) -> Decimal | None:
    raw = figures.score if figure == "score" else getattr(figures, figure)
    if raw is None:
        return None
    number = raw if isinstance(raw, Decimal) else Decimal(repr(float(raw)))
    return number.quantize(Decimal("0.0001"))


def _points(indicator: Indicator, value: Decimal | None) -> Decimal:
    rule = parse_rule(
        indicator.rule, weight=indicator.weight, higher_is_better=indicator.higher_is_better
    )
    return points_for(
        rule, value, weight=indicator.weight, higher_is_better=indicator.higher_is_better
    )


def _compute(system: IndicatorSystem, now: dt.datetime) -> int:
    """Compute every platform indicator for every subject and roll up (in the caller's
    transaction, with the system locked). Returns the number of scores written."""
    computed = [
        i for i in queries.scored_indicators(system) if i.source == IndicatorSource.COMPUTED
    ]
    period = queries.period_of(system)
    assessments = list(system.assessments.select_related("region", "unit__region"))
    existing = {
        (s.assessment_id, s.indicator_id): s
        for s in IndicatorScore.objects.filter(assessment__system=system, indicator__in=computed)
    }
    new: list[IndicatorScore] = []
    changed: list[IndicatorScore] = []
    for assessment in assessments if computed else []:
        figures = _figures(assessment, period)
        for indicator in computed:
            value = _figure_value(figures, indicator.figure)
            points = _points(indicator, value)
            score = existing.get((assessment.pk, indicator.pk))
            if score is None:
                new.append(
                    IndicatorScore(
                        assessment=assessment,
                        indicator=indicator,
                        value=value,
                        points=points,
                        is_computed=True,
                        entered_at=now,
                    )
                )
            else:
                score.value, score.points, score.entered_at = value, points, now
                changed.append(score)
    IndicatorScore.objects.bulk_create(new)
    IndicatorScore.objects.bulk_update(changed, ["value", "points", "entered_at"])
    system.computed_at = now
    _roll_up(system)
    return len(new) + len(changed)


def _roll_up(system: IndicatorSystem) -> None:
    """Each subject's total (the sum of its points) and its position (ties share one)."""
    sums = {
        row["assessment_id"]: (row["total"] or Decimal(0), row["count"])
        for row in IndicatorScore.objects.filter(assessment__system=system)
        .values("assessment_id")
        .annotate(total=Sum("points"), count=Count("pk"))
        .order_by()
    }
    assessments = list(system.assessments.all())
    for assessment in assessments:
        total, count = sums.get(assessment.pk, (Decimal(0), 0))
        assessment.total = Decimal(total).quantize(Decimal("0.01"))
        assessment.scored_count = count
    ranks = positions([(a.pk, a.total) for a in assessments])
    for assessment in assessments:
        assessment.position = ranks[assessment.pk]
    Assessment.objects.bulk_update(assessments, ["total", "scored_count", "position"])


def compute_scores(
    system: IndicatorSystem, *, actor: AnyUser, now: dt.datetime | None = None
) -> int:
    """Recompute the platform indicators from the latest tallies."""
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    now = now or timezone.now()
    refresh_tallies(now)
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.COMPUTE)
        count = _compute(locked, now)
        locked.save(update_fields=["computed_at"])
        _audit_system(locked, SYSTEM_COMPUTED, actor, {"scores": count})
    return count


def enter_score(
    assessment: Assessment,
    indicator: Indicator,
    *,
    actor: AnyUser,
    value: Any,
    evidence: str,
    evidence_reference: str = "",
    evidence_file: bytes | None = None,
    now: dt.datetime | None = None,
) -> IndicatorScore:
    """An assessor's value for an entered indicator, with the evidence it rests on
    (a description, and a document number or a file). Entering again replaces the value;
    the audit log keeps every version."""
    if not policies.may_assess(actor, assessment):
        raise PermissionDenied(_("You may not score this subject."))
    if indicator.system_id != assessment.system_id or indicator.source != IndicatorSource.ENTERED:
        raise InvalidInput(_("Only indicators entered by assessors can be scored by hand."))
    number = bounded_number("value", value, -MAX_VALUE, MAX_VALUE, places=4)
    rule = parse_rule(
        indicator.rule, weight=indicator.weight, higher_is_better=indicator.higher_is_better
    )
    if isinstance(rule, Deduction) and (number < 0 or number != number.to_integral_value()):
        raise InvalidInput(_("Count the events: a whole number, 0 or more."), field="value")
    evidence = _text(evidence, "evidence", 4000)
    reference = _text(evidence_reference, "evidence_reference", 300, required=False)
    now = now or timezone.now()
    points = points_for(
        rule, number, weight=indicator.weight, higher_is_better=indicator.higher_is_better
    )
    with transaction.atomic():
        system = _locked_system(assessment.system, SystemAction.SCORE)
        stored = _store_evidence(evidence_file, actor, now) if evidence_file is not None else None
        score = (
            IndicatorScore.objects.select_for_update()
            .filter(assessment=assessment, indicator=indicator)
            .first()
        )
        fields = {
            "value": number.quantize(Decimal("0.0001")),
            "points": points,
            "evidence": evidence,
            "evidence_reference": reference,
            "evidence_file": stored,
            "entered_by": actor,
            "entered_at": now,
        }
        previous = None
        if score is None:
            score = IndicatorScore.objects.create(
                assessment=assessment, indicator=indicator, is_computed=False, **fields
            )
        else:
            previous = {"value": str(score.value), "points": str(score.points)}
            for name, field_value in fields.items():
                setattr(score, name, field_value)
            score.save(update_fields=list(fields))
        _roll_up(system)
        role, unit_name = _acting(actor, Capability.ASSESS, assessment.subject_path)
        record_audit(
            subject_type="assessment",
            subject_id=assessment.pk,
            subject_label=f"{system.name} {assessment.name}",
            region_path=assessment.subject_path,
            action=SCORE_ENTERED,
            actor=actor,
            actor_role=role,
            actor_unit_name=unit_name,
            reason=evidence,
            data={
                "indicator": indicator.code,
                "value": str(fields["value"]),
                "points": str(points),
                "evidence_reference": reference,
                "evidence_sha256": stored.sha256 if stored else None,
                "previous": previous,
            },
        )
    return score


def close_system(
    system: IndicatorSystem, *, actor: AnyUser, now: dt.datetime | None = None
) -> IndicatorSystem:
    """End the assessment: the platform indicators are computed a last time and the results
    are final. Every entered indicator must have been scored for every subject."""
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    now = now or timezone.now()
    refresh_tallies(now)
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.CLOSE)
        missing = queries.missing_entries(locked)
        if missing:
            raise Conflict(
                _("%(count)s entered scores are still missing.") % {"count": missing},
                code="scores_missing",
                missing=missing,
            )
        _compute(locked, now)
        locked.state = next_system_state(locked.state, SystemAction.CLOSE)
        locked.closed_at = now
        locked.save(update_fields=["state", "closed_at", "computed_at"])
        _audit_system(
            locked,
            SYSTEM_CLOSED,
            actor,
            {
                "results": [
                    [a.name, str(a.total), a.position]
                    for a in locked.assessments.order_by("position", "name")
                ]
            },
        )
    return locked


# --- the rectification list -------------------------------------------------------------------


def _record(
    item: RectificationItem,
    action: Action,
    *,
    actor: AnyUser | None,
    role: tuple[str, str] = ("", ""),
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
) -> RectificationEvent:
    return append_event(
        RectificationEvent,
        stream=f"rectification:{item.pk}",
        action=action.value,
        actor=actor if actor is not None and actor.is_authenticated else None,
        actor_role=role[0],
        actor_unit_name=role[1],
        reason=reason,
        data=data or {},
        item=item,
        from_state=from_state,
        to_state=to_state,
        occurred_at=occurred_at,
    )


def _local_today(now: dt.datetime) -> dt.date:
    return timezone.localtime(now).date()


def generate_rectifications(
    system: IndicatorSystem,
    *,
    actor: AnyUser,
    deadline: dt.date,
    below: Any = None,
    bottom: int | None = None,
    now: dt.datetime | None = None,
) -> list[RectificationItem]:
    """Make the rectification list from a closed system's results: an item for every
    indicator that scored below ``below`` of its points (a share, e.g. 0.6), and one for
    each of the ``bottom`` subjects with the lowest totals (ties included). Owners: the
    subject unit, or the subject region's government. Generating again adds only what is
    not on the list yet."""
    if not policies.can_manage_system(actor, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    now = now or timezone.now()
    share = None if below in (None, "") else bounded_number("below", below, Decimal(0), Decimal(1))
    if bottom is not None and not 1 <= bottom <= 1000:
        raise InvalidInput(_("The bottom subjects number between 1 and 1000."), field="bottom")
    if share is None and bottom is None:
        raise InvalidInput(
            _(
                "Say which results need rectification: a share of the points, "
                "the bottom subjects, or both."
            )
        )
    if deadline <= _local_today(now):
        raise InvalidInput(_("The deadline must be a day after today."), field="deadline")
    with transaction.atomic():
        locked = _locked_system(system, SystemAction.GENERATE)
        assessments = list(
            locked.assessments.select_related("region", "unit").order_by("total", "name")
        )
        count = len(assessments)
        owners = {a.pk: queries.owner_unit_for(a) for a in assessments}
        without = [a.name for a in assessments if owners[a.pk] is None]
        if without:
            raise Conflict(
                _("No unit can own the rectifications of: %(names)s.")
                % {"names": ", ".join(without)},
                code="no_owner_unit",
            )
        wanted: list[tuple[Assessment, Indicator | None, str]] = []
        if bottom is not None and assessments:
            cut = assessments[min(bottom, count) - 1].total
            for assessment in assessments:
                if assessment.total <= cut:
                    problem = _(
                        "Total %(total)s points, position %(position)s of %(count)s: "
                        "among the bottom %(bottom)s."
                    ) % {
                        "total": assessment.total,
                        "position": assessment.position,
                        "count": count,
                        "bottom": bottom,
                    }
                    wanted.append((assessment, None, problem))
        if share is not None:
            for score in (
                IndicatorScore.objects.filter(assessment__in=assessments)
                .select_related("indicator", "assessment")
                .order_by("assessment__total", "assessment__name", "indicator__position")
            ):
                indicator = score.indicator
                if score.points < (indicator.weight * share).quantize(Decimal("0.01")):
                    problem = _(
                        "%(code)s %(indicator)s: %(points)s of %(weight)s points (value %(value)s)."
                    ) % {
                        "code": indicator.code,
                        "indicator": indicator.name,
                        "points": score.points,
                        "weight": indicator.weight,
                        "value": queries.show_value(indicator, score.value),
                    }
                    wanted.append((score.assessment, indicator, problem))
        existing: set[tuple[int, int | None]] = set(
            RectificationItem.objects.filter(system=locked).values_list(
                "assessment_id", "indicator_id"
            )
        )
        role = _acting(actor, Capability.MANAGE_EVALUATION, locked.region_path)
        created: list[RectificationItem] = []
        for assessment, maybe_indicator, problem in wanted:
            key = (assessment.pk, maybe_indicator.pk if maybe_indicator else None)
            if key in existing:
                continue
            existing.add(key)
            owner = owners[assessment.pk]
            if owner is None:  # checked above
                continue
            item = RectificationItem.objects.create(
                system=locked,
                assessment=assessment,
                indicator=maybe_indicator,
                subject_path=assessment.subject_path,
                problem=problem,
                owner_unit=owner,
                deadline=deadline,
                state=State.OPEN,
                created_at=now,
            )
            _record(
                item,
                Action.CREATE,
                actor=actor,
                role=role,
                to_state=State.OPEN,
                reason=problem,
                data={"owner_unit": owner.name, "deadline": deadline.isoformat()},
                occurred_at=now,
            )
            created.append(item)
        _audit_system(
            locked,
            RECTIFICATIONS_GENERATED,
            actor,
            {
                "below": None if share is None else str(share),
                "bottom": bottom,
                "deadline": deadline.isoformat(),
                "created": len(created),
            },
        )
    return created


def _locked_item(item: RectificationItem, action: Action) -> tuple[RectificationItem, State]:
    locked = RectificationItem.objects.select_for_update().get(pk=item.pk)
    try:
        return locked, next_state(locked.state, action)
    except IllegalTransition:
        raise Conflict(
            _("This cannot be done while the rectification is %(state)s.")
            % {"state": locked.get_state_display()},
            code="wrong_state",
            state=locked.state,
        ) from None


def submit_rectification(
    item: RectificationItem,
    *,
    actor: AnyUser,
    report: str,
    evidence_reference: str = "",
    evidence_file: bytes | None = None,
    now: dt.datetime | None = None,
) -> RectificationItem:
    """The owner unit reports what it did, with evidence, for an assessor to accept."""
    if not policies.is_owner_member(actor, item):
        raise PermissionDenied(_("Only the owner unit reports on its rectification."))
    report = _text(report, "report", 4000)
    reference = _text(evidence_reference, "evidence_reference", 300, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        locked, target = _locked_item(item, Action.SUBMIT)
        stored = _store_evidence(evidence_file, actor, now) if evidence_file is not None else None
        source = locked.state
        locked.state = target
        locked.report = report
        locked.evidence_reference = reference
        locked.evidence_file = stored
        locked.submitted_at = now
        locked.save(
            update_fields=["state", "report", "evidence_reference", "evidence_file", "submitted_at"]
        )
        _record(
            locked,
            Action.SUBMIT,
            actor=actor,
            role=_acting_for_unit(actor, locked.owner_unit_id),
            from_state=source,
            to_state=target,
            reason=report,
            data={
                "evidence_reference": reference,
                "evidence_sha256": stored.sha256 if stored else None,
                "late": _local_today(now) > locked.deadline,
            },
            occurred_at=now,
        )
    return locked


def accept_rectification(
    item: RectificationItem, *, actor: AnyUser, note: str = "", now: dt.datetime | None = None
) -> RectificationItem:
    """An assessor accepts the rectification: the item is struck off the list (销号)."""
    if not policies.may_decide_rectification(actor, item):
        raise PermissionDenied(_("You may not accept or reject this rectification."))
    note = _text(note, "note", 2000, required=False)
    now = now or timezone.now()
    with transaction.atomic():
        locked, target = _locked_item(item, Action.ACCEPT)
        source = locked.state
        locked.state = target
        locked.accepted_at = now
        locked.save(update_fields=["state", "accepted_at"])
        _record(
            locked,
            Action.ACCEPT,
            actor=actor,
            role=_acting(actor, Capability.ASSESS, locked.subject_path),
            from_state=source,
            to_state=target,
            reason=note,
            occurred_at=now,
        )
    return locked


def reject_rectification(
    item: RectificationItem, *, actor: AnyUser, reason: str, now: dt.datetime | None = None
) -> RectificationItem:
    """An assessor sends the rectification back to the owner unit, saying why."""
    if not policies.may_decide_rectification(actor, item):
        raise PermissionDenied(_("You may not accept or reject this rectification."))
    reason = _text(reason, "reason", 2000)
    now = now or timezone.now()
    with transaction.atomic():
        locked, target = _locked_item(item, Action.REJECT)
        source = locked.state
        locked.state = target
        locked.save(update_fields=["state"])
        _record(
            locked,
            Action.REJECT,
            actor=actor,
            role=_acting(actor, Capability.ASSESS, locked.subject_path),
            from_state=source,
            to_state=target,
            reason=reason,
            occurred_at=now,
        )
    return locked


def mark_overdue_rectifications(now: dt.datetime | None = None) -> int:
    """Mark every item still open after its deadline day as overdue. Idempotent: a second
    run finds nothing to do. The tallies watcher calls it on each round."""
    now = now or timezone.now()
    today = _local_today(now)
    marked = 0
    due = RectificationItem.objects.filter(state=State.OPEN, deadline__lt=today).values_list(
        "pk", flat=True
    )
    for pk in list(due):
        with transaction.atomic():
            locked = RectificationItem.objects.select_for_update().get(pk=pk)
            if locked.state != State.OPEN or locked.deadline >= today:
                continue
            target = next_state(locked.state, Action.MARK_OVERDUE)
            locked.state = target
            fields = ["state"]
            if locked.overdue_at is None:
                locked.overdue_at = now
                fields.append("overdue_at")
            locked.save(update_fields=fields)
            _record(
                locked,
                Action.MARK_OVERDUE,
                actor=None,
                from_state=State.OPEN,
                to_state=target,
                data={"deadline": locked.deadline.isoformat()},
                occurred_at=now,
            )
            marked += 1
    return marked
