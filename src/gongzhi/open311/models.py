"""What the Open311 adapter itself must remember: which client submitted which case.

A ``Submission`` links a case (created by ``cases.services.submit_case``) to the integration
key that sent it, with the client's ``Idempotency-Key`` and a hash of the request body (so a
retried POST returns the same case instead of creating a second one) and the token that
batch-mode clients look up. Nothing about the case itself is kept here.
"""

from __future__ import annotations

import uuid

from django.db import models
from django.utils.translation import gettext_lazy as _


class Submission(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    api_key = models.ForeignKey(
        "accounts.ApiKey",
        verbose_name=_("API key"),
        on_delete=models.PROTECT,
        related_name="open311_submissions",
    )
    case = models.ForeignKey(
        "cases.Case",
        verbose_name=_("case"),
        on_delete=models.PROTECT,
        related_name="open311_submissions",
    )
    # Random, public: GET tokens/{token} answers the case number (batch mode).
    token = models.CharField(_("token"), max_length=32, unique=True)
    # The client's Idempotency-Key header ("" when it sent none) and a SHA-256 of the body.
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, blank=True)
    body_hash = models.CharField(_("body hash"), max_length=64)
    # A photo to fetch after the commit (media_url); kept for provenance, never republished.
    media_url = models.URLField(_("media URL"), max_length=1000, blank=True)
    media_fetched_at = models.DateTimeField(_("media fetched at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"))

    class Meta:
        verbose_name = _("Open311 submission")
        verbose_name_plural = _("Open311 submissions")
        ordering = ["-submitted_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["api_key", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="open311_submission_one_per_idempotency_key",
            )
        ]

    def __str__(self) -> str:
        return f"{self.api_key_id} {self.token}"
