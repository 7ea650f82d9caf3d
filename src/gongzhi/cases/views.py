"""Pages of the request loop. Thin: access the case, parse the form, call the service, render.

Cases come only through ``policies.access_case``, ``queries.queue`` and
``policies.cases_visible_to``; every change goes through a ``services`` function, which
checks who may (after the case's version and state, so a race lost answers 409, not 403). A
domain error re-renders the same page with the person's input and the service's message, with
the error's status; a refusal (403) shows the error page instead. Personal data is shown only
where ``policies.can_see_personal_data`` says so; otherwise names are masked and phones,
addresses and exact points left out.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django import forms as django_forms
from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_stubs_ext import StrOrPromise

from gongzhi.accounts.choices import MembershipRole
from gongzhi.accounts.queries import AnyUser, is_staff_member
from gongzhi.cases import forms, pages, policies, queries, services
from gongzhi.cases.choices import ACTION_LABELS, EVENT_LABELS, STATE_LABELS, Channel
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.proposals import judge_reply
from gongzhi.cases.queries import Queue
from gongzhi.cases.workflow import Action, State
from gongzhi.core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from gongzhi.core.redaction import mask_name, redact

QUEUE_LABELS: dict[Queue, StrOrPromise] = {
    Queue.TO_DISPATCH: gettext_lazy("To register and dispatch"),
    Queue.RETURNED: gettext_lazy("Returned"),
    Queue.TO_CLOSE: gettext_lazy("To close"),
    Queue.TO_SIGN: gettext_lazy("To sign for"),
    Queue.IN_PROGRESS: gettext_lazy("In progress"),
    Queue.TO_VERIFY: gettext_lazy("To verify"),
    Queue.NEAR_DEADLINE: gettext_lazy("Near the deadline"),
    Queue.OVERDUE: gettext_lazy("Overdue"),
    Queue.SUPERVISED: gettext_lazy("Supervised"),
    Queue.MINE: gettext_lazy("Raised by me"),
}
ROLE_LABELS: dict[str, StrOrPromise] = {
    **{role.value: role.label for role in MembershipRole},
    "resident": gettext_lazy("Resident"),
    "reporter": gettext_lazy("The person who raised it"),
    "system": gettext_lazy("System"),
    "superuser": gettext_lazy("System"),
}
PAGE_SIZE = 50


def _title(user: AnyUser, case: Case) -> str:
    return case.title if policies.can_see_personal_data(user, case) else redact(case.title)


@dataclass
class Row:
    """One case in a list, as the person may see it."""

    case: Case
    title: str
    state_label: StrOrPromise


def _rows(user: AnyUser, cases: Any) -> list[Row]:
    return [Row(c, _title(user, c), STATE_LABELS[State(c.state)]) for c in cases]


# --- Lists ------------------------------------------------------------------------------------


@require_GET
def case_queues(request: HttpRequest) -> HttpResponse:
    """My queues: one tab per work list of my roles, with counts; one table per tab."""
    names = queries.queues_for(request.user)
    if names == [Queue.MINE]:
        return redirect("cases:mine")  # residents: their own cases
    current = Queue(request.GET["queue"]) if request.GET.get("queue") in names else names[0]
    counts = queries.queue_counts(request.user, names)
    page = Paginator(queries.queue(request.user, current), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    tabs = [(name, QUEUE_LABELS[name], counts[name]) for name in names]
    return render(
        request,
        "cases/queues.html",
        {
            "tabs": tabs,
            "current": current,
            "current_label": QUEUE_LABELS[current],
            "page": page,
            "rows": _rows(request.user, page),
        },
    )


@require_GET
def my_cases(request: HttpRequest) -> HttpResponse:
    """What I raised, newest first, and a box to find a case by its tracking code."""
    track = forms.TrackForm(request.GET if "code" in request.GET else None)
    status = 200
    if track.is_bound and track.is_valid():
        try:
            found = policies.access_case_by_tracking_code(request.user, track.cleaned_data["code"])
        except DomainError as exc:
            track.add_error("code", exc.message)
            status = exc.status
        else:
            return redirect("cases:detail", case_id=found.pk)
    page = Paginator(queries.queue(request.user, Queue.MINE), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "cases/mine.html",
        {"page": page, "rows": _rows(request.user, page), "track": track},
        status=status,
    )


# --- Raising a matter -------------------------------------------------------------------------


def new_case(request: HttpRequest) -> HttpResponse:
    """Raise a matter on the web: a pin on the map gives the grid; photos come along."""
    user = request.user
    form = forms.SubmitForm(
        request.POST if request.method == "POST" else None,
        request.FILES if request.method == "POST" else None,
        categories=pages.active_categories(),
        initial={"name": getattr(user, "display_name", ""), "phone": getattr(user, "phone", "")},
    )
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                with transaction.atomic():  # the case and its photos, or nothing
                    region = pages.region_at_point(data["latitude"], data["longitude"])
                    case = services.submit_case(
                        services.NewCase(
                            title=data["title"],
                            description=data["description"],
                            kind=data["kind"],
                            channel=Channel.WEB,
                            region=region,
                            latitude=data["latitude"],
                            longitude=data["longitude"],
                            address=data["address"],
                            category=data["category"],
                            reporter_name=data["name"],
                            reporter_phone=data["phone"],
                            is_anonymous=data["is_anonymous"],
                        ),
                        actor=user,
                    )
                    for photo in data["photos"]:
                        services.attach_file(case, actor=user, content=photo.read())
            except DomainError as exc:
                form.add_error(None, exc.message)
                status = exc.status
            else:
                return redirect("cases:submitted", case_id=case.pk)
    return render(
        request,
        "cases/new.html",
        {
            "form": form,
            "orientation_json": json.dumps(pages.orientation_map(), ensure_ascii=False),
            "map_tiles_url": settings.GONGZHI_MAP_TILES_URL,
            "photos_lost": status != 200 and bool(request.FILES),
        },
        status=status,
    )


@require_GET
def where_is(request: HttpRequest) -> JsonResponse:
    """Which grid a map point falls in, so the person sees where their pin is before
    submitting. Region names are public; nothing about cases is read here."""
    try:
        lat, lng = float(request.GET["lat"]), float(request.GET["lng"])
        if not (math.isfinite(lat) and math.isfinite(lng)):
            raise ValueError
        region = pages.region_at_point(lat, lng)
    except (KeyError, ValueError):
        return _json_error(InvalidInput(_("Give a latitude and a longitude.")))
    except DomainError as exc:
        return _json_error(exc)
    return JsonResponse(
        {"code": region.code, "name": region.name, "trail": pages.region_trail(region)}
    )


def _json_error(exc: DomainError) -> JsonResponse:
    return JsonResponse(
        {"code": exc.code, "message": exc.message, "details": exc.details}, status=exc.status
    )


@require_GET
def case_submitted(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The receipt: the case number and the tracking code, for the person who raised it."""
    case = policies.access_case(request.user, case_id)
    if not policies.is_reporter(request.user, case):
        raise PermissionDenied(_("Only the person who raised the case sees its receipt."))
    return render(request, "cases/submitted.html", {"case": case})


# --- One case ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class ActionSpec:
    """How the page offers one action and which service it calls."""

    name: str
    label: StrOrPromise
    form: type[django_forms.Form]
    run: Callable[[HttpRequest, Case, dict[str, Any]], Any]
    # The workflow action the form takes: the page offers it to those who may; the service
    # checks who may. None: a decision on a request (one of DECISIONS, by the request's kind).
    permission: Action | None
    options: Callable[[AnyUser, Case], dict[str, Any]] | None = None
    button: str = ""  # CSS class of the submit button
    confirm: StrOrPromise = ""
    multipart: bool = False

    @property
    def versioned(self) -> bool:
        return issubclass(self.form, forms.VersionedForm)

    def make_form(self, user: AnyUser, case: Case, data: Any = None, files: Any = None) -> Any:
        options = self.options(user, case) if self.options else {}
        return self.form(data, files, auto_id=f"id_{self.name}_%s", **options)


def _version(data: dict[str, Any]) -> int | None:
    version = data.get("expected_version")
    return int(version) if version is not None else None


def _register(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.register_case(
        case,
        actor=request.user,
        category=data["category"],
        urgency=data["urgency"],
        complexity=data["complexity"],
        expected_version=_version(data),
    )


def _reject(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.reject_case(
        case, actor=request.user, reason=data["reason"], expected_version=_version(data)
    )


def _dispatch(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.dispatch_case(
        case,
        actor=request.user,
        unit=data["unit"],
        reason=data["reason"],
        expected_version=_version(data),
    )


def _sign_for(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.sign_for_case(case, actor=request.user, expected_version=_version(data))


def _return(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.return_case(
        case, actor=request.user, reason=data["reason"], expected_version=_version(data)
    )


def _reply(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.reply_to_case(
        case, actor=request.user, reply=data["reply"], expected_version=_version(data)
    )


def _verify(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.verify_case(
        case,
        actor=request.user,
        resolved=True,
        note=data["note"],
        expected_version=_version(data),
    )


def _fail_verification(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.verify_case(
        case,
        actor=request.user,
        resolved=False,
        note=data["note"],
        expected_version=_version(data),
    )


def _close(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.close_case(case, actor=request.user, expected_version=_version(data))


def _follow_up(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.follow_up_case(
        case,
        actor=request.user,
        resolution=data["resolution"],
        satisfaction=data["satisfaction"],
        comment=data["comment"],
        expected_version=_version(data),
    )


def _reopen(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.reopen_case(
        case, actor=request.user, reason=data["reason"], expected_version=_version(data)
    )


def _request_extension(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.request_extension(
        case,
        actor=request.user,
        days=data["days"],
        reason=data["reason"],
        expected_version=_version(data),
    )


def _request_suspension(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.request_suspension(
        case, actor=request.user, reason=data["reason"], expected_version=_version(data)
    )


def _decide(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.decide_request(
        data["request"], actor=request.user, approve=data["approve"], note=data["note"]
    )


def _resume(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.resume_case(case, actor=request.user, expected_version=_version(data))


def _escalate(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.escalate_case(
        case, actor=request.user, reason=data["reason"], expected_version=_version(data)
    )


def _supervise(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.supervise_case(case, actor=request.user, note=data["note"])


def _add_assisting_unit(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.add_assisting_unit(
        case, actor=request.user, unit=data["unit"], reason=data["reason"]
    )


def _merge(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    into = pages.visible_case_by_number(request.user, data["into"])
    if into is None:
        # Only for someone who may merge this case: anyone else is refused, whatever the number.
        policies.check_may_act(request.user, case, Action.MERGE)
        raise NotFound(_("No case you can see has that number."))
    return services.merge_case(case, into=into, actor=request.user, reason=data["reason"])


def _attach(request: HttpRequest, case: Case, data: dict[str, Any]) -> Any:
    return services.attach_file(case, actor=request.user, content=data["photo"].read())


def _register_options(user: AnyUser, case: Case) -> dict[str, Any]:
    return {
        "categories": pages.active_categories(),
        "initial": {
            # The classifier's best guess is preselected; the dispatcher confirms or changes it.
            "category": case.category_id or case.proposed_category_id,
            "urgency": case.urgency,
            "complexity": case.complexity,
        },
    }


def _dispatch_options(user: AnyUser, case: Case) -> dict[str, Any]:
    return {
        "units": pages.units_for_dispatch(user, case),
        "initial": {"unit": case.proposed_unit_id},
    }


def _assist_options(user: AnyUser, case: Case) -> dict[str, Any]:
    return {"units": pages.units_for_dispatch(user, case).exclude(pk=case.unit_id or 0)}


def _decide_options(user: AnyUser, case: Case) -> dict[str, Any]:
    return {"pending": pages.pending_requests(case)}


A = Action
ACTIONS: dict[str, ActionSpec] = {
    spec.name: spec
    for spec in [
        ActionSpec(
            "register",
            ACTION_LABELS[A.REGISTER],
            forms.RegisterForm,
            _register,
            A.REGISTER,
            _register_options,
            "primary",
        ),
        ActionSpec(
            "dispatch",
            ACTION_LABELS[A.DISPATCH],
            forms.DispatchForm,
            _dispatch,
            A.DISPATCH,
            _dispatch_options,
            "primary",
        ),
        ActionSpec(
            "sign_for",
            ACTION_LABELS[A.SIGN_FOR],
            forms.EmptyForm,
            _sign_for,
            A.SIGN_FOR,
            button="primary",
        ),
        ActionSpec(
            "reply", ACTION_LABELS[A.REPLY], forms.ReplyForm, _reply, A.REPLY, button="primary"
        ),
        ActionSpec(
            "verify", ACTION_LABELS[A.VERIFY], forms.NoteForm, _verify, A.VERIFY, button="primary"
        ),
        ActionSpec(
            "fail_verification",
            ACTION_LABELS[A.FAIL_VERIFICATION],
            forms.RequiredNoteForm,
            _fail_verification,
            A.FAIL_VERIFICATION,
            button="danger",
        ),
        ActionSpec(
            "close", ACTION_LABELS[A.CLOSE], forms.EmptyForm, _close, A.CLOSE, button="primary"
        ),
        ActionSpec(
            "follow_up",
            ACTION_LABELS[A.FOLLOW_UP],
            forms.FollowUpForm,
            _follow_up,
            A.FOLLOW_UP,
            button="primary",
        ),
        ActionSpec(
            "resume", ACTION_LABELS[A.RESUME], forms.EmptyForm, _resume, A.RESUME, button="primary"
        ),
        ActionSpec(
            "decide",
            gettext_lazy("Decide on the request"),
            forms.DecideForm,
            _decide,
            None,
            _decide_options,
        ),
        ActionSpec(
            "reject", ACTION_LABELS[A.REJECT], forms.ReasonForm, _reject, A.REJECT, button="danger"
        ),
        ActionSpec(
            "return", ACTION_LABELS[A.RETURN], forms.ReasonForm, _return, A.RETURN, button="danger"
        ),
        ActionSpec(
            "request_extension",
            ACTION_LABELS[A.REQUEST_EXTENSION],
            forms.ExtensionForm,
            _request_extension,
            A.REQUEST_EXTENSION,
        ),
        ActionSpec(
            "request_suspension",
            ACTION_LABELS[A.REQUEST_SUSPENSION],
            forms.ReasonForm,
            _request_suspension,
            A.REQUEST_SUSPENSION,
        ),
        ActionSpec("reopen", ACTION_LABELS[A.REOPEN], forms.ReasonForm, _reopen, A.REOPEN),
        ActionSpec("escalate", ACTION_LABELS[A.ESCALATE], forms.ReasonForm, _escalate, A.ESCALATE),
        ActionSpec(
            "supervise", ACTION_LABELS[A.SUPERVISE], forms.SuperviseForm, _supervise, A.SUPERVISE
        ),
        ActionSpec(
            "add_assisting_unit",
            ACTION_LABELS[A.ADD_ASSISTING_UNIT],
            forms.AssistForm,
            _add_assisting_unit,
            A.ADD_ASSISTING_UNIT,
            _assist_options,
        ),
        ActionSpec(
            "merge",
            ACTION_LABELS[A.MERGE],
            forms.MergeForm,
            _merge,
            A.MERGE,
            button="danger",
            confirm=gettext_lazy("Merge this case into the other one? It closes as merged."),
        ),
        ActionSpec(
            "attach",
            gettext_lazy("Add a photo"),
            forms.AttachForm,
            _attach,
            A.ATTACH,
            multipart=True,
        ),
    ]
}
DECISIONS = {A.DECIDE_EXTENSION, A.APPROVE_SUSPENSION, A.DENY_SUSPENSION}


def _offered(user: AnyUser, case: Case, *, has_pending: bool) -> list[ActionSpec]:
    """The action forms this person gets on this case now, in the order of the work."""
    available = set(policies.available_actions(user, case))
    offered = []
    for spec in ACTIONS.values():
        if spec.name == "decide":
            if available & DECISIONS and has_pending:
                offered.append(spec)
        elif spec.name == "follow_up" and case.rated_at and policies.is_reporter(user, case):
            continue  # the person has rated it; staff may still record a follow-up call
        elif spec.permission in available:
            offered.append(spec)
    return offered


@dataclass
class OfferedForm:
    spec: ActionSpec
    form: Any
    url: str
    pending: list[Any] | None = None  # decide: one small form per pending request


@dataclass
class TimelineEntry:
    event: CaseEvent
    label: StrOrPromise
    actor: str
    role: StrOrPromise
    reason: str
    from_label: StrOrPromise
    to_label: StrOrPromise


def _timeline(user: AnyUser, case: Case, personal: bool) -> list[TimelineEntry]:
    """Who did what, when and why. The person who raised the case is personal data; the
    people who raise cases see the role and unit of the staff who acted, not their names."""
    staff_viewer = is_staff_member(user)
    entries = []
    for event in queries.timeline(case):
        actor = str(event.actor) if event.actor else ""
        if event.actor_id is not None and event.actor_id == case.reporter_id:
            if not personal:
                actor = _("Anonymous") if case.is_anonymous else mask_name(actor)
        elif not staff_viewer and event.actor_id != user.pk:
            actor = ""
        entries.append(
            TimelineEntry(
                event=event,
                label=EVENT_LABELS.get(event.action, event.action),
                actor=actor,
                role=ROLE_LABELS.get(event.actor_role, event.actor_role),
                reason=event.reason if personal else redact(event.reason),
                from_label=STATE_LABELS[State(event.from_state)] if event.from_state else "",
                to_label=STATE_LABELS[State(event.to_state)] if event.to_state else "",
            )
        )
    return entries


def _render_case(
    request: HttpRequest,
    case: Case,
    *,
    failed: tuple[ActionSpec, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    personal = policies.can_see_personal_data(user, case)
    pending = list(pages.pending_requests(case))
    offered = []
    failed_shown = False
    for spec in _offered(user, case, has_pending=bool(pending)):
        if failed is not None and failed[0].name == spec.name:
            form = failed[1]
            failed_shown = True
        else:
            form = spec.make_form(user, case)
        url = reverse("cases:act", kwargs={"case_id": case.pk, "action": spec.name})
        offered.append(OfferedForm(spec, form, url, pending if spec.name == "decide" else None))
    person: dict[str, Any] | None = None
    if personal:
        person = {
            "name": case.reporter_name,
            "phone": case.reporter_phone,
            "address": case.address,
            "is_anonymous": case.is_anonymous,
        }
    elif not case.is_anonymous and case.reporter_name:
        person = {"name": mask_name(case.reporter_name), "is_anonymous": False}
    elif case.is_anonymous:
        person = {"is_anonymous": True}
    photos = list(case.attachments.all())
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "personal": personal,
            "title": case.title if personal else redact(case.title),
            "description": case.description if personal else redact(case.description),
            "reply": case.reply if personal else redact(case.reply),
            "state_label": STATE_LABELS[State(case.state)],
            "person": person,
            "assisting_units": list(case.assisting_units.all()),
            "photos": photos,
            "offered": offered,
            # An action that failed but is not offered now (e.g. the state moved on).
            "failed_elsewhere": failed[1] if failed is not None and not failed_shown else None,
            "timeline": _timeline(user, case, personal),
            "map_tiles_url": settings.GONGZHI_MAP_TILES_URL,
            "region_json": json.dumps([case.region.boundary] if case.region.boundary else []),
            "pending": pending,
            "is_reporter": policies.is_reporter(user, case),
            # For staff: does the answer explain itself (triage.replies, docs/triage.md)?
            "reply_judgement": (
                judge_reply(f"{case.title}\n{case.description}", case.reply)
                if case.reply and is_staff_member(user)
                else None
            ),
        },
        status=status,
    )


@require_GET
def case_detail(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    return _render_case(request, policies.access_case(request.user, case_id))


def _refuse_bad_input(user: AnyUser, case: Case, spec: ActionSpec, form: Any) -> None:
    """Input the form refuses, from someone who may not take the action at all: refused (403)
    as any input would be, not explained (a form's choices depend on who may act, e.g. the
    units one may dispatch to). Valid input goes to the service, which checks who may."""
    # The three decisions on a request share one predicate and one state.
    action = spec.permission or Action.DECIDE_EXTENSION
    version = form.cleaned_data.get("expected_version")
    policies.check_may_act(user, case, action, expected_version=version)


@require_POST
def case_act(request: HttpRequest, case_id: uuid.UUID, action: str) -> HttpResponse:
    """One action on one case: the form posted from the case page."""
    spec = ACTIONS.get(action)
    if spec is None:
        raise NotFound(_("No such action."))
    user = request.user
    # Visibility only: the service checks who may under the row lock, after the state and
    # the version, so that whoever lost a race learns that the case moved on (409).
    case = policies.access_case(user, case_id)
    form = spec.make_form(user, case, request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            spec.run(request, case, form.cleaned_data)
        except PermissionDenied:
            raise  # the error page: nothing of the case for someone who may not act on it
        except DomainError as exc:
            form.add_error(None, exc.message)
            status = exc.status
        else:
            messages.success(request, _("Done: %(action)s.") % {"action": spec.label})
            if pages.still_visible(user, case):
                return redirect("cases:detail", case_id=case.pk)
            return redirect("cases:queues")
    else:
        _refuse_bad_input(user, case, spec, form)
    # The page again, as it is now, with the person's input and the error.
    return _render_case(
        request, policies.access_case(user, case.pk), failed=(spec, form), status=status
    )


@require_GET
def case_duplicates(request: HttpRequest, case_id: uuid.UUID) -> HttpResponse:
    """The open cases that are probably the same matter (loaded into the merge form of the
    case page), for those who may merge this case."""
    case = policies.access_case(request.user, case_id, action=Action.MERGE)
    return render(
        request,
        "cases/_duplicates.html",
        {
            "case": case,
            "duplicates": pages.probable_duplicates(request.user, case),
            "merge_url": reverse("cases:act", kwargs={"case_id": case.pk, "action": "merge"}),
        },
    )


@require_GET
def case_photo(request: HttpRequest, case_id: uuid.UUID, photo_id: uuid.UUID) -> FileResponse:
    """A photo of a case, for those who may see the case (never a public file URL)."""
    case = policies.access_case(request.user, case_id)
    attachment = case.attachments.filter(pk=photo_id).first()
    if attachment is None:
        raise NotFound(_("No such photo."))
    response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type)
    response["Cache-Control"] = "private, max-age=3600"
    return response


# --- The map ----------------------------------------------------------------------------------


@require_GET
def case_map(request: HttpRequest) -> HttpResponse:
    filters = forms.MapFilterForm(request.GET or None, categories=pages.top_categories())
    filters.is_valid()
    return render(
        request,
        "cases/map.html",
        {
            "filters": filters,
            "orientation_json": json.dumps(pages.orientation_map(), ensure_ascii=False),
            "map_tiles_url": settings.GONGZHI_MAP_TILES_URL,
        },
    )


@require_GET
def case_map_json(request: HttpRequest) -> JsonResponse:
    """The points of the cases this person may see. No names, phones or addresses; titles
    are redacted, and points are rounded to about 100 m for those who may not see the
    exact place."""
    filters = forms.MapFilterForm(request.GET, categories=pages.top_categories())
    if not filters.is_valid():
        return _json_error(InvalidInput(_("Unknown filter."), fields=list(filters.errors)))
    data = filters.cleaned_data
    user = request.user
    rows = list(
        pages.cases_on_map(
            user, group=data["group"], category=data["category"], warning=data["warning"]
        )[: pages.MAP_LIMIT + 1]
    )
    items = []
    for case in rows[: pages.MAP_LIMIT]:
        exact = policies.can_see_personal_data(user, case)
        lat, lng = float(case.latitude or 0), float(case.longitude or 0)
        items.append(
            {
                "id": str(case.pk),
                "number": case.number,
                "title": redact(case.title),
                "state": case.state,
                "state_label": str(STATE_LABELS[State(case.state)]),
                "warning": case.warning,
                "supervised": case.is_supervised,
                "lat": lat if exact else round(lat, 3),
                "lng": lng if exact else round(lng, 3),
                "url": reverse("cases:detail", kwargs={"case_id": case.pk}),
            }
        )
    return JsonResponse(
        {"count": len(items), "truncated": len(rows) > pages.MAP_LIMIT, "cases": items}
    )
