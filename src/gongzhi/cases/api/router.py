"""API of the request loop: submit, list, read, and one operation per action.

Each operation: parse, ``access_case`` (scoped; missing and not-yours are both 404), call
the service, return the schema. Who may act is the service's check, made under the row lock
after the state and the version: whoever lost a race gets the conflict (409) that tells them
to reload, not a refusal (403) for a state they did not see. Personal data only for those
``can_see_personal_data`` allows; descriptions are redacted for everyone else.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import File, Query, Router, Schema, Status
from ninja.files import UploadedFile
from pydantic import Field

from gongzhi.accounts.queries import active_memberships
from gongzhi.cases import intake, pages, policies, queries, services
from gongzhi.cases.api.schemas import (
    AssistIn,
    AttachmentOut,
    CaseDetailOut,
    CaseOut,
    CasePage,
    CategoryOut,
    DecisionIn,
    DispatchIn,
    DuplicateOut,
    EventOut,
    ExtensionIn,
    FollowUpIn,
    MergeIn,
    NoteIn,
    PersonOut,
    ProposalItem,
    ProposalOut,
    QueuedOut,
    ReasonIn,
    Ref,
    RegionRef,
    RegisterIn,
    ReplyIn,
    ReplyJudgementOut,
    RequestOut,
    SubmitIn,
    SubmittedOut,
    VerifyIn,
    Versioned,
)
from gongzhi.cases.choices import EVENT_LABELS, STATE_LABELS, Channel
from gongzhi.cases.errors import InvalidCase, OutsideTheCity
from gongzhi.cases.models import Case, CaseEvent, CaseRequest, Category, QueuedCase
from gongzhi.cases.proposals import judge_reply
from gongzhi.cases.workflow import Action, State
from gongzhi.core.errors import NotFound, PermissionDenied
from gongzhi.core.redaction import mask_name, redact
from gongzhi.core.scoping import subtree_q
from gongzhi.territory.models import Unit
from gongzhi.territory.policies import access_region, units_visible_to
from gongzhi.territory.queries import region_at

router = Router(tags=["cases"])

# Residents raise matters themselves on the web or the app; other channels are staff's.
RESIDENT_CHANNELS = {Channel.WEB, Channel.MOBILE}


class CaseFilters(Schema):
    queue: queries.Queue | None = None
    state: State | None = None
    category_id: int | None = None
    region_id: int | None = None
    unit_id: int | None = None
    q: str | None = Field(default=None, max_length=50, description="number or title contains")
    limit: int = Field(default=50, ge=1, le=500)
    offset: int = Field(default=0, ge=0)


def _ref(obj: Any) -> Ref | None:
    return Ref(id=obj.pk, name=obj.name) if obj is not None else None


def _category(category: Category | None) -> CategoryOut | None:
    if category is None:
        return None
    return CategoryOut(
        id=category.pk,
        name=category.name,
        path=category.path,
        level=category.level,
        parent_id=category.parent_id,
    )


def _proposal(case: Case) -> ProposalOut | None:
    if not case.proposal_top3:
        return None
    return ProposalOut(
        model_version=case.proposal_model_version,
        category_path=case.proposal_top3[0][0],
        confidence=case.proposal_confidence,
        top3=[ProposalItem(category_path=p, confidence=c) for p, c in case.proposal_top3],
    )


def case_out(request: HttpRequest, case: Case) -> CaseOut:
    personal = policies.can_see_personal_data(request.user, case)
    return CaseOut(
        id=case.pk,
        number=case.number,
        title=case.title if personal else redact(case.title),
        description=case.description if personal else redact(case.description),
        kind=case.kind,
        channel=case.channel,
        urgency=case.urgency,
        complexity=case.complexity,
        category=_category(case.category),
        region=RegionRef(id=case.region.pk, name=case.region.name, code=case.region.code),
        unit=_ref(case.unit),
        proposed_unit=_ref(case.proposed_unit),
        proposal=_proposal(case),
        state=case.state,
        state_label=str(STATE_LABELS[State(case.state)]),
        version=case.version,
        stage=case.stage,
        due_at=case.due_at,
        warning=case.warning,
        feedback_due_at=case.feedback_due_at,
        is_supervised=case.is_supervised,
        submitted_at=case.submitted_at,
        replied_at=case.replied_at,
        closed_at=case.closed_at,
        reply=case.reply if personal else redact(case.reply),
        resolution=case.resolution,
        satisfaction=case.satisfaction,
        latitude=case.latitude if personal else None,
        longitude=case.longitude if personal else None,
    )


def _actor_name(event: CaseEvent, case: Case, personal: bool) -> str | None:
    """Staff names are public in the timeline; the person who raised the case is masked for
    those who may not see personal data."""
    if event.actor is None:
        return None
    if not personal and event.actor_id == case.reporter_id:
        return mask_name(str(event.actor))
    return str(event.actor)


def case_detail(request: HttpRequest, case: Case) -> CaseDetailOut:
    user = request.user
    personal = policies.can_see_personal_data(user, case)
    events = [
        EventOut(
            seq=e.seq,
            action=e.action,
            label=str(EVENT_LABELS.get(e.action, e.action)),
            occurred_at=e.occurred_at,
            actor=_actor_name(e, case, personal),
            actor_role=e.actor_role,
            actor_unit_name=e.actor_unit_name,
            from_state=e.from_state,
            to_state=e.to_state,
            reason=e.reason if personal else redact(e.reason),
            data=e.data,
        )
        for e in queries.timeline(case)
    ]
    person = None
    if personal:
        person = PersonOut(
            name=case.reporter_name,
            phone=case.reporter_phone,
            address=case.address,
            is_anonymous=case.is_anonymous,
        )
    elif case.reporter_name and not case.is_anonymous:
        person = PersonOut(
            name=mask_name(case.reporter_name), phone="", address="", is_anonymous=False
        )
    return CaseDetailOut(
        **case_out(request, case).model_dump(),
        tracking_code=case.tracking_code if personal else None,
        person=person,
        assisting_units=[Ref(id=u.pk, name=u.name) for u in case.assisting_units.all()],
        available_actions=[a.value for a in policies.available_actions(user, case)],
        timeline=events,
        reply_judgement=_reply_judgement(user, case),
    )


def _reply_judgement(user: Any, case: Case) -> ReplyJudgementOut | None:
    """For staff: how well the answer explains itself (docs/triage.md, "Reply quality")."""
    if not case.reply or not active_memberships(user):
        return None
    found = judge_reply(f"{case.title}\n{case.description}", case.reply)
    if found is None:
        return None
    return ReplyJudgementOut(
        score=found.score,
        is_explainable=found.is_explainable,
        cues=found.cues,
        demands=found.demands,
        answered=found.answered,
        relevance=found.relevance,
    )


def _category_or_404(category_id: int | None) -> Category | None:
    if category_id is None:
        return None
    category = Category.objects.filter(pk=category_id, is_active=True).first()
    if category is None:
        raise NotFound(_("No such category."))
    return category


def _unit_or_404(
    request: HttpRequest,
    unit_id: int,
    *,
    case: Case,
    action: Action,
    expected_version: int | None = None,
) -> Unit:
    """The unit an action names, among those the person can see. "No such unit" only for
    someone who may take the action: anyone else is refused (403) whichever unit they name."""
    unit = units_visible_to(request.user).filter(pk=unit_id).first()
    if unit is None:
        policies.check_may_act(request.user, case, action, expected_version=expected_version)
        raise NotFound(_("No such unit."))
    return unit


def _original_or_404(request: HttpRequest, duplicate: Case, into_id: UUID) -> Case:
    """The case a duplicate is merged into, if the person can see it. "No such case" only for
    someone who may merge the duplicate: anyone else is refused (403) whichever case they name."""
    try:
        return policies.access_case(request.user, into_id)
    except NotFound:
        policies.check_may_act(request.user, duplicate, Action.MERGE)
        raise


@router.get("/categories", response=list[CategoryOut], summary="The category tree (flat)")
def list_categories(request: HttpRequest) -> list[CategoryOut]:
    categories = Category.objects.filter(is_active=True).order_by("path")
    return [c for c in (_category(c) for c in categories) if c is not None]


def _wants_queue(request: HttpRequest) -> bool:
    """``Prefer: respond-async`` (RFC 7240): accept now, make the case in the background."""
    preferences = request.headers.get("Prefer", "").lower().split(",")
    return any(p.split(";")[0].strip() == "respond-async" for p in preferences)


def _queued_out(queued: QueuedCase) -> QueuedOut:
    state = intake.status_of(queued)
    return QueuedOut(
        receipt=queued.receipt,
        tracking_code=queued.tracking_code,
        received_at=queued.received_at,
        state=state,
        case_id=queued.case_id,
        number=queued.case.number if queued.case is not None else None,
        error=queued.last_error if state == "refused" else "",
    )


@router.post(
    "/cases",
    response={201: SubmittedOut, 202: QueuedOut},
    summary="Raise a matter",
    description=(
        "Answers 201 with the new case. With the header `Prefer: respond-async` the submission "
        "is checked, accepted into the intake queue and answered 202 with a receipt and the "
        "tracking code; the case follows within seconds (GET /cases/queued/{receipt})."
    ),
)
def submit_case(
    request: HttpRequest, response: HttpResponse, payload: SubmitIn
) -> Status[SubmittedOut] | Status[QueuedOut]:
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied(_("Raising a matter here needs a person's token."))
    is_staff = bool(active_memberships(user))
    if not is_staff and payload.channel not in RESIDENT_CHANNELS:
        raise PermissionDenied(_("Residents raise matters on the web or in the app."))
    if payload.region_id is not None:
        region = access_region(user, payload.region_id) if is_staff else None
        if region is None:
            raise InvalidCase(_("Residents give a point on the map, not a region."))
    elif payload.latitude is not None and payload.longitude is not None:
        region = region_at(payload.latitude, payload.longitude)
        if region is None:
            raise OutsideTheCity(_("That point is outside the city."))
    else:
        raise InvalidCase(_("Say where the matter is: a point on the map (latitude, longitude)."))
    new = services.NewCase(
        title=payload.title,
        description=payload.description,
        kind=payload.kind,
        channel=payload.channel,
        urgency=payload.urgency,
        region=region,
        latitude=payload.latitude,
        longitude=payload.longitude,
        address=payload.address,
        category=_category_or_404(payload.category_id),
        reporter_name=payload.name,
        reporter_phone=payload.phone,
        is_anonymous=payload.is_anonymous,
    )
    if _wants_queue(request):
        response["Preference-Applied"] = "respond-async"
        return Status(202, _queued_out(intake.accept_case(new, actor=user, source="api")))
    case = services.submit_case(new, actor=user)
    return Status(
        201,
        SubmittedOut(
            id=case.pk, number=case.number, tracking_code=case.tracking_code, state=case.state
        ),
    )


@router.get(
    "/cases/queued/{receipt}",
    response=QueuedOut,
    summary="A submission accepted with Prefer: respond-async, and the case it became",
)
def queued_submission(request: HttpRequest, receipt: str) -> QueuedOut:
    queued = intake.queued_with_receipt(receipt, source="api")
    user = request.user
    if queued is None or not (user.is_authenticated and queued.actor_id == user.pk):
        raise NotFound(_("No submission of yours has that receipt."))
    return _queued_out(queued)


@router.get("/cases", response=CasePage, summary="Cases I can see, filtered")
def list_cases(request: HttpRequest, filters: Query[CaseFilters]) -> CasePage:
    qs = (
        queries.queue(request.user, filters.queue)
        if filters.queue
        else policies.cases_visible_to(request.user).order_by("-submitted_at")
    )
    if filters.state:
        qs = qs.filter(state=filters.state)
    if filters.category_id:
        category = _category_or_404(filters.category_id)
        assert category is not None  # noqa: S101
        qs = qs.filter(Q(category=category) | Q(category__path__startswith=category.path + "/"))
    if filters.region_id:
        region = access_region(request.user, filters.region_id)
        qs = qs.filter(subtree_q("region_path", region.path))
    if filters.unit_id:
        qs = qs.filter(unit_id=filters.unit_id)
    if filters.q:
        qs = qs.filter(Q(number__contains=filters.q) | Q(title__contains=filters.q))
    qs = qs.select_related("region", "unit", "proposed_unit", "category", "dispatch_region")
    count = qs.count()
    rows = list(qs[filters.offset : filters.offset + filters.limit])
    return CasePage(
        count=count,
        limit=filters.limit,
        offset=filters.offset,
        items=[case_out(request, c) for c in rows],
    )


@router.get("/cases/track/{code}", response=CaseDetailOut, summary="My case by its tracking code")
def track_case(request: HttpRequest, code: str) -> CaseDetailOut:
    # NUL is in no code (and PostgreSQL refuses it in a query).
    case = policies.access_case_by_tracking_code(request.user, code.replace("\x00", "")[:16])
    return case_detail(request, policies.access_case(request.user, case.pk))


@router.get("/cases/{case_id}", response=CaseDetailOut, summary="One case with its timeline")
def get_case(request: HttpRequest, case_id: UUID) -> CaseDetailOut:
    return case_detail(request, policies.access_case(request.user, case_id))


@router.get(
    "/cases/{case_id}/duplicates",
    response=list[DuplicateOut],
    summary="Open cases that are probably the same matter (for those who may merge)",
)
def list_duplicates(request: HttpRequest, case_id: UUID) -> list[DuplicateOut]:
    case = policies.access_case(request.user, case_id, action=Action.MERGE)
    return [
        DuplicateOut(
            case_id=UUID(d.case_id),
            number=d.number,
            title=d.title,
            submitted_at=d.submitted_at,  # type: ignore[arg-type]
            score=d.score,
            text=d.text,
            place=d.place,
            time=d.time,
            shared_places=list(d.shared_places),
        )
        for d in pages.probable_duplicates(request.user, case)
    ]


def _done(request: HttpRequest, case: Case) -> CaseDetailOut:
    """The case as it is after the action. Not re-fetched through ``access_case``: after a
    return or an escalation the actor may no longer see it, yet must learn the outcome."""
    return case_detail(request, case)


@router.post("/cases/{case_id}/register", response=CaseDetailOut, summary="立案 Register")
def register_case(request: HttpRequest, case_id: UUID, payload: RegisterIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.register_case(
        case,
        actor=request.user,
        category=_category_or_404(payload.category_id),
        urgency=payload.urgency,
        complexity=payload.complexity,
        expected_version=payload.expected_version,
    )
    return _done(request, done)


@router.post("/cases/{case_id}/reject", response=CaseDetailOut, summary="不予受理 Reject")
def reject_case(request: HttpRequest, case_id: UUID, payload: ReasonIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.reject_case(
        case, actor=request.user, reason=payload.reason, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/dispatch", response=CaseDetailOut, summary="派单 Dispatch")
def dispatch_case(request: HttpRequest, case_id: UUID, payload: DispatchIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    unit = None
    if payload.unit_id is not None:
        unit = _unit_or_404(
            request,
            payload.unit_id,
            case=case,
            action=Action.DISPATCH,
            expected_version=payload.expected_version,
        )
    done = services.dispatch_case(
        case,
        actor=request.user,
        unit=unit,
        reason=payload.reason,
        expected_version=payload.expected_version,
    )
    return _done(request, done)


@router.post("/cases/{case_id}/sign-for", response=CaseDetailOut, summary="签收 Sign for")
def sign_for_case(request: HttpRequest, case_id: UUID, payload: Versioned) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.sign_for_case(
        case, actor=request.user, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/return", response=CaseDetailOut, summary="退单 Return")
def return_case(request: HttpRequest, case_id: UUID, payload: ReasonIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.return_case(
        case, actor=request.user, reason=payload.reason, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/reply", response=CaseDetailOut, summary="答复 Reply")
def reply_to_case(request: HttpRequest, case_id: UUID, payload: ReplyIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.reply_to_case(
        case, actor=request.user, reply=payload.reply, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/verify", response=CaseDetailOut, summary="核查 Verify")
def verify_case(request: HttpRequest, case_id: UUID, payload: VerifyIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.verify_case(
        case,
        actor=request.user,
        resolved=payload.resolved,
        note=payload.note,
        expected_version=payload.expected_version,
    )
    return _done(request, done)


@router.post("/cases/{case_id}/close", response=CaseDetailOut, summary="办结 Close")
def close_case(request: HttpRequest, case_id: UUID, payload: Versioned) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.close_case(case, actor=request.user, expected_version=payload.expected_version)
    return _done(request, done)


@router.post("/cases/{case_id}/follow-up", response=CaseDetailOut, summary="回访 Rate it")
def follow_up_case(request: HttpRequest, case_id: UUID, payload: FollowUpIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.follow_up_case(
        case,
        actor=request.user,
        resolution=payload.resolution,
        satisfaction=payload.satisfaction,
        comment=payload.comment,
        expected_version=payload.expected_version,
    )
    return _done(request, done)


@router.post("/cases/{case_id}/reopen", response=CaseDetailOut, summary="重办 Handle again")
def reopen_case(request: HttpRequest, case_id: UUID, payload: ReasonIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.reopen_case(
        case, actor=request.user, reason=payload.reason, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/extension-requests", response={201: RequestOut}, summary="申请延期")
def request_extension(
    request: HttpRequest, case_id: UUID, payload: ExtensionIn
) -> Status[RequestOut]:
    case = policies.access_case(request.user, case_id)
    made = services.request_extension(
        case,
        actor=request.user,
        days=payload.days,
        reason=payload.reason,
        expected_version=payload.expected_version,
    )
    return Status(201, _request_out(made))


@router.post("/cases/{case_id}/suspension-requests", response={201: RequestOut}, summary="申请挂账")
def request_suspension(
    request: HttpRequest, case_id: UUID, payload: ReasonIn
) -> Status[RequestOut]:
    case = policies.access_case(request.user, case_id)
    made = services.request_suspension(
        case, actor=request.user, reason=payload.reason, expected_version=payload.expected_version
    )
    return Status(201, _request_out(made))


def _request_out(made: CaseRequest) -> RequestOut:
    return RequestOut(
        id=made.pk,
        kind=made.kind,
        state=made.state,
        reason=made.reason,
        days=made.days,
        requested_at=made.requested_at,
        decided_at=made.decided_at,
    )


@router.post("/case-requests/{request_id}/decision", response=RequestOut, summary="审批 Decide")
def decide_request(request: HttpRequest, request_id: int, payload: DecisionIn) -> RequestOut:
    pending = CaseRequest.objects.filter(pk=request_id).select_related("case").first()
    if pending is None:
        raise NotFound(_("No such request."))
    policies.access_case(request.user, pending.case_id)  # 404 unless the case is visible
    decided = services.decide_request(
        pending, actor=request.user, approve=payload.approve, note=payload.note
    )
    return _request_out(decided)


@router.post("/cases/{case_id}/resume", response=CaseDetailOut, summary="恢复办理 Resume")
def resume_case(request: HttpRequest, case_id: UUID, payload: Versioned) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.resume_case(case, actor=request.user, expected_version=payload.expected_version)
    return _done(request, done)


@router.post("/cases/{case_id}/escalate", response=CaseDetailOut, summary="上报 Escalate")
def escalate_case(request: HttpRequest, case_id: UUID, payload: ReasonIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    done = services.escalate_case(
        case, actor=request.user, reason=payload.reason, expected_version=payload.expected_version
    )
    return _done(request, done)


@router.post("/cases/{case_id}/supervise", response=CaseDetailOut, summary="督办 Supervise")
def supervise_case(request: HttpRequest, case_id: UUID, payload: NoteIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    return _done(request, services.supervise_case(case, actor=request.user, note=payload.note))


@router.post("/cases/{case_id}/assisting-units", response=CaseDetailOut, summary="增加协办单位")
def add_assisting_unit(request: HttpRequest, case_id: UUID, payload: AssistIn) -> CaseDetailOut:
    case = policies.access_case(request.user, case_id)
    unit = _unit_or_404(request, payload.unit_id, case=case, action=Action.ADD_ASSISTING_UNIT)
    done = services.add_assisting_unit(case, actor=request.user, unit=unit, reason=payload.reason)
    return _done(request, done)


@router.post("/cases/{case_id}/merge", response=CaseDetailOut, summary="合并重复件 Merge")
def merge_case(request: HttpRequest, case_id: UUID, payload: MergeIn) -> CaseDetailOut:
    duplicate = policies.access_case(request.user, case_id)
    into = _original_or_404(request, duplicate, payload.into_id)
    done = services.merge_case(duplicate, into=into, actor=request.user, reason=payload.reason)
    return _done(request, done)


@router.post(
    "/cases/{case_id}/attachments", response={201: AttachmentOut}, summary="Attach a photo"
)
def attach_photo(
    request: HttpRequest, case_id: UUID, file: File[UploadedFile]
) -> Status[AttachmentOut]:
    case = policies.access_case(request.user, case_id)
    if file.size is not None and file.size > services.MAX_UPLOAD_BYTES:
        raise InvalidCase(_("A photo must be between 1 byte and 8 MB."))
    attachment = services.attach_file(case, actor=request.user, content=file.read())
    return Status(
        201,
        AttachmentOut(
            id=attachment.pk,
            content_type=attachment.content_type,
            size=attachment.size,
            sha256=attachment.sha256,
        ),
    )
