"""The model registry: every trained classifier, its provenance, its cross-validated
scores, and its artifact; at most one is active (used at intake)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class ClassifierModel(models.Model):
    """A trained text classifier. The artifact is a pickle-free ``.npz`` archive
    (``estimator.TextClassifier.dumps``) kept in the database, so every app process behind a
    load balancer loads the same bytes; its SHA-256 is checked before every load."""

    version = models.PositiveIntegerField(_("version"), unique=True)
    name = models.CharField(_("name"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    recipe = models.JSONField(_("recipe"), default=dict)
    labels = models.JSONField(_("labels"), default=list)
    trained_on_file = models.CharField(_("training file"), max_length=255)
    trained_on_sha256 = models.CharField(_("training file SHA-256"), max_length=64)
    trained_on_rows = models.PositiveIntegerField(_("training rows"))
    training_seconds = models.FloatField(_("training time (s)"), default=0.0)
    # The cross-validation summary measured when it was trained (crossval.cross_validate).
    metrics = models.JSONField(_("metrics"), default=dict, blank=True)
    artifact = models.BinaryField(_("artifact"))
    artifact_sha256 = models.CharField(_("artifact SHA-256"), max_length=64)
    artifact_size = models.PositiveIntegerField(_("artifact size (bytes)"))
    is_active = models.BooleanField(_("active"), default=False)
    activated_at = models.DateTimeField(_("activated at"), null=True, blank=True)

    class Meta:
        verbose_name = _("classifier model")
        verbose_name_plural = _("classifier models")
        ordering = ["-version"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"],
                condition=models.Q(is_active=True),
                name="triage_one_active_classifier",
            ),
        ]

    def __str__(self) -> str:
        return f"v{self.version} {self.name}".strip()


class HotIssueSnapshot(models.Model):
    """The hot issues of a region (the city, each district) as last computed: clustering a
    month of cases takes seconds, so the watcher computes them every few minutes and pages
    read the snapshot (``queries.hot_issues_for``)."""

    region_path = models.CharField(_("region path"), max_length=255, unique=True)
    computed_at = models.DateTimeField(_("computed at"))
    # [{label, keywords, heat, heat_parts, case_count, ..., cases: [{id, number, ...}]}]
    issues = models.JSONField(_("hot issues"), default=list)

    class Meta:
        verbose_name = _("hot issue snapshot")
        verbose_name_plural = _("hot issue snapshots")

    def __str__(self) -> str:
        return f"{self.region_path} {self.computed_at:%Y-%m-%d %H:%M}"
