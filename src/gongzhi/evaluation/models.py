"""Evaluation: monthly roll-ups of what happened to cases, score schemes, frozen rankings.

``Tally`` rows are the incremental roll-up (ADR 0005): one row per month x region (where the
matter is) x unit (who had it), holding counters, never rates. Figures for any region
subtree, unit and run of months are sums of a few thousand rows, whatever the number of
cases. ``tallies.refresh_tallies`` recomputes only the months that changed.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.fields import PathField
from gongzhi.evaluation.choices import Grade, RankingList, RankingSubject

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


class Tally(models.Model):
    month = models.DateField(_("month"))  # the first day of the month
    region_path = PathField(_("region path"))
    unit = models.ForeignKey(
        "territory.Unit", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
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
        verbose_name = _("tally")
        verbose_name_plural = _("tallies")
        indexes = [
            models.Index(fields=["month", "region_path"], name="evaluation_tally_month_path"),
            models.Index(fields=["unit", "month"], name="evaluation_tally_unit_month"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} {self.region_path} {self.unit_id}"


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
