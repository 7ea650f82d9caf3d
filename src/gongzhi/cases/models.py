"""Cases, their categories, time limits and timelines.

A ``Case`` is one matter that someone raised (诉求/事件). Its ``state`` moves only through
``workflow.TRANSITIONS`` and only in ``services.py``; every move appends a ``CaseEvent`` to
the case's hash-chained timeline. The region path is copied onto the case so that scoping
is one indexed range on the case table itself (ADR 0001).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.cases.choices import (
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
from gongzhi.cases.workflow import OPEN_STATES, State
from gongzhi.core.fields import PathField
from gongzhi.core.models import ChainedEvent
from gongzhi.core.working_days import DurationUnit

# Sorted, so the partial indexes' conditions (and their migration) are stable.
OPEN_STATE_VALUES = sorted(s.value for s in OPEN_STATES)


class Category(models.Model):
    """A node of the matter taxonomy (大类 > 小类 > 细类)."""

    name = models.CharField(_("name"), max_length=60)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("parent category"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )
    level = models.PositiveSmallIntegerField(_("level"))
    # Names from the top down joined by "/", e.g. "城乡建设/城市建设和市政管理/自来水供应".
    path = models.CharField(_("path"), max_length=255, unique=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["path"]

    def __str__(self) -> str:
        return self.path.replace("/", " > ")

    @property
    def ancestor_paths(self) -> list[str]:
        parts = self.path.split("/")
        return ["/".join(parts[:i]) for i in range(1, len(parts))]


class TimeLimit(models.Model):
    """How long a stage may take. The most specific matching row wins: a category (the
    deeper the better) beats any category, then a matching urgency, then complexity."""

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.CASCADE
    )
    urgency = models.CharField(_("urgency"), max_length=20, choices=Urgency.choices, blank=True)
    complexity = models.CharField(
        _("complexity"), max_length=20, choices=Complexity.choices, blank=True
    )
    amount = models.PositiveIntegerField(_("amount"))
    unit = models.CharField(
        _("unit"), max_length=20, choices=[(u.value, u.value) for u in DurationUnit]
    )

    class Meta:
        verbose_name = _("time limit")
        verbose_name_plural = _("time limits")
        constraints = [
            models.UniqueConstraint(
                fields=["stage", "category", "urgency", "complexity"],
                name="cases_timelimit_unique_rule",
            ),
            models.UniqueConstraint(
                fields=["stage", "urgency", "complexity"],
                condition=models.Q(category__isnull=True),
                name="cases_timelimit_unique_default",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.stage} {self.amount} {self.unit}"


class Case(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    number = models.CharField(_("case number"), max_length=20, unique=True)
    # Given to the person who raised it; random, so cases cannot be enumerated.
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=CaseKind.choices)
    channel = models.CharField(_("channel"), max_length=20, choices=Channel.choices)
    urgency = models.CharField(
        _("urgency"), max_length=20, choices=Urgency.choices, default=Urgency.NORMAL
    )
    complexity = models.CharField(
        _("complexity"), max_length=20, choices=Complexity.choices, default=Complexity.ORDINARY
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), max_length=5000)
    category = models.ForeignKey(
        Category, verbose_name=_("category"), null=True, blank=True, on_delete=models.PROTECT
    )
    region = models.ForeignKey(
        "territory.Region", verbose_name=_("region"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = PathField(_("region path"), db_index=True)
    # Personal data: visible only to roles that need it (see policies.can_see_personal_data).
    address = models.CharField(_("address"), max_length=200, blank=True)
    latitude = models.FloatField(_("latitude"), null=True, blank=True)
    longitude = models.FloatField(_("longitude"), null=True, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("reported by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="reported_cases",
    )
    reporter_name = models.CharField(_("name of the person"), max_length=60, blank=True)
    reporter_phone = models.CharField(_("phone of the person"), max_length=30, blank=True)
    is_anonymous = models.BooleanField(_("anonymous"), default=False)

    state = models.CharField(
        _("state"), max_length=20, choices=[(s.value, s.value) for s in State], db_index=True
    )
    version = models.PositiveIntegerField(_("version"), default=1)
    # Where the case waits for dispatch: the case's street at first, one level up per escalation.
    dispatch_region = models.ForeignKey(
        "territory.Region",
        verbose_name=_("dispatched from"),
        on_delete=models.PROTECT,
        related_name="+",
    )
    unit = models.ForeignKey(
        "territory.Unit",
        verbose_name=_("lead unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="lead_cases",
    )
    assisting_units = models.ManyToManyField(
        "territory.Unit",
        verbose_name=_("assisting units"),
        blank=True,
        related_name="assisted_cases",
    )
    proposed_unit = models.ForeignKey(
        "territory.Unit",
        verbose_name=_("proposed unit"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The classifier's proposal at intake (cases.proposals): kept beside what people chose,
    # so that a dispatcher's choice can be compared with it and become training data.
    proposed_category = models.ForeignKey(
        Category,
        verbose_name=_("proposed category"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    proposal_confidence = models.FloatField(_("confidence of the proposal"), null=True, blank=True)
    proposal_model_version = models.PositiveIntegerField(
        _("classifier model version"), null=True, blank=True
    )
    # [[category path, probability], ...] best first, at most three.
    proposal_top3 = models.JSONField(_("top three proposals"), default=list, blank=True)
    merged_into = models.ForeignKey(
        "self",
        verbose_name=_("merged into"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_cases",
    )

    # The current stage's clock (denormalised for the deadline sweeper's indexed queries).
    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, blank=True)
    due_at = models.DateTimeField(_("due at"), null=True, blank=True)
    yellow_at = models.DateTimeField(_("yellow warning at"), null=True, blank=True)
    warning = models.CharField(
        _("warning"), max_length=10, choices=Warning.choices, default=Warning.NONE
    )
    feedback_due_at = models.DateTimeField(_("feedback due at"), null=True, blank=True)
    is_supervised = models.BooleanField(_("supervised"), default=False)
    escalation_count = models.PositiveSmallIntegerField(_("escalations"), default=0)
    return_count = models.PositiveSmallIntegerField(_("returns"), default=0)
    rework_count = models.PositiveSmallIntegerField(_("reworks"), default=0)
    extension_count = models.PositiveSmallIntegerField(_("extensions"), default=0)

    submitted_at = models.DateTimeField(_("submitted at"), db_index=True)
    registered_at = models.DateTimeField(_("registered at"), null=True, blank=True)
    dispatched_at = models.DateTimeField(_("dispatched at"), null=True, blank=True)
    signed_at = models.DateTimeField(_("signed for at"), null=True, blank=True)
    replied_at = models.DateTimeField(_("replied at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"))

    reply = models.TextField(_("reply"), blank=True, max_length=5000)
    resolution = models.CharField(
        _("resolution"), max_length=20, choices=Resolution.choices, blank=True
    )
    satisfaction = models.CharField(
        _("satisfaction"), max_length=20, choices=Satisfaction.choices, blank=True
    )
    rated_at = models.DateTimeField(_("rated at"), null=True, blank=True)
    # Evaluation facts, fixed when they happen (the stage's deadline is gone afterwards).
    is_replied_on_time = models.BooleanField(_("replied on time"), null=True, blank=True)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-submitted_at"]
        indexes = [
            models.Index(fields=["state", "due_at"], name="cases_case_state_due"),
            models.Index(fields=["warning", "yellow_at"], name="cases_case_warning_yellow"),
            models.Index(fields=["unit", "state"], name="cases_case_unit_state"),
            models.Index(fields=["region_path", "state"], name="cases_case_path_state"),
            # The evaluation roll-ups find a month's closed and rated cases, and what changed.
            models.Index(fields=["closed_at"], name="cases_case_closed_at"),
            models.Index(fields=["rated_at"], name="cases_case_rated_at"),
            models.Index(fields=["updated_at"], name="cases_case_updated_at"),
            # The command centre's live counters and lists read open cases only (about 1 %
            # of all): counted from this index alone, and listed by deadline from the next.
            models.Index(
                fields=["region_path", "warning", "is_supervised"],
                condition=models.Q(state__in=OPEN_STATE_VALUES),
                name="cases_case_open_path",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(state__in=OPEN_STATE_VALUES, warning="red"),
                name="cases_case_overdue_due",
            ),
            models.Index(
                fields=["due_at"],
                condition=models.Q(state__in=OPEN_STATE_VALUES, is_supervised=True),
                name="cases_case_supervised_due",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"


class Assignment(models.Model):
    """One dispatch of a case to a unit (派单) and how the unit answered it: signed for or
    returned, on time or not. The evidence for response, sign-for and return rates, which
    belong to the unit that received the dispatch (a case may be dispatched several times)."""

    class Outcome(models.TextChoices):
        PENDING = "pending", _("Waiting for the unit")
        SIGNED = "signed", _("Signed for")
        RETURNED = "returned", _("Returned")
        WITHDRAWN = "withdrawn", _("Withdrawn (escalated)")

    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="assignments")
    unit = models.ForeignKey("territory.Unit", on_delete=models.PROTECT, related_name="+")
    region_path = PathField(_("region path"))
    dispatched_at = models.DateTimeField(_("dispatched at"), db_index=True)
    sign_due_at = models.DateTimeField(_("sign for by"))
    outcome = models.CharField(
        _("outcome"), max_length=20, choices=Outcome.choices, default=Outcome.PENDING
    )
    responded_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    # Signed for or returned by the deadline; False also when the deadline passed unanswered
    # and the case was withdrawn; None while pending, or withdrawn before the deadline.
    is_on_time = models.BooleanField(_("answered on time"), null=True, blank=True)
    updated_at = models.DateTimeField(_("updated at"), db_index=True)

    class Meta:
        verbose_name = _("dispatch")
        verbose_name_plural = _("dispatches")
        ordering = ["dispatched_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["case"],
                condition=models.Q(outcome="pending"),
                name="cases_one_pending_assignment",
            )
        ]

    def __str__(self) -> str:
        return f"{self.case_id} > {self.unit_id} {self.outcome}"


class CaseNumberCounter(models.Model):
    """The last case number given out on a day (numbers are YYYYMMDD-NNNNN). Taken with a row
    lock, so concurrent submissions get consecutive numbers instead of colliding."""

    day = models.DateField(_("day"), primary_key=True)
    last = models.PositiveIntegerField(_("last number"), default=0)

    class Meta:
        verbose_name = _("case number counter")
        verbose_name_plural = _("case number counters")

    def __str__(self) -> str:
        return f"{self.day:%Y%m%d}-{self.last:05d}"


class QueuedCase(models.Model):
    """A submission accepted and kept, waiting to become a case (queued intake, ADR 0007).

    Accepting is one INSERT: the submission is checked first (a bad one is refused at once),
    then stored as it came. ``cases.intake.process_queue`` turns waiting rows into cases in
    batches (classification, routing, the clock, the number and the first timeline event)
    and links them here. The case's clock counts from ``received_at``, not from processing.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    received_at = models.DateTimeField(_("received at"))
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("submitted by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # The fields of ``services.NewCase`` as JSON (region and category by path); emptied once
    # the case exists (it holds them: no second copy of the person's name and phone).
    submission = models.JSONField(_("submission"))
    # Random and secret: the submitter follows the submission with it (Open311's token).
    receipt = models.CharField(_("receipt"), max_length=32, unique=True)
    # Given to the person at once; the case takes it over.
    tracking_code = models.CharField(_("tracking code"), max_length=16, unique=True)
    # Where it came from ("api", "open311") and what that adapter needs afterwards; the key
    # makes a client's retry with the same Idempotency-Key find the first submission.
    source = models.CharField(_("source"), max_length=20)
    source_key = models.CharField(_("source key"), max_length=200, blank=True)
    source_data = models.JSONField(_("source data"), default=dict)
    case = models.OneToOneField(
        Case,
        verbose_name=_("case"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="queued_as",
    )
    processed_at = models.DateTimeField(_("processed at"), null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        verbose_name = _("queued submission")
        verbose_name_plural = _("queued submissions")
        ordering = ["received_at"]
        indexes = [
            # The processor reads waiting rows oldest first; processed rows stay out of it.
            models.Index(
                fields=["received_at"],
                condition=models.Q(case__isnull=True),
                name="cases_queuedcase_waiting",
            )
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["source_key"],
                condition=~models.Q(source_key=""),
                name="cases_queuedcase_one_per_source_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.received_at:%Y-%m-%d %H:%M:%S}"


class CaseEvent(ChainedEvent):
    """One step of a case's timeline (stream ``case:<uuid>``)."""

    case = models.ForeignKey(
        Case, verbose_name=_("case"), on_delete=models.PROTECT, related_name="events"
    )
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    unit_name = models.CharField(_("unit"), max_length=200, blank=True)

    hashed_fields = ("case_id", "from_state", "to_state", "unit_name")

    class Meta(ChainedEvent.Meta):
        verbose_name = _("case event")
        verbose_name_plural = _("case events")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="cases_caseevent_stream_seq"),
        ]


class CaseRequest(models.Model):
    """A handling unit's request for more time (延期) or to suspend the case (挂账)."""

    class Kind(models.TextChoices):
        EXTENSION = "extension", _("Extension")
        SUSPENSION = "suspension", _("Suspension")

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="requests")
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    state = models.CharField(
        _("state"), max_length=20, choices=RequestState.choices, default=RequestState.PENDING
    )
    reason = models.TextField(_("reason"), max_length=2000)
    days = models.PositiveSmallIntegerField(_("working days requested"), default=0)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    requested_at = models.DateTimeField(_("requested at"))
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("decision note"), blank=True, max_length=2000)

    class Meta:
        verbose_name = _("case request")
        verbose_name_plural = _("case requests")
        constraints = [
            models.UniqueConstraint(
                fields=["case", "kind"],
                condition=models.Q(state="pending"),
                name="cases_one_pending_request_per_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.state}"


class EscalationRule(models.Model):
    """What happens by itself when a stage's deadline passes (red warning)."""

    class Response(models.TextChoices):
        ESCALATE = "escalate", _("Escalate one level up")
        SUPERVISE = "supervise", _("Supervise (flag and notify)")

    stage = models.CharField(_("stage"), max_length=20, choices=Stage.choices, unique=True)
    response = models.CharField(_("response"), max_length=20, choices=Response.choices)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("escalation rule")
        verbose_name_plural = _("escalation rules")

    def __str__(self) -> str:
        return f"{self.stage} > {self.response}"


def attachment_path(instance: CaseAttachment, filename: str) -> str:
    # Never the uploaded name: it may hold personal data or path tricks.
    return f"cases/{instance.case_id}/{uuid.uuid4().hex}{instance.extension}"


class CaseAttachment(models.Model):
    """A photo (or document) attached to a case by the person or by staff."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    case = models.ForeignKey(Case, on_delete=models.PROTECT, related_name="attachments")
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=200)
    extension = models.CharField(_("extension"), max_length=8)
    content_type = models.CharField(_("content type"), max_length=60)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))
    is_public = models.BooleanField(
        _("may be shown publicly"),
        default=False,
        help_text=_("Photos of the place may be shown on public pages; never of people."),
    )

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.sha256[:8]}"
