from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field


class Ref(Schema):
    id: int
    name: str


class RegionRef(Ref):
    code: str


class CategoryOut(Schema):
    id: int
    name: str
    path: str
    level: int
    parent_id: int | None


class PersonOut(Schema):
    name: str
    phone: str
    address: str
    is_anonymous: bool


class EventOut(Schema):
    seq: int
    action: str
    label: str
    occurred_at: datetime
    actor: str | None
    actor_role: str
    actor_unit_name: str
    from_state: str
    to_state: str
    reason: str
    data: dict[str, object]


class ProposalItem(Schema):
    category_path: str
    confidence: float


class ProposalOut(Schema):
    """The classifier's proposal at intake (the category is set from it only when its
    confidence reached the city's threshold)."""

    model_version: int | None
    category_path: str
    confidence: float | None
    top3: list[ProposalItem]


class DuplicateOut(Schema):
    """An open case that is probably the same matter; score = text x (0.5 + 0.25 place +
    0.25 time), each part 0..1 (docs/triage.md, "Duplicates")."""

    case_id: UUID
    number: str
    title: str
    submitted_at: datetime
    score: float
    text: float
    place: float
    time: float
    shared_places: list[str]


class CaseOut(Schema):
    id: UUID
    number: str
    title: str
    description: str
    kind: str
    channel: str
    urgency: str
    complexity: str
    category: CategoryOut | None
    region: RegionRef
    unit: Ref | None
    proposed_unit: Ref | None
    proposal: ProposalOut | None
    state: str
    state_label: str
    version: int
    stage: str
    due_at: datetime | None
    warning: str
    feedback_due_at: datetime | None
    is_supervised: bool
    submitted_at: datetime
    replied_at: datetime | None
    closed_at: datetime | None
    reply: str
    resolution: str
    satisfaction: str
    latitude: float | None
    longitude: float | None


class ReplyJudgementOut(Schema):
    """How well the answer explains itself (staff only): score 0..1, the cues it gives
    (rule, time, actor, result) and how many of the matter's demands it answers."""

    score: float
    is_explainable: bool
    cues: dict[str, bool]
    demands: int
    answered: int
    relevance: float


class CaseDetailOut(CaseOut):
    tracking_code: str | None
    person: PersonOut | None
    assisting_units: list[Ref]
    available_actions: list[str]
    timeline: list[EventOut]
    reply_judgement: ReplyJudgementOut | None = None


class CasePage(Schema):
    count: int
    limit: int
    offset: int
    items: list[CaseOut]


class SubmitIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    description: str = Field(min_length=1, max_length=5000)
    kind: str = Field(default="help", max_length=20)
    channel: str = Field(default="mobile", max_length=20)
    urgency: str = Field(default="normal", max_length=20)
    category_id: int | None = None
    region_id: int | None = None
    latitude: float | None = Field(default=None, ge=-90, le=90)
    longitude: float | None = Field(default=None, ge=-180, le=180)
    address: str = Field(default="", max_length=200)
    name: str = Field(default="", max_length=60)
    phone: str = Field(default="", max_length=30)
    is_anonymous: bool = False


class SubmittedOut(Schema):
    id: UUID
    number: str
    tracking_code: str
    state: str


class QueuedOut(Schema):
    """A submission accepted into the intake queue (``Prefer: respond-async``): follow it
    with GET /cases/queued/{receipt} until it is a case."""

    receipt: str
    tracking_code: str
    received_at: datetime
    state: str = Field(description="queued, registered (a case now) or refused")
    case_id: UUID | None = None
    number: str | None = None
    error: str = Field(default="", description="why it was refused")


class Versioned(Schema):
    expected_version: int | None = Field(default=None, ge=1)


class RegisterIn(Versioned):
    category_id: int | None = None
    urgency: str | None = Field(default=None, max_length=20)
    complexity: str | None = Field(default=None, max_length=20)


class ReasonIn(Versioned):
    reason: str = Field(default="", max_length=2000)


class DispatchIn(ReasonIn):
    unit_id: int | None = None


class ReplyIn(Versioned):
    reply: str = Field(min_length=1, max_length=5000)


class VerifyIn(Versioned):
    resolved: bool
    note: str = Field(default="", max_length=2000)


class FollowUpIn(Versioned):
    resolution: str = Field(max_length=20)
    satisfaction: str = Field(max_length=20)
    comment: str = Field(default="", max_length=2000)


class ExtensionIn(Versioned):
    days: int = Field(ge=1, le=30)
    reason: str = Field(min_length=1, max_length=2000)


class NoteIn(Schema):
    note: str = Field(default="", max_length=2000)


class DecisionIn(NoteIn):
    approve: bool


class AssistIn(Schema):
    unit_id: int
    reason: str = Field(default="", max_length=2000)


class MergeIn(Schema):
    into_id: UUID
    reason: str = Field(default="", max_length=2000)


class RequestOut(Schema):
    id: int
    kind: str
    state: str
    reason: str
    days: int
    requested_at: datetime
    decided_at: datetime | None


class AttachmentOut(Schema):
    id: UUID
    content_type: str
    size: int
    sha256: str
