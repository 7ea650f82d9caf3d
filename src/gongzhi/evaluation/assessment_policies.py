"""Who may see and do what with indicator systems, assessments and rectification items.

- Managers (``MANAGE_EVALUATION``) define the systems of regions in their scope, start and
  close them, and generate the rectification list. Only they see drafts.
- People with ``VIEW_EVALUATION`` see the active and closed systems that reach their scope
  (a district leader sees the city's annual evaluation) but, inside one, only the subjects
  and rectification items in their scope.
- Assessors (``ASSESS``) enter scores and accept or reject rectifications of subjects in
  their scope.
- Units carry out their own rectifications: a member with ``RECTIFY`` for the owner unit sees
  the unit's items and reports on them.

Entry points fetch through ``access_*`` (the same ``NotFound`` for "missing" and "not yours";
``PermissionDenied`` only when the thing is visible but the action is not allowed).
"""

from __future__ import annotations

import uuid
from typing import Literal

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of, units_with
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.core.scoping import Scope
from gongzhi.evaluation.models import (
    Assessment,
    EvidenceFile,
    IndicatorScore,
    IndicatorSystem,
    RectificationItem,
)
from gongzhi.evaluation.workflow import WITH_OWNER, State, SystemState
from gongzhi.territory.models import Region

SystemAction = Literal["view", "manage"]
AssessmentAction = Literal["view", "assess"]
RectificationAction = Literal["view", "submit", "decide"]


def _reaching(scope: Scope, field_name: str) -> Q:
    """Rows whose path is inside the scope or above one of its roots (the systems of the
    city reach a district leader)."""
    if scope.is_empty:
        return Q(pk__in=[])
    condition = scope.q(field_name)
    ancestors = {root[: i + 1] for root in scope.paths for i, c in enumerate(root) if c == "/"}
    if ancestors:
        condition |= Q(**{f"{field_name}__in": sorted(ancestors)})
    return condition


# --- predicates ----------------------------------------------------------------------------


def can_create_system(user: AnyUser, region: Region) -> bool:
    return scope_of(user, Capability.MANAGE_EVALUATION).covers(region.path)


def can_manage_system(user: AnyUser, system: IndicatorSystem) -> bool:
    return scope_of(user, Capability.MANAGE_EVALUATION).covers(system.region_path)


def can_view_system(user: AnyUser, system: IndicatorSystem) -> bool:
    if can_manage_system(user, system):
        return True
    if system.state == SystemState.DRAFT:
        return False
    return scope_of(user, Capability.VIEW_EVALUATION).touches(system.region_path)


def can_view_assessment(user: AnyUser, assessment: Assessment) -> bool:
    if can_manage_system(user, assessment.system):
        return True
    if assessment.system.state == SystemState.DRAFT:
        return False
    return scope_of(user, Capability.VIEW_EVALUATION).covers(assessment.subject_path)


def may_assess(user: AnyUser, assessment: Assessment) -> bool:
    """Whether the subject lies in the person's assessing scope (whatever the state)."""
    return scope_of(user, Capability.ASSESS).covers(assessment.subject_path)


def can_assess(user: AnyUser, assessment: Assessment) -> bool:
    return assessment.system.state == SystemState.ACTIVE and may_assess(user, assessment)


def can_generate_rectifications(user: AnyUser, system: IndicatorSystem) -> bool:
    return system.state == SystemState.CLOSED and can_manage_system(user, system)


def is_owner_member(user: AnyUser, item: RectificationItem) -> bool:
    return item.owner_unit_id in units_with(user, Capability.RECTIFY)


def can_view_rectification(user: AnyUser, item: RectificationItem) -> bool:
    return is_owner_member(user, item) or scope_of(user, Capability.VIEW_EVALUATION).covers(
        item.subject_path
    )


def can_submit_rectification(user: AnyUser, item: RectificationItem) -> bool:
    return item.state in WITH_OWNER and is_owner_member(user, item)


def may_decide_rectification(user: AnyUser, item: RectificationItem) -> bool:
    """Whether the item lies in the person's assessing scope (whatever its state)."""
    return scope_of(user, Capability.ASSESS).covers(item.subject_path)


def can_decide_rectification(user: AnyUser, item: RectificationItem) -> bool:
    return item.state == State.SUBMITTED and may_decide_rectification(user, item)


def can_use_assessments(user: AnyUser) -> bool:
    """Whether the pages are for this person at all (staff who evaluate or rectify)."""
    return bool(
        not scope_of(user, Capability.VIEW_EVALUATION).is_empty
        or not scope_of(user, Capability.MANAGE_EVALUATION).is_empty
        or units_with(user, Capability.RECTIFY)
    )


# --- visible sets -------------------------------------------------------------------------


def systems_visible_to(user: AnyUser) -> QuerySet[IndicatorSystem]:
    managed = scope_of(user, Capability.MANAGE_EVALUATION).q("region_path")
    viewed = _reaching(scope_of(user, Capability.VIEW_EVALUATION), "region_path") & ~Q(
        state=SystemState.DRAFT
    )
    return IndicatorSystem.objects.filter(managed | viewed).select_related("region")


def assessments_visible_to(user: AnyUser, system: IndicatorSystem) -> QuerySet[Assessment]:
    found = Assessment.objects.filter(system=system)
    if can_manage_system(user, system):
        return found
    if system.state == SystemState.DRAFT:
        return found.none()
    return found.filter(scope_of(user, Capability.VIEW_EVALUATION).q("subject_path"))


def rectifications_visible_to(user: AnyUser) -> QuerySet[RectificationItem]:
    owned = Q(owner_unit_id__in=sorted(units_with(user, Capability.RECTIFY)))
    viewed = scope_of(user, Capability.VIEW_EVALUATION).q("subject_path")
    return RectificationItem.objects.filter(owned | viewed).select_related(
        "system", "assessment", "indicator", "owner_unit"
    )


# --- access --------------------------------------------------------------------------------


def _int(value: int | str) -> int:
    return int(value)


def access_system(
    user: AnyUser, system_id: int | str, *, action: SystemAction = "view"
) -> IndicatorSystem:
    try:
        system = IndicatorSystem.objects.select_related("region").get(pk=_int(system_id))
    except (IndicatorSystem.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such indicator system.")) from None
    if not can_view_system(user, system):
        raise NotFound(_("No such indicator system."))
    if action == "manage" and not can_manage_system(user, system):
        raise PermissionDenied(_("You may not manage this indicator system."))
    return system


def access_assessment(
    user: AnyUser, assessment_id: int | str, *, action: AssessmentAction = "view"
) -> Assessment:
    try:
        assessment = Assessment.objects.select_related("system", "region", "unit").get(
            pk=_int(assessment_id)
        )
    except (Assessment.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such assessment.")) from None
    if not can_view_assessment(user, assessment):
        raise NotFound(_("No such assessment."))
    if action == "assess" and not may_assess(user, assessment):
        raise PermissionDenied(_("You may not score this subject."))
    return assessment


def access_rectification(
    user: AnyUser, item_id: int | str, *, action: RectificationAction = "view"
) -> RectificationItem:
    try:
        item = RectificationItem.objects.select_related(
            "system", "assessment", "indicator", "owner_unit"
        ).get(pk=_int(item_id))
    except (RectificationItem.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such rectification item.")) from None
    if not can_view_rectification(user, item):
        raise NotFound(_("No such rectification item."))
    if action == "submit" and not is_owner_member(user, item):
        raise PermissionDenied(_("Only the owner unit reports on its rectification."))
    if action == "decide" and not may_decide_rectification(user, item):
        raise PermissionDenied(_("You may not accept or reject this rectification."))
    return item


def access_evidence(user: AnyUser, evidence_id: str | uuid.UUID) -> EvidenceFile:
    """An evidence file, for those who may see a score or a rectification it backs."""
    try:
        evidence = EvidenceFile.objects.get(pk=uuid.UUID(str(evidence_id)))
    except (EvidenceFile.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such file.")) from None
    for score in IndicatorScore.objects.filter(evidence_file=evidence).select_related(
        "assessment__system"
    ):
        if can_view_assessment(user, score.assessment):
            return evidence
    if rectifications_visible_to(user).filter(evidence_file=evidence).exists():
        return evidence
    raise NotFound(_("No such file."))
