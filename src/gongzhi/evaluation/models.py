"""Evaluation: monthly roll-ups of what happened to cases, score schemes, frozen rankings.

``Tally`` rows are the incremental roll-up (ADR 0005): one row per month x region (where the
matter is) x unit (who had it), holding counters, never rates; ``AreaTally`` the same summed
to streets, for figures at street level and above. Figures for any region
subtree, unit and run of months are sums of a few thousand rows, whatever the number of
cases. ``tallies.refresh_tallies`` recomputes only the months that changed.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gongzhi.core.fields import PathField
from gongzhi.core.models import ChainedEvent
from gongzhi.evaluation.choices import Grade, RankingList, RankingSubject
from gongzhi.evaluation.workflow import State, SystemState

# The counters of a tally, in the order the documentation lists them (docs/evaluation.md).
COUNTERS = (
    "submitted_count",
    "repeat_count",
    "assigned_count",
    "response_due_count",
    "responded_on_time_count",
    "signed_on_time_count",
    "returned_count",
    "closed_count",
    "closed_on_time_count",
    "reworked_count",
    "handling_hours",
    "rated_count",
    "resolved_count",
    "partly_resolved_count",
    "satisfied_count",
    "basically_satisfied_count",
)


class Counters(models.Model):
    """The counters of a roll-up row (docs/evaluation.md lists what each counts)."""

    month = models.DateField(_("month"))  # the first day of the month
    region_path = PathField(_("region path"))
    submitted_count = models.PositiveIntegerField(default=0)
    repeat_count = models.PositiveIntegerField(default=0)
    assigned_count = models.PositiveIntegerField(default=0)
    response_due_count = models.PositiveIntegerField(default=0)
    responded_on_time_count = models.PositiveIntegerField(default=0)
    signed_on_time_count = models.PositiveIntegerField(default=0)
    returned_count = models.PositiveIntegerField(default=0)
    closed_count = models.PositiveIntegerField(default=0)
    closed_on_time_count = models.PositiveIntegerField(default=0)
    reworked_count = models.PositiveIntegerField(default=0)
    handling_hours = models.FloatField(default=0.0)
    rated_count = models.PositiveIntegerField(default=0)
    resolved_count = models.PositiveIntegerField(default=0)
    partly_resolved_count = models.PositiveIntegerField(default=0)
    satisfied_count = models.PositiveIntegerField(default=0)
    basically_satisfied_count = models.PositiveIntegerField(default=0)

    class Meta:
        abstract = True


class Tally(Counters):
    """One month x the region where the matters are (as deep as the cases are: usually a
    grid) x the unit that had them."""

    unit = models.ForeignKey(
        "territory.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )

    class Meta:
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        indexes = [
            models.Index(fields=["month", "region_path"], name="evaluation_tally_month_path"),
            models.Index(fields=["unit", "month"], name="evaluation_tally_unit_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_path} {self.unit_id}"


class AreaTally(Counters):
    """The same counters summed to one month x street (cases located above a street keep
    their own path): a city's figures, trends and street rankings read a few dozen rows a
    month instead of tens of thousands. Written with the month's tallies, never apart."""

    class Meta:
        verbose_name = _("area tally")
        verbose_name_plural = _("area tallies")
        constraints = [
            models.UniqueConstraint(
                fields=["month", "region_path"], name="evaluation_areatally_month_path"
            )
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_path}"


class TalliedMonth(models.Model):
    """When each month's tallies were last computed (pending dispatches past their
    deadline count as unanswered from that moment)."""

    month = models.DateField(_("month"), primary_key=True)
    computed_at = models.DateTimeField(_("computed at"))

    class Meta:
        verbose_name = _("tallied month")
        verbose_name_plural = _("tallied months")

    def __str__(self) -> str:
        return f"{self.month:%Y-%m}"


class TallyWatermark(models.Model):
    """One row: changes to cases before ``seen_until`` are in the tallies. Locked while a
    refresh runs, so two refreshes never interleave."""

    seen_until = models.DateTimeField(_("changes seen until"), null=True, blank=True)

    class Meta:
        verbose_name = _("tally watermark")

    def __str__(self) -> str:
        return str(self.seen_until)


class ScoreScheme(models.Model):
    """How figures become a composite score and a grade, for a region's subtree (the
    nearest scheme above a region applies; with none, the defaults below)."""

    region = models.OneToOneField(
        "territory.Region", verbose_name=_("region"), on_delete=models.CASCADE, related_name="+"
    )
    response_weight = models.DecimalField(
        _("weight of the response rate"), max_digits=5, decimal_places=2, default=Decimal(10)
    )
    resolution_weight = models.DecimalField(
        _("weight of the resolution rate"), max_digits=5, decimal_places=2, default=Decimal(50)
    )
    satisfaction_weight = models.DecimalField(
        _("weight of the satisfaction rate"), max_digits=5, decimal_places=2, default=Decimal(40)
    )
    basically_satisfied_value = models.DecimalField(
        _("“basically satisfied” counts as"),
        max_digits=3,
        decimal_places=2,
        default=Decimal("0.90"),
    )
    partly_resolved_value = models.DecimalField(
        _("“partly resolved” counts as"), max_digits=3, decimal_places=2, default=Decimal("0.50")
    )
    grade_a = models.DecimalField(_("grade A from"), max_digits=5, decimal_places=2, default=90)
    grade_b = models.DecimalField(_("grade B from"), max_digits=5, decimal_places=2, default=75)
    grade_c = models.DecimalField(_("grade C from"), max_digits=5, decimal_places=2, default=60)
    grade_d = models.DecimalField(_("grade D from"), max_digits=5, decimal_places=2, default=40)
    list_size = models.PositiveSmallIntegerField(_("places on the red and black lists"), default=3)
    min_cases = models.PositiveIntegerField(
        _("fewest cases to be ranked"),
        default=1,
        help_text=_("Subjects with fewer cases in the month are listed but not ranked."),
    )
    updated_at = models.DateTimeField(_("updated at"))

    class Meta:
        verbose_name = _("score scheme")
        verbose_name_plural = _("score schemes")

    def __str__(self) -> str:
        return str(self.region_id)


class Ranking(models.Model):
    """A monthly ranking (红黑榜) of the streets or the units within a region, computed once
    and frozen when published: its entries are stored, not recomputed. A correction is a
    new version that supersedes the old one, which stays readable."""

    month = models.DateField(_("month"))
    subject = models.CharField(_("ranks"), max_length=10, choices=RankingSubject.choices)
    region = models.ForeignKey(
        "territory.Region", verbose_name=_("within"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = PathField(_("region path"))
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    is_current = models.BooleanField(_("current version"), default=True)
    correction_reason = models.TextField(_("why corrected"), blank=True, max_length=2000)
    # The scheme as it was when the ranking was made (weights, values, thresholds).
    scheme = models.JSONField(_("score scheme used"))
    computed_at = models.DateTimeField(_("figures as of"))
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("ranking")
        verbose_name_plural = _("rankings")
        ordering = ["-month", "region_path", "subject", "-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["month", "subject", "region", "version"],
                name="evaluation_ranking_version",
            ),
            models.UniqueConstraint(
                fields=["month", "subject", "region"],
                condition=models.Q(is_current=True),
                name="evaluation_ranking_one_current",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.subject} {self.region_id} v{self.version}"


class RankingEntry(models.Model):
    ranking = models.ForeignKey(Ranking, on_delete=models.CASCADE, related_name="entries")
    position = models.PositiveIntegerField(_("position"), null=True, blank=True)
    region = models.ForeignKey(
        "territory.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "territory.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    name = models.CharField(_("name"), max_length=200)
    score = models.DecimalField(_("score"), max_digits=6, decimal_places=2, null=True, blank=True)
    grade = models.CharField(_("grade"), max_length=1, choices=Grade.choices, blank=True)
    listed = models.CharField(
        _("list"), max_length=5, choices=RankingList.choices, blank=True, default=""
    )
    # Every indicator's value and the counters behind it, as they were.
    figures = models.JSONField(_("figures"))

    class Meta:
        verbose_name = _("ranking entry")
        verbose_name_plural = _("ranking entries")
        ordering = ["ranking", "position", "name"]

    def __str__(self) -> str:
        return f"{self.position} {self.name}"


# --- Indicator systems, assessments and rectification lists (docs/evaluation-systems.md) ---


class SystemKind(models.TextChoices):
    ANNUAL = "annual", _("Annual evaluation")  # 年度考评
    PILOT = "pilot", _("Pilot acceptance assessment")  # 试点验收评估


class SubjectKind(models.TextChoices):
    """Who an indicator system assesses."""

    REGION = "region", _("Regions")
    UNIT = "unit", _("Units")


class IndicatorSource(models.TextChoices):
    COMPUTED = "computed", _("Computed from platform data")
    ENTERED = "entered", _("Entered by assessors with evidence")
    GROUP = "group", _("Group of indicators")


# Contexts keep apart English words that cases use with another meaning: a closed system's
# results are final (已结束), a closed case was handled to the end (已办结).
SYSTEM_STATE_LABELS = {
    SystemState.DRAFT: _("Draft"),
    SystemState.ACTIVE: _("Being assessed"),
    SystemState.CLOSED: pgettext_lazy("indicator system state", "Closed"),
}
RECTIFICATION_STATE_LABELS = {
    State.OPEN: _("Being rectified"),
    State.OVERDUE: _("Overdue"),
    State.SUBMITTED: _("Awaiting acceptance"),
    State.ACCEPTED: _("Accepted"),
}


class IndicatorSystem(models.Model):
    """An indicator system (指标体系) for one evaluation of the subjects inside a region over
    a run of months: the annual evaluation (年度考评) or a pilot acceptance (试点验收评估)."""

    name = models.CharField(_("name"), max_length=200)
    kind = models.CharField(_("kind"), max_length=10, choices=SystemKind.choices)
    description = models.TextField(_("description"), blank=True, max_length=4000)
    region = models.ForeignKey(
        "territory.Region", verbose_name=_("within"), on_delete=models.PROTECT, related_name="+"
    )
    region_path = PathField(_("region path"))
    first_month = models.DateField(_("first month"))
    # Context: the command centre's "last month" is the month before this one (上月).
    last_month = models.DateField(pgettext_lazy("end of period", "last month"))
    subject_kind = models.CharField(
        _("assesses"), max_length=10, choices=SubjectKind.choices, default=SubjectKind.REGION
    )
    # Regions at this level inside ``region`` (e.g. its districts), or units of this kind
    # whose home region lies inside it (e.g. its government departments).
    subject_level = models.PositiveSmallIntegerField(_("level of the regions"), null=True)
    subject_unit_kind = models.CharField(_("kind of the units"), max_length=30, blank=True)
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=list(SYSTEM_STATE_LABELS.items()),
        default=SystemState.DRAFT,
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    activated_at = models.DateTimeField(_("assessment started at"), null=True, blank=True)
    computed_at = models.DateTimeField(_("platform figures as of"), null=True, blank=True)
    # Context: when the assessment ended (结束时间), not when a case was closed (办结时间).
    closed_at = models.DateTimeField(
        pgettext_lazy("indicator system", "closed at"), null=True, blank=True
    )

    class Meta:
        verbose_name = _("indicator system")
        verbose_name_plural = _("indicator systems")
        ordering = ["-first_month", "region_path", "name"]
        constraints = [
            models.UniqueConstraint(fields=["region", "name"], name="evaluation_system_name"),
        ]

    def __str__(self) -> str:
        return self.name


class Indicator(models.Model):
    """One indicator (考评指标) of a system: computed from a platform figure or entered by
    assessors, worth ``weight`` points under a scoring rule (``scoring.py``). A group
    (一级指标) holds indicators and scores the sum of theirs."""

    system = models.ForeignKey(IndicatorSystem, on_delete=models.CASCADE, related_name="indicators")
    parent = models.ForeignKey(
        "self",
        verbose_name=_("group"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="children",
    )
    code = models.CharField(_("code"), max_length=20)
    name = models.CharField(_("name"), max_length=200)
    criteria = models.TextField(_("scoring criteria"), blank=True, max_length=4000)
    # Context: its order among the system's indicators, not a place in a ranking (名次).
    position = models.PositiveSmallIntegerField(
        pgettext_lazy("order in list", "position"), default=0
    )
    weight = models.DecimalField(_("points"), max_digits=6, decimal_places=2)
    source = models.CharField(_("source"), max_length=10, choices=IndicatorSource.choices)
    # For computed indicators: a key of ``indicators.INDICATORS`` or "score".
    figure = models.CharField(_("platform figure"), max_length=40, blank=True)
    rule = models.JSONField(_("scoring rule"), default=dict, blank=True)
    higher_is_better = models.BooleanField(_("higher is better"), default=True)

    class Meta:
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        ordering = ["system", "position", "code"]
        constraints = [
            models.UniqueConstraint(fields=["system", "code"], name="evaluation_indicator_code"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"

    @property
    def is_group(self) -> bool:
        return self.source == IndicatorSource.GROUP


class Assessment(models.Model):
    """One subject (a region or a unit) assessed under a system, with its roll-up."""

    system = models.ForeignKey(
        IndicatorSystem, on_delete=models.CASCADE, related_name="assessments"
    )
    region = models.ForeignKey(
        "territory.Region", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    unit = models.ForeignKey(
        "territory.Unit", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # The subject region's path, or the unit's home region's: scopes who sees it.
    subject_path = PathField(_("subject path"))
    name = models.CharField(_("subject"), max_length=200)
    total = models.DecimalField(_("total points"), max_digits=8, decimal_places=2, default=0)
    position = models.PositiveIntegerField(_("position"), null=True, blank=True)
    scored_count = models.PositiveSmallIntegerField(_("indicators scored"), default=0)

    class Meta:
        verbose_name = _("assessment")
        verbose_name_plural = _("assessments")
        ordering = ["system", "position", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "region"],
                condition=models.Q(region__isnull=False),
                name="evaluation_assessment_region",
            ),
            models.UniqueConstraint(
                fields=["system", "unit"],
                condition=models.Q(unit__isnull=False),
                name="evaluation_assessment_unit",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.system_id} {self.name}"


def evidence_path(instance: EvidenceFile, filename: str) -> str:
    # Never the uploaded name: it may hold personal data or path tricks.
    return f"evaluation/evidence/{instance.pk.hex}{instance.extension}"


class EvidenceFile(models.Model):
    """A document or photo backing an entered score or a rectification report."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    file = models.FileField(_("file"), upload_to=evidence_path, max_length=200)
    extension = models.CharField(_("extension"), max_length=8)
    content_type = models.CharField(_("content type"), max_length=60)
    size = models.PositiveIntegerField(_("size in bytes"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    uploaded_at = models.DateTimeField(_("uploaded at"))

    class Meta:
        verbose_name = _("evidence file")
        verbose_name_plural = _("evidence files")

    def __str__(self) -> str:
        return f"{self.pk}{self.extension}"


class IndicatorScore(models.Model):
    """The value and points of one indicator for one subject: computed from the platform's
    figures, or entered by an assessor with evidence."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="scores")
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="scores")
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=4, null=True, blank=True)
    points = models.DecimalField(_("points"), max_digits=8, decimal_places=2)
    is_computed = models.BooleanField(_("computed"), default=False)
    evidence = models.TextField(_("evidence"), blank=True, max_length=4000)
    evidence_reference = models.CharField(_("evidence reference"), max_length=300, blank=True)
    evidence_file = models.ForeignKey(
        EvidenceFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(_("scored at"))

    class Meta:
        verbose_name = _("indicator score")
        verbose_name_plural = _("indicator scores")
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"], name="evaluation_score_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.indicator_id} {self.points}"


class RectificationItem(models.Model):
    """One shortcoming on the rectification list (整改清单): what to put right, which unit
    owns it and by when; tracked to acceptance (销号)."""

    system = models.ForeignKey(
        IndicatorSystem, on_delete=models.PROTECT, related_name="rectifications"
    )
    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="rectifications"
    )
    # None: the subject as a whole (among the bottom of the ranking).
    indicator = models.ForeignKey(
        Indicator, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    subject_path = PathField(_("subject path"))
    problem = models.TextField(_("problem found"), max_length=4000)
    owner_unit = models.ForeignKey(
        "territory.Unit", verbose_name=_("owner unit"), on_delete=models.PROTECT, related_name="+"
    )
    deadline = models.DateField(_("deadline"))
    state = models.CharField(
        _("state"),
        max_length=10,
        choices=list(RECTIFICATION_STATE_LABELS.items()),
        default=State.OPEN,
    )
    report = models.TextField(_("what was done"), blank=True, max_length=4000)
    evidence_reference = models.CharField(_("evidence reference"), max_length=300, blank=True)
    evidence_file = models.ForeignKey(
        EvidenceFile, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("created at"))
    # Context: the owner unit's report, not a case raised by a person (提出时间).
    submitted_at = models.DateTimeField(
        pgettext_lazy("rectification report", "submitted at"), null=True, blank=True
    )
    overdue_at = models.DateTimeField(_("overdue since"), null=True, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("rectification item")
        verbose_name_plural = _("rectification items")
        ordering = ["deadline", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "indicator"],
                condition=models.Q(indicator__isnull=False),
                name="evaluation_rectification_indicator",
            ),
            models.UniqueConstraint(
                fields=["assessment"],
                condition=models.Q(indicator__isnull=True),
                name="evaluation_rectification_subject",
            ),
        ]
        indexes = [
            models.Index(fields=["owner_unit", "state"], name="evaluation_rect_owner"),
            models.Index(fields=["state", "deadline"], name="evaluation_rect_due"),
        ]

    def __str__(self) -> str:
        return f"{self.pk} {self.state}"


class RectificationEvent(ChainedEvent):
    """One step of a rectification item's history (stream ``rectification:<pk>``)."""

    item = models.ForeignKey(RectificationItem, on_delete=models.PROTECT, related_name="events")
    from_state = models.CharField(_("from state"), max_length=10, blank=True)
    to_state = models.CharField(_("to state"), max_length=10, blank=True)

    hashed_fields = ("item_id", "from_state", "to_state")

    class Meta(ChainedEvent.Meta):
        verbose_name = _("rectification event")
        verbose_name_plural = _("rectification events")
        constraints = [
            models.UniqueConstraint(
                fields=["stream", "seq"], name="evaluation_rectevent_stream_seq"
            ),
        ]
