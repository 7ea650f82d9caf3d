"""Who may see and act on cases.

Visibility: the region capability VIEW_CASES over the case's region (dispatchers, leaders,
grid workers, assessors, auditors), or a membership of the lead or an assisting unit (the
handlers), or being the person who raised it. Entry points fetch through ``access_case``,
which raises the same NotFound for missing and not-yours.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

from django.db.models import Q, QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import AnyUser, scope_of, units_with
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import AT_DISPATCH, Action, allowed_actions
from gongzhi.core.errors import NotFound, PermissionDenied


def cases_visible_to(user: AnyUser) -> QuerySet[Case]:
    if not user.is_authenticated:
        return Case.objects.none()
    condition = scope_of(user, Capability.VIEW_CASES).q("region_path")
    condition |= scope_of(user, Capability.DISPATCH_CASES).q("region_path")
    handled = units_with(user, Capability.HANDLE_CASES)
    if handled:
        condition |= Q(unit_id__in=handled)
        assisted = Case.assisting_units.through.objects.filter(unit_id__in=handled)
        condition |= Q(pk__in=assisted.values("case_id"))
    condition |= Q(reporter=user)
    return Case.objects.filter(condition)


def _covers(user: AnyUser, capability: str, path: str) -> bool:
    return scope_of(user, capability).covers(path)


def is_reporter(user: AnyUser, case: Case) -> bool:
    return user.is_authenticated and case.reporter_id == user.pk


def is_lead_handler(user: AnyUser, case: Case) -> bool:
    return case.unit_id is not None and case.unit_id in units_with(user, Capability.HANDLE_CASES)


def can_dispatch(user: AnyUser, case: Case) -> bool:
    """Intake work: register, reject, dispatch, merge, close, add assisting units."""
    return _covers(user, Capability.DISPATCH_CASES, case.dispatch_region.path)


def can_handle(user: AnyUser, case: Case) -> bool:
    return is_lead_handler(user, case)


def can_verify(user: AnyUser, case: Case) -> bool:
    return _covers(user, Capability.VERIFY_CASES, case.region_path) or is_reporter(user, case)


def can_follow_up(user: AnyUser, case: Case) -> bool:
    return is_reporter(user, case) or _covers(user, Capability.DISPATCH_CASES, case.region_path)


def can_supervise(user: AnyUser, case: Case) -> bool:
    return _covers(user, Capability.SUPERVISE_CASES, case.region_path)


def can_decide_requests(user: AnyUser, case: Case) -> bool:
    return _covers(user, Capability.APPROVE_REQUESTS, case.region_path)


def can_escalate(user: AnyUser, case: Case) -> bool:
    if case.state in AT_DISPATCH:
        return can_dispatch(user, case)
    return can_handle(user, case) or can_dispatch(user, case)


def can_see_personal_data(user: AnyUser, case: Case) -> bool:
    """Names, phones and exact addresses: the person, intake staff, the lead unit, the grid
    worker. Anonymous reporters are known to intake staff only."""
    if is_reporter(user, case):
        return True
    if _covers(user, Capability.DISPATCH_CASES, case.region_path):
        return True
    if case.is_anonymous:
        return False
    return (
        _covers(user, Capability.VIEW_PERSONAL_DATA, case.region_path)
        and _covers(user, Capability.VIEW_CASES, case.region_path)
    ) or is_lead_handler(user, case)


def can_attach(user: AnyUser, case: Case) -> bool:
    return (
        is_reporter(user, case)
        or is_lead_handler(user, case)
        or _covers(user, Capability.VERIFY_CASES, case.region_path)
        or _covers(user, Capability.DISPATCH_CASES, case.region_path)
    )


WHO_MAY: dict[Action, Callable[[AnyUser, Case], bool]] = {
    Action.REGISTER: can_dispatch,
    Action.REJECT: can_dispatch,
    Action.DISPATCH: can_dispatch,
    Action.MERGE: can_dispatch,
    Action.CLOSE: can_dispatch,
    Action.ADD_ASSISTING_UNIT: can_dispatch,
    Action.SIGN_FOR: can_handle,
    Action.RETURN: can_handle,
    Action.REPLY: can_handle,
    Action.REQUEST_EXTENSION: can_handle,
    Action.REQUEST_SUSPENSION: can_handle,
    Action.RESUME: can_handle,
    Action.VERIFY: can_verify,
    Action.FAIL_VERIFICATION: can_verify,
    Action.FOLLOW_UP: can_follow_up,
    Action.REOPEN: can_dispatch,
    Action.DECIDE_EXTENSION: can_decide_requests,
    Action.APPROVE_SUSPENSION: can_decide_requests,
    Action.DENY_SUSPENSION: can_decide_requests,
    Action.ESCALATE: can_escalate,
    Action.SUPERVISE: can_supervise,
    Action.ATTACH: can_attach,
}


def can_act(user: AnyUser, case: Case, action: Action | str) -> bool:
    predicate = WHO_MAY.get(Action(action))
    return predicate is not None and predicate(user, case)


def available_actions(user: AnyUser, case: Case) -> list[Action]:
    """The actions this person may take on this case now (for the action buttons)."""
    return [a for a in allowed_actions(case.state) if a in WHO_MAY and can_act(user, case, a)]


def check_may_act(
    user: AnyUser, case: Case, action: Action | str, *, expected_version: int | None = None
) -> None:
    """Refuse (403) someone who may not take ``action`` on the case as read, unlocked.

    Not the check of an action: services make that one under the row lock, after the version
    and the state. This one is for an entry point that refuses input before any service runs
    (a form not valid, a unit or case it names not found), input whose choices depend on who
    may act: whoever may not act at all is refused as for any input, rather than told what is
    wrong with theirs. Silent when the case moved on since the person saw it (another version,
    or a state that does not allow the action): whoever lost a race is not refused for it.
    """
    if expected_version is not None and expected_version != case.version:
        return
    if Action(action) in allowed_actions(case.state) and not can_act(user, case, action):
        raise PermissionDenied(_("You may not do this to this case."))


def access_case(user: AnyUser, case_id: object, *, action: Action | str | None = None) -> Case:
    try:
        key = uuid.UUID(str(case_id))
        case = (
            cases_visible_to(user)
            .select_related(
                "region", "dispatch_region", "unit__region", "category", "reporter", "proposed_unit"
            )
            .get(pk=key)
        )
    except (Case.DoesNotExist, ValueError):
        raise NotFound(_("No such case.")) from None
    if action is not None and not can_act(user, case, action):
        raise PermissionDenied(_("You may not do this to this case."))
    return case


def access_case_by_tracking_code(user: AnyUser, code: str) -> Case:
    """The person who raised a case finds it by its tracking code (their own cases only)."""
    case = cases_visible_to(user).filter(tracking_code=code.strip().upper()).first()
    if case is None:
        raise NotFound(_("No case of yours has that tracking code."))
    return case
