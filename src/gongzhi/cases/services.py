"""Every change to a case goes through here.

Each action: lock the case row, check the version the client saw (optional), check who
may (``policies.WHO_MAY``) and that the workflow allows it in the current state, change
the fields, bump the version, restart the stage clock where the stage changes, save with
``update_fields``, and append one event to the case's hash-chained timeline, all in one
transaction. Two people acting at once: the second waits for the lock, then finds the
state moved on and gets ``invalid_transition`` (or ``stale_version``).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.models import User
from gongzhi.accounts.queries import AnyUser, acting_membership, active_memberships
from gongzhi.cases import events, policies
from gongzhi.cases.choices import (
    ACTION_LABELS,
    STATE_LABELS,
    CaseKind,
    Channel,
    Complexity,
    RequestState,
    Resolution,
    Satisfaction,
    Stage,
    Urgency,
    Warning,
)
from gongzhi.cases.errors import InvalidCase, InvalidTransition, StaleVersion
from gongzhi.cases.models import Assignment, Case, CaseNumberCounter, CaseRequest, Category
from gongzhi.cases.photos import clean_photo
from gongzhi.cases.proposals import propose_category
from gongzhi.cases.timelimits import limit_for, yellow_point
from gongzhi.cases.workflow import Action, IllegalTransition, State, next_state
from gongzhi.core import refdata
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.working_days import WorkingCalendar, city_calendar
from gongzhi.dispatch.queries import route
from gongzhi.notifications.choices import NoticeKind
from gongzhi.notifications.services import notify_later
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.queries import region_with_path

TRACKING_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read out on the phone


def new_tracking_code() -> str:
    return "".join(secrets.choice(TRACKING_ALPHABET) for _ in range(10))


def _next_number(now: dt.datetime) -> str:
    """Sequential per day, e.g. 20261127-00042, from the day's counter row, locked until the
    submission commits (taken last, just before the case is inserted, so the lock is short).
    A day's counter starts after the highest number already given that day."""
    day = timezone.localtime(now).date()
    last = _take_number(day)
    if last is None:
        prefix = f"{day:%Y%m%d}-"
        highest = (
            Case.objects.filter(number__startswith=prefix)
            .order_by("-number")
            .values_list("number", flat=True)
            .first()
        )
        try:
            with transaction.atomic():
                CaseNumberCounter.objects.create(
                    day=day, last=int(highest.split("-")[1]) if highest else 0
                )
        except IntegrityError:  # another submission created it first: take its lock
            pass
        last = _take_number(day)
        if last is None:  # pragma: no cover (the row exists now)
            raise RuntimeError(f"no case number counter for {day}")
    return f"{day:%Y%m%d}-{last:05d}"


def _take_number(day: dt.date) -> int | None:
    """Add one to the day's counter and return it (None: no row yet). The row stays locked
    until the transaction ends. One statement (UPDATE ... RETURNING) where the database has
    it (SQLite 3.35+, PostgreSQL), else a locked read and a write."""
    if not connection.features.can_return_rows_from_bulk_insert:
        counter = CaseNumberCounter.objects.select_for_update().filter(day=day).first()
        if counter is None:
            return None
        counter.last += 1
        counter.save(update_fields=["last"])
        return counter.last
    quote = connection.ops.quote_name
    last = quote("last")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(CaseNumberCounter._meta.db_table)} SET {last} = {last} + 1 "  # noqa: S608
            f"WHERE {quote('day')} = %s "
            f"RETURNING {last}",
            [connection.ops.adapt_datefield_value(day)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None


def _snapshot(actor: AnyUser, case: Case, capability: str) -> tuple[str, str]:
    """The role and unit the actor acted in, for the timeline."""
    if capability == Capability.HANDLE_CASES and case.unit_id is not None:
        for membership in active_memberships(actor):
            if membership.unit_id == case.unit_id:
                return membership.role, membership.unit.name
    acting = acting_membership(actor, capability, case.region_path)
    if acting is not None:
        return acting.role, acting.unit.name
    if policies.is_reporter(actor, case):
        return "reporter", ""
    if actor.is_authenticated and actor.is_superuser:
        return "system", ""
    return "", ""


CAPABILITY_OF = {
    Action.REGISTER: Capability.DISPATCH_CASES,
    Action.REJECT: Capability.DISPATCH_CASES,
    Action.DISPATCH: Capability.DISPATCH_CASES,
    Action.MERGE: Capability.DISPATCH_CASES,
    Action.CLOSE: Capability.DISPATCH_CASES,
    Action.REOPEN: Capability.DISPATCH_CASES,
    Action.ADD_ASSISTING_UNIT: Capability.DISPATCH_CASES,
    Action.VERIFY: Capability.VERIFY_CASES,
    Action.FAIL_VERIFICATION: Capability.VERIFY_CASES,
    Action.FOLLOW_UP: Capability.DISPATCH_CASES,
    Action.SUPERVISE: Capability.SUPERVISE_CASES,
    Action.DECIDE_EXTENSION: Capability.APPROVE_REQUESTS,
    Action.APPROVE_SUSPENSION: Capability.APPROVE_REQUESTS,
    Action.DENY_SUSPENSION: Capability.APPROVE_REQUESTS,
}


def _start_clock(
    case: Case,
    stage: Stage | None,
    now: dt.datetime,
    calendar: WorkingCalendar,
    due: dt.datetime | None = None,
) -> list[str]:
    """Point the case's clock at a new stage (or stop it); returns the fields changed."""
    case.warning = Warning.NONE
    if stage is None:
        case.stage, case.due_at, case.yellow_at = "", None, None
    else:
        case.stage = stage
        case.due_at = due if due is not None else limit_for(case, stage).due(now, calendar)
        case.yellow_at = yellow_point(now, case.due_at) if case.due_at > now else case.due_at
    return ["stage", "due_at", "yellow_at", "warning"]


@dataclass
class Step:
    """What an action changes, filled in by the action's own function."""

    fields: dict[str, Any]
    reason: str = ""
    data: dict[str, Any] | None = None
    stage: Stage | bool | None = False  # False: keep the clock; None: stop it
    due: dt.datetime | None = None
    # Notices, queued in the action's transaction: (kind, unit id, person id).
    notices: Sequence[tuple[NoticeKind, int | None, object]] = field(default_factory=list)


def _act(
    case: Case,
    action: Action,
    *,
    actor: AnyUser,
    expected_version: int | None,
    change: Callable[[Case, dt.datetime, WorkingCalendar], Step],
    check_permission: bool = True,
) -> Case:
    now = timezone.now()
    calendar = city_calendar()
    with transaction.atomic():
        locked = (
            Case.objects.select_for_update(of=("self",))
            .select_related("region", "dispatch_region", "unit", "category")
            .get(pk=case.pk)
        )
        if expected_version is not None and locked.version != expected_version:
            raise StaleVersion(
                _("Someone changed this case meanwhile (you saw version %(seen)d). Reload it.")
                % {"seen": expected_version},
                version=locked.version,
            )
        try:
            target = next_state(locked.state, action)
        except IllegalTransition:
            raise InvalidTransition(
                _("The case is now “%(state)s”: “%(action)s” is not possible. Reload it.")
                % {"state": STATE_LABELS[State(locked.state)], "action": ACTION_LABELS[action]},
                state=locked.state,
                action=action.value,
            ) from None
        # After the state check: whoever lost a race learns that the case moved on.
        if check_permission and not policies.can_act(actor, locked, action):
            raise PermissionDenied(_("You may not do this to this case."))
        before = locked.state
        step = change(locked, now, calendar)
        for field, value in step.fields.items():
            setattr(locked, field, value)
        update_fields = ["state", "version", "updated_at", *step.fields]
        locked.state = target
        locked.version += 1
        locked.updated_at = now
        if step.stage is not False:
            stage = step.stage if isinstance(step.stage, Stage) else None
            update_fields += _start_clock(locked, stage, now, calendar, step.due)
        locked.save(update_fields=sorted(set(update_fields)))
        role, unit_name = _snapshot(
            actor, locked, CAPABILITY_OF.get(action, Capability.HANDLE_CASES)
        )
        events.record(
            locked,
            action,
            actor=actor,
            actor_role=role,
            actor_unit_name=unit_name,
            from_state=before,
            to_state=target,
            reason=step.reason,
            data=step.data,
        )
        for kind, unit_id, user_id in step.notices:
            notify_later(locked.pk, kind, unit_id=unit_id, user_id=user_id)
    return locked


# --- Intake ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class NewCase:
    """What someone raising a case tells us. Validated by ``submit_case``."""

    title: str
    description: str
    kind: str = CaseKind.HELP
    channel: str = Channel.WEB
    region: Region | None = None
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    category: Category | None = None
    urgency: str = Urgency.NORMAL
    reporter_name: str = ""
    reporter_phone: str = ""
    is_anonymous: bool = False


def _command_centre_for(region: Region) -> Unit | None:
    """The command centre that dispatches at ``region``, or the nearest one above it."""
    paths = [region.path, *reversed(region.ancestor_paths)]
    found = Unit.objects.filter(kind="command_centre", region__path__in=paths).select_related(
        "region"
    )
    centres = {u.region.path: u for u in found}
    return next((centres[p] for p in paths if p in centres), None)


def _dispatch_region_for(region: Region) -> Region:
    """Cases wait for dispatch at their street first (or the region itself, if higher)."""
    if region.level <= RegionLevel.STREET:
        return region
    street_path = region.ancestor_paths[RegionLevel.STREET - 1]
    street = region_with_path(street_path)
    if street is None:
        raise Region.DoesNotExist(f"no region at {street_path}")
    return street


def _active_categories() -> dict[str, Category]:
    """Every active category by path (reference data kept in memory: shared, read-only)."""
    return refdata.cached(
        "cases.active_categories",
        lambda: {c.path: c for c in Category.objects.filter(is_active=True)},
    )


def active_category(path: str) -> Category | None:
    """The active category at ``path`` (from memory), or None."""
    return _active_categories().get(path)


def _triage(new: NewCase, title: str, description: str) -> dict[str, Any]:
    """Ask the classifier (when the person did not choose a category); {} when it has no
    proposal. ``applied``: probable enough to set the category (settings threshold)."""
    if new.category is not None:
        return {}
    proposal = propose_category(f"{title}\n{description}")
    if proposal is None:
        return {}
    paths = [path for path, _p in proposal.top3] or [proposal.category_path]
    active = _active_categories()
    known = {path: active[path] for path in paths if path in active}
    best = known.get(proposal.category_path)
    if best is None:
        return {}
    return {
        "model": proposal.model_version,
        "category_id": best.pk,
        "category_obj": best,
        "category": best.path,
        "confidence": round(proposal.confidence, 4),
        "top3": [[path, round(p, 4)] for path, p in proposal.top3 if path in known][:3],
        "applied": proposal.confidence >= settings.GONGZHI_TRIAGE_THRESHOLD,
    }


def _triage_record(triage: dict[str, Any]) -> dict[str, Any]:
    return {k: triage[k] for k in ("model", "category", "confidence", "top3", "applied")}


@dataclass(frozen=True)
class PreparedCase:
    """A submission checked, classified, routed and clocked (``prepare_case``), waiting only
    for its number, its insert and its first event (``submit_prepared``)."""

    case: Case
    actor: AnyUser
    event_role: str
    event_unit_name: str
    event_data: dict[str, Any]


def check_new_case(new: NewCase) -> Region:
    """Refuse a submission that can never become a case (``InvalidCase``); its region."""
    if not new.title.strip() or not new.description.strip():
        raise InvalidCase(_("A case needs a title and a description of the matter."))
    if new.kind not in CaseKind.values or new.channel not in Channel.values:
        raise InvalidCase(_("Unknown kind or channel."))
    if new.urgency not in Urgency.values:
        raise InvalidCase(_("Unknown urgency."))
    if new.region is None:
        raise InvalidCase(_("Say where the matter is: a region, or a point on the map."))
    return new.region


def prepare_case(
    new: NewCase,
    *,
    actor: AnyUser,
    submitted_at: dt.datetime | None = None,
    tracking_code: str = "",
) -> PreparedCase:
    """Every check and every read a submission needs, outside any transaction: classifying,
    routing and the clock hold no lock (on SQLite a transaction takes the write lock at once).
    A queued submission brings the tracking code its person was given when it was accepted."""
    region = check_new_case(new)
    title = new.title.strip()
    description = new.description.strip()
    now = submitted_at or timezone.now()
    calendar = city_calendar()
    reporter = actor if isinstance(actor, User) and actor.is_authenticated else None
    category, triage = new.category, _triage(new, title, description)
    if category is None and triage.get("applied"):
        category = triage.pop("category_obj")
    triage.pop("category_obj", None)
    case = Case(
        number="",
        tracking_code=tracking_code or new_tracking_code(),
        kind=new.kind,
        channel=new.channel,
        urgency=new.urgency,
        complexity=Complexity.ORDINARY,
        title=title[:200],
        description=description[:5000],
        category=category,
        region=region,
        region_path=region.path,
        address=new.address.strip()[:200],
        latitude=new.latitude,
        longitude=new.longitude,
        reporter=reporter,
        reporter_name=new.reporter_name.strip()[:60],
        reporter_phone=new.reporter_phone.strip()[:30],
        is_anonymous=new.is_anonymous,
        state=State.SUBMITTED,
        dispatch_region=_dispatch_region_for(region),
        submitted_at=now,
        updated_at=now,
    )
    if triage:
        case.proposed_category_id = triage["category_id"]
        case.proposal_confidence = triage["confidence"]
        case.proposal_model_version = triage["model"]
        case.proposal_top3 = triage["top3"]
    if category is not None:
        case.proposed_unit = route(category.path, region).unit
    _start_clock(case, Stage.DISPATCH, now, calendar)
    role = "resident" if reporter and not active_memberships(reporter) else ""
    membership = acting_membership(actor, Capability.REPORT_CASES, region.path)
    return PreparedCase(
        case=case,
        actor=actor,
        event_role=membership.role if membership else role,
        event_unit_name=membership.unit.name if membership else "",
        event_data={
            "channel": new.channel,
            "kind": new.kind,
            **({"triage": _triage_record(triage)} if triage else {}),
        },
    )


def submit_prepared(prepared: PreparedCase) -> Case:
    """Number, insert and record a prepared submission: the transaction only writes."""
    case = prepared.case
    with transaction.atomic():
        case.number = _next_number(case.submitted_at)
        case.save(force_insert=True)
        events.record(
            case,
            "submit",
            actor=prepared.actor,
            actor_role=prepared.event_role,
            actor_unit_name=prepared.event_unit_name,
            to_state=State.SUBMITTED,
            data=prepared.event_data,
            occurred_at=case.submitted_at,
            first=True,
        )
    return case


def submit_case(new: NewCase, *, actor: AnyUser, submitted_at: dt.datetime | None = None) -> Case:
    """Register a matter someone raised, in state ``submitted``, with its dispatch clock running."""
    return submit_prepared(prepare_case(new, actor=actor, submitted_at=submitted_at))


def register_case(
    case: Case,
    *,
    actor: AnyUser,
    category: Category | None = None,
    urgency: str | None = None,
    complexity: str | None = None,
    expected_version: int | None = None,
) -> Case:
    """立案: accept the case as valid; fixes its category, urgency and complexity, and starts
    the feedback clock (its time limit counts from registration)."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        fields: dict[str, Any] = {"registered_at": now}
        if category is not None:
            fields["category"] = category
            c.category = category
        if urgency is not None:
            if urgency not in Urgency.values:
                raise InvalidCase(_("Unknown urgency."))
            fields["urgency"] = c.urgency = urgency
        if complexity is not None:
            if complexity not in Complexity.values:
                raise InvalidCase(_("Unknown complexity."))
            fields["complexity"] = c.complexity = complexity
        if c.category is None:
            raise InvalidCase(_("Choose a category before registering the case."))
        fields["feedback_due_at"] = limit_for(c, Stage.FEEDBACK).due(now, calendar)
        fields["proposed_unit"] = route(c.category.path, c.region).unit
        data: dict[str, Any] = {"category": c.category.path, "urgency": c.urgency}
        if c.proposed_category_id is not None:
            # What the dispatcher chose against what the classifier proposed: the measure
            # of the classifier at work, and the label of a training example.
            data["proposal"] = {
                "model": c.proposal_model_version,
                "category": c.proposal_top3[0][0] if c.proposal_top3 else "",
                "confidence": c.proposal_confidence,
                "agreed": c.category.path.split("/")[0]
                == (c.proposal_top3[0][0] if c.proposal_top3 else "").split("/")[0],
            }
        return Step(fields, data=data)

    return _act(
        case, Action.REGISTER, actor=actor, expected_version=expected_version, change=change
    )


def reject_case(
    case: Case, *, actor: AnyUser, reason: str, expected_version: int | None = None
) -> Case:
    """不予受理: not a matter for the platform, with the reason the person will read."""
    reason = reason.strip()
    if not reason:
        raise InvalidCase(_("Say why the case is not accepted: the person will read it."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        return Step({"closed_at": now}, reason=reason, stage=None)

    return _act(case, Action.REJECT, actor=actor, expected_version=expected_version, change=change)


def dispatch_case(
    case: Case,
    *,
    actor: AnyUser,
    unit: Unit | None = None,
    reason: str = "",
    expected_version: int | None = None,
) -> Case:
    """派单: send the case to a unit (by default the one the routing rules propose).
    Choosing another unit is an override, recorded with its reason."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        proposed = c.proposed_unit or (
            route(c.category.path if c.category else None, c.region).unit
        )
        chosen = unit or proposed
        if not chosen.is_active:
            raise InvalidCase(_("%(unit)s is inactive.") % {"unit": chosen.name})
        override = chosen.pk != proposed.pk
        if override and not reason.strip():
            raise InvalidCase(_("Say why you send it to another unit than the proposed one."))
        c.unit = chosen
        sign_due = limit_for(c, Stage.SIGN).due(now, calendar)
        Assignment.objects.create(
            case=c,
            unit=chosen,
            region_path=c.region_path,
            dispatched_at=now,
            sign_due_at=sign_due,
            updated_at=now,
        )
        return Step(
            {"unit": chosen, "dispatched_at": now},
            reason=reason.strip(),
            data={"unit": chosen.pk, "proposed_unit": proposed.pk, "override": override},
            stage=Stage.SIGN,
            due=sign_due,
            notices=[(NoticeKind.DISPATCHED, chosen.pk, None)],
        )

    return _act(
        case, Action.DISPATCH, actor=actor, expected_version=expected_version, change=change
    )


def _answer_assignment(case: Case, outcome: str, now: dt.datetime) -> None:
    """Record how the unit answered its dispatch (the case row is locked by ``_act``)."""
    assignment = Assignment.objects.filter(case=case, outcome=Assignment.Outcome.PENDING).first()
    if assignment is None:  # dispatched before dispatches were recorded
        return
    in_time = now <= assignment.sign_due_at
    assignment.outcome = outcome
    assignment.responded_at = now
    if outcome == Assignment.Outcome.WITHDRAWN:
        # Taken away before its deadline: no judgement on the unit; after: it did not answer.
        assignment.is_on_time = None if in_time else False
    else:
        assignment.is_on_time = in_time
    assignment.updated_at = now
    assignment.save(update_fields=["outcome", "responded_at", "is_on_time", "updated_at"])


def sign_for_case(case: Case, *, actor: AnyUser, expected_version: int | None = None) -> Case:
    """签收: the unit confirms it has the case; the feedback clock now shows."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        _answer_assignment(c, Assignment.Outcome.SIGNED, now)
        fields: dict[str, Any] = {"signed_at": now}
        due = c.feedback_due_at
        if due is None:
            due = limit_for(c, Stage.FEEDBACK).due(now, calendar)
            fields["feedback_due_at"] = due
        return Step(fields, stage=Stage.FEEDBACK, due=due)

    return _act(
        case, Action.SIGN_FOR, actor=actor, expected_version=expected_version, change=change
    )


def return_case(
    case: Case, *, actor: AnyUser, reason: str, expected_version: int | None = None
) -> Case:
    """退单: the unit says the case is not theirs, and why; it goes back to dispatch."""
    reason = reason.strip()
    if not reason:
        raise InvalidCase(_("Say why the case is not your unit's: the dispatcher needs it."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        _answer_assignment(c, Assignment.Outcome.RETURNED, now)
        returned_by = c.unit.name if c.unit else ""
        centre = _command_centre_for(c.dispatch_region)
        return Step(
            {"unit": None, "return_count": c.return_count + 1},
            reason=reason,
            data={"returned_by": returned_by},
            stage=Stage.DISPATCH,
            notices=[(NoticeKind.RETURNED, centre.pk if centre else None, None)],
        )

    return _act(case, Action.RETURN, actor=actor, expected_version=expected_version, change=change)


def reply_to_case(
    case: Case, *, actor: AnyUser, reply: str, expected_version: int | None = None
) -> Case:
    """答复: the unit's answer to the person; then someone verifies it."""
    reply = reply.strip()
    if len(reply) < 5:
        raise InvalidCase(_("Write the answer the person will read (at least a sentence)."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        late = c.feedback_due_at is not None and now > c.feedback_due_at
        return Step(
            {"reply": reply[:5000], "replied_at": now, "is_replied_on_time": not late},
            data={"on_time": not late},
            stage=None,
            notices=[(NoticeKind.REPLIED, None, c.reporter_id)],
        )

    return _act(case, Action.REPLY, actor=actor, expected_version=expected_version, change=change)


def verify_case(
    case: Case,
    *,
    actor: AnyUser,
    resolved: bool,
    note: str = "",
    expected_version: int | None = None,
) -> Case:
    """核查: a grid worker (or the person) checks on the spot; not resolved sends it back."""
    if not resolved and not note.strip():
        raise InvalidCase(_("Say what is still wrong: the unit will read it."))
    action = Action.VERIFY if resolved else Action.FAIL_VERIFICATION

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        if resolved:
            return Step({}, reason=note.strip(), data={"resolved": True})
        return Step(
            {"rework_count": c.rework_count + 1},
            reason=note.strip(),
            data={"resolved": False},
            stage=Stage.FEEDBACK,
            due=max(c.feedback_due_at or now, now + dt.timedelta(days=1)),
        )

    return _act(case, action, actor=actor, expected_version=expected_version, change=change)


def close_case(case: Case, *, actor: AnyUser, expected_version: int | None = None) -> Case:
    """办结."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        return Step(
            {"closed_at": now}, stage=None, notices=[(NoticeKind.CLOSED, None, c.reporter_id)]
        )

    return _act(case, Action.CLOSE, actor=actor, expected_version=expected_version, change=change)


def follow_up_case(
    case: Case,
    *,
    actor: AnyUser,
    resolution: str,
    satisfaction: str,
    comment: str = "",
    expected_version: int | None = None,
) -> Case:
    """回访: the person says whether it was resolved and how satisfied they are.
    "Not resolved" reopens the case (重办) for the same unit, in the same transaction."""
    if resolution not in Resolution.values or satisfaction not in Satisfaction.values:
        raise InvalidCase(_("Choose whether it was resolved and how satisfied you are."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        return Step(
            {"resolution": resolution, "satisfaction": satisfaction, "rated_at": now},
            reason=comment.strip()[:2000],
            data={"resolution": resolution, "satisfaction": satisfaction},
        )

    with transaction.atomic():
        rated = _act(
            case, Action.FOLLOW_UP, actor=actor, expected_version=expected_version, change=change
        )
        if resolution == Resolution.NOT_RESOLVED:
            rated = _reopen(
                rated, actor=actor, reason=comment or _("Not resolved, says the person.")
            )
    return rated


def _reopen(
    case: Case,
    *,
    actor: AnyUser,
    reason: str,
    expected_version: int | None = None,
    check_permission: bool = False,
) -> Case:
    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        due = limit_for(c, Stage.FEEDBACK).due(now, calendar)
        return Step(
            {"rework_count": c.rework_count + 1, "closed_at": None, "feedback_due_at": due},
            reason=reason,
            stage=Stage.FEEDBACK,
            due=due,
        )

    return _act(
        case,
        Action.REOPEN,
        actor=actor,
        expected_version=expected_version,
        change=change,
        check_permission=check_permission,
    )


def reopen_case(
    case: Case, *, actor: AnyUser, reason: str, expected_version: int | None = None
) -> Case:
    """重办 by intake staff (e.g. after a follow-up call). The version the person saw is
    checked, and who may, under the lock after the state (a race lost answers 409)."""
    if not reason.strip():
        raise InvalidCase(_("Say why the case is handled again."))
    return _reopen(
        case,
        actor=actor,
        reason=reason.strip(),
        expected_version=expected_version,
        check_permission=True,
    )


# --- Extensions, suspension, escalation, supervision -----------------------------------------


def request_extension(
    case: Case, *, actor: AnyUser, days: int, reason: str, expected_version: int | None = None
) -> CaseRequest:
    """延期申请: the unit asks for more working days, with a reason."""
    if not 1 <= days <= 30 or not reason.strip():
        raise InvalidCase(_("Ask for 1 to 30 working days and say why."))
    return _request(
        case,
        CaseRequest.Kind.EXTENSION,
        Action.REQUEST_EXTENSION,
        actor,
        reason,
        days,
        expected_version,
    )


def request_suspension(
    case: Case, *, actor: AnyUser, reason: str, expected_version: int | None = None
) -> CaseRequest:
    """挂账申请: the matter cannot be solved within any time limit (e.g. needs a budget)."""
    if not reason.strip():
        raise InvalidCase(_("Say why the case cannot be solved for now."))
    return _request(
        case,
        CaseRequest.Kind.SUSPENSION,
        Action.REQUEST_SUSPENSION,
        actor,
        reason,
        0,
        expected_version,
    )


def _request(
    case: Case,
    kind: str,
    action: Action,
    actor: AnyUser,
    reason: str,
    days: int,
    expected_version: int | None,
) -> CaseRequest:
    with transaction.atomic():

        def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
            # Under the case's lock, after its version, state and who may: of two requests
            # sent at once, the second finds the first (not the unique constraint).
            if CaseRequest.objects.filter(case=c, kind=kind, state=RequestState.PENDING).exists():
                raise InvalidCase(_("A request of this kind is already waiting for a decision."))
            return Step({}, reason=reason.strip(), data={"kind": kind, "days": days})

        updated = _act(case, action, actor=actor, expected_version=expected_version, change=change)
        if not isinstance(actor, User):
            raise PermissionDenied(_("You may not do this to this case."))
        return CaseRequest.objects.create(
            case=updated,
            kind=kind,
            reason=reason.strip()[:2000],
            days=days,
            requested_by=actor,
            requested_at=updated.updated_at,
        )


def decide_request(
    request: CaseRequest, *, actor: AnyUser, approve: bool, note: str = ""
) -> CaseRequest:
    """A leader or dispatcher approves or denies an extension or suspension."""
    if request.state != RequestState.PENDING:
        raise InvalidTransition(_("This request was already decided."))
    if request.kind == CaseRequest.Kind.EXTENSION:
        action = Action.DECIDE_EXTENSION
    else:
        action = Action.APPROVE_SUSPENSION if approve else Action.DENY_SUSPENSION

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        data = {"kind": request.kind, "approved": approve}
        if request.kind == CaseRequest.Kind.EXTENSION:
            if not approve:
                return Step({}, reason=note, data=data)
            base = c.feedback_due_at or now
            due = calendar.add(base, request.days, "working_days")
            fields: dict[str, Any] = {
                "feedback_due_at": due,
                "extension_count": c.extension_count + 1,
            }
            data["feedback_due_at"] = due.isoformat()
            if c.stage == Stage.FEEDBACK:
                return Step(fields, reason=note, data=data, stage=Stage.FEEDBACK, due=due)
            return Step(fields, reason=note, data=data)
        if approve:
            return Step({}, reason=note, data=data, stage=None)
        return Step({}, reason=note, data=data)

    with transaction.atomic():
        locked = CaseRequest.objects.select_for_update().get(pk=request.pk)
        if locked.state != RequestState.PENDING:
            raise InvalidTransition(_("This request was already decided."))
        _act(request.case, action, actor=actor, expected_version=None, change=change)
        locked.state = RequestState.APPROVED if approve else RequestState.DENIED
        locked.decided_by = actor if isinstance(actor, User) else None
        locked.decided_at = timezone.now()
        locked.decision_note = note.strip()[:2000]
        locked.save(update_fields=["state", "decided_by", "decided_at", "decision_note"])
    return locked


def resume_case(case: Case, *, actor: AnyUser, expected_version: int | None = None) -> Case:
    """The suspended matter can be solved now: the clock restarts with the full time limit."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        due = limit_for(c, Stage.FEEDBACK).due(now, calendar)
        return Step({"feedback_due_at": due}, stage=Stage.FEEDBACK, due=due)

    return _act(case, Action.RESUME, actor=actor, expected_version=expected_version, change=change)


def escalate_case(
    case: Case,
    *,
    actor: AnyUser,
    reason: str,
    expected_version: int | None = None,
    check_permission: bool = True,
) -> Case:
    """上报: the case goes back to dispatch one level up the chain (street > district > city)."""
    if not reason.strip():
        raise InvalidCase(_("Say why the case needs a higher level."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        current = c.dispatch_region
        if current.parent_id is None:
            raise InvalidTransition(_("The case is already at the city, the top of the chain."))
        higher = Region.objects.get(pk=current.parent_id)
        if c.state == State.DISPATCHED:
            _answer_assignment(c, Assignment.Outcome.WITHDRAWN, now)
        return Step(
            {"dispatch_region": higher, "unit": None, "escalation_count": c.escalation_count + 1},
            reason=reason.strip(),
            data={"from": current.code, "to": higher.code},
            stage=Stage.DISPATCH,
        )

    return _act(
        case,
        Action.ESCALATE,
        actor=actor,
        expected_version=expected_version,
        change=change,
        check_permission=check_permission,
    )


def supervise_case(case: Case, *, actor: AnyUser, note: str, check_permission: bool = True) -> Case:
    """督办: a higher level presses the unit; the case carries a visible flag."""
    if not note.strip():
        raise InvalidCase(_("Say what you expect: the unit will read it."))

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        return Step(
            {"is_supervised": True},
            reason=note.strip(),
            notices=[(NoticeKind.SUPERVISED, c.unit_id, None)],
        )

    return _act(
        case,
        Action.SUPERVISE,
        actor=actor,
        expected_version=None,
        change=change,
        check_permission=check_permission,
    )


def add_assisting_unit(case: Case, *, actor: AnyUser, unit: Unit, reason: str = "") -> Case:
    """协办: another unit helps the lead unit (主办)."""

    def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
        if unit.pk == c.unit_id:
            raise InvalidCase(_("The lead unit cannot also assist."))
        return Step({}, reason=reason.strip(), data={"unit": unit.pk, "unit_name": unit.name})

    with transaction.atomic():
        updated = _act(
            case, Action.ADD_ASSISTING_UNIT, actor=actor, expected_version=None, change=change
        )
        updated.assisting_units.add(unit)
    return updated


def merge_case(duplicate: Case, *, into: Case, actor: AnyUser, reason: str = "") -> Case:
    """合并: the duplicate closes as merged; both timelines say so; the original goes on.

    Both rows are locked, in the order of their keys: two merges of the same pair crossing
    each other wait for one another instead of deadlocking. Then, under the locks, the
    duplicate's state and who may merge it (``_act``), the original's state and who may add
    to it. The original's timeline gets one event more, so its version goes up by one: whoever
    saw it before the merge acts on a stale version and is told so.
    """
    if duplicate.pk == into.pk:
        raise InvalidCase(_("A case cannot be merged into itself."))
    reason = reason.strip()
    with transaction.atomic():
        locked = {
            pk: Case.objects.select_for_update(of=("self",))
            .select_related("region", "dispatch_region", "unit")
            .get(pk=pk)
            for pk in sorted([duplicate.pk, into.pk])
        }
        original = locked[into.pk]

        def change(c: Case, now: dt.datetime, calendar: WorkingCalendar) -> Step:
            try:
                next_state(original.state, Action.ABSORB_DUPLICATE)
            except IllegalTransition:
                raise InvalidCase(
                    _("Case %(number)s is “%(state)s”: merge into a case that is still open.")
                    % {"number": original.number, "state": STATE_LABELS[State(original.state)]},
                    into=original.number,
                    state=original.state,
                ) from None
            if not policies.can_dispatch(actor, original):
                raise PermissionDenied(_("You may not do this to this case."))
            return Step(
                {"merged_into": original, "closed_at": now},
                reason=reason,
                data={"into": original.number},
                stage=None,
            )

        merged = _act(duplicate, Action.MERGE, actor=actor, expected_version=None, change=change)
        original.version += 1
        original.updated_at = merged.updated_at
        original.save(update_fields=["version", "updated_at"])
        role, unit_name = _snapshot(actor, original, Capability.DISPATCH_CASES)
        events.record(
            original,
            Action.ABSORB_DUPLICATE,
            actor=actor,
            actor_role=role,
            actor_unit_name=unit_name,
            from_state=original.state,
            to_state=original.state,
            reason=reason,
            data={"duplicate": merged.number},
        )
    return merged


# --- Configuration: categories, time limits, escalation rules (rows a city edits) ------------


def import_categories(rows: list[tuple[str, ...]], *, actor: AnyUser) -> int:
    """Create the categories named by ``rows`` (each a path of names, top first) that are
    missing. Idempotent. Returns how many were created."""
    if not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied(_("Only a superuser may import categories."))
    created = 0
    with transaction.atomic():
        known = {c.path: c for c in Category.objects.all()}
        for row in rows:
            names = [n.strip() for n in row if n and n.strip()]
            for depth in range(1, len(names) + 1):
                path = "/".join(names[:depth])
                if path in known:
                    continue
                parent = known.get("/".join(names[: depth - 1])) if depth > 1 else None
                known[path] = Category.objects.create(
                    name=names[depth - 1][:60], parent=parent, level=depth, path=path
                )
                created += 1
    return created


def set_time_limit(
    *,
    stage: str,
    amount: int,
    unit: str,
    category: Category | None = None,
    urgency: str = "",
    complexity: str = "",
) -> None:
    from gongzhi.cases.models import TimeLimit

    TimeLimit.objects.update_or_create(
        stage=stage,
        category=category,
        urgency=urgency,
        complexity=complexity,
        defaults={"amount": amount, "unit": unit},
    )


def set_escalation_rule(*, stage: str, response: str) -> None:
    from gongzhi.cases.models import EscalationRule

    EscalationRule.objects.update_or_create(stage=stage, defaults={"response": response})


# --- Attachments ------------------------------------------------------------------------------

ALLOWED_UPLOADS = {
    b"\xff\xd8\xff": (".jpg", "image/jpeg"),
    b"\x89PNG\r\n\x1a\n": (".png", "image/png"),
    b"RIFF": (".webp", "image/webp"),
}
MAX_UPLOAD_BYTES = 8 * 1024 * 1024
MAX_ATTACHMENTS = 9


def attach_file(case: Case, *, actor: AnyUser, content: bytes, is_public: bool = False) -> Any:
    """Attach a photo (JPEG, PNG or WebP, up to 8 MB, at most 9 per case). The type is
    read from the bytes, never from the name or the browser's word; the photo is stored
    without its metadata (``cases.photos``)."""
    import hashlib

    from django.core.files.base import ContentFile

    from gongzhi.cases.models import CaseAttachment

    if not content or len(content) > MAX_UPLOAD_BYTES:
        raise InvalidCase(_("A photo must be between 1 byte and 8 MB."))
    kind = next((v for magic, v in ALLOWED_UPLOADS.items() if content.startswith(magic)), None)
    if kind is None or (kind[0] == ".webp" and content[8:12] != b"WEBP"):
        raise InvalidCase(_("Only JPEG, PNG and WebP photos can be attached."))
    content, extension, content_type = clean_photo(content)  # rewritten without EXIF (GPS)
    kind = (extension, content_type)
    with transaction.atomic():
        locked = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
        try:
            next_state(locked.state, Action.ATTACH)
        except IllegalTransition:
            raise InvalidTransition(_("Photos can only be added to open cases.")) from None
        # After the state check, as in _act: whoever lost a race learns the case moved on.
        if not policies.can_act(actor, locked, Action.ATTACH):
            raise PermissionDenied(_("You may not do this to this case."))
        if locked.attachments.count() >= MAX_ATTACHMENTS:
            raise InvalidCase(_("A case can have at most 9 photos."))
        attachment = CaseAttachment(
            case=locked,
            extension=kind[0],
            content_type=kind[1],
            size=len(content),
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=actor if isinstance(actor, User) else None,
            uploaded_at=timezone.now(),
            is_public=is_public,
        )
        attachment.file.save("upload" + kind[0], ContentFile(content), save=False)
        attachment.save(force_insert=True)
        # Every event of a timeline moves the case on by one version (a photo is news to
        # whoever is about to act on what they saw before it).
        locked.version += 1
        locked.updated_at = attachment.uploaded_at
        locked.save(update_fields=["version", "updated_at"])
        events.record(
            locked,
            Action.ATTACH,
            actor=actor,
            actor_role=_snapshot(actor, locked, Capability.HANDLE_CASES)[0],
            from_state=locked.state,
            to_state=locked.state,
            data={"attachment": str(attachment.pk), "sha256": attachment.sha256},
        )
    return attachment
