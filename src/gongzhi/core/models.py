"""Append-only, hash-chained event records.

``ChainedEvent`` is the base of every timeline: the audit log of back-office changes here,
and each case's timeline later. Events form one chain per ``stream`` (for example
``"region:42"``): each stores the hash of the previous event and its own hash over its
content, so any edit, deletion or reordering in the database breaks the chain and
``gongzhi verify-timelines`` reports it. Events are never updated or deleted through the ORM,
with one exception: sign-in and personal-token events, each its own stream, are deleted whole
once past their retention (``accounts.signins.prune_sign_ins``).
"""

from __future__ import annotations

from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from gongzhi.core.fields import PathField


class AppendOnlyQuerySet(models.QuerySet[Any]):
    def update(self, **kwargs: Any) -> int:
        raise TypeError("timeline events are append-only: they cannot be updated")

    def delete(self) -> tuple[int, dict[str, int]]:
        raise TypeError("timeline events are append-only: they cannot be deleted")


class ChainedEvent(models.Model):
    stream = models.CharField(_("stream"), max_length=80)
    seq = models.PositiveIntegerField(_("sequence number"))
    occurred_at = models.DateTimeField(_("occurred at"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("actor"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # Snapshot of the capacity the actor acted in, so history survives membership changes.
    actor_role = models.CharField(_("actor role"), max_length=40, blank=True)
    actor_unit_name = models.CharField(_("actor unit"), max_length=200, blank=True)
    action = models.CharField(_("action"), max_length=60)
    reason = models.TextField(_("reason"), blank=True)
    data = models.JSONField(_("data"), default=dict, blank=True)
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64)

    objects: ClassVar[Any] = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["stream", "seq"]

    def save(self, *args: Any, **kwargs: Any) -> None:
        if not self._state.adding:
            raise TypeError("timeline events are append-only: they cannot be updated")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        raise TypeError("timeline events are append-only: they cannot be deleted")


class AuditEvent(ChainedEvent):
    """A change to back-office data: regions, units, memberships, API keys."""

    subject_type = models.CharField(_("subject type"), max_length=40)
    subject_id = models.CharField(_("subject id"), max_length=64)
    subject_label = models.CharField(_("subject"), max_length=200, blank=True)
    # The region the subject belongs to, so audit views are scoped like everything else.
    region_path = PathField(_("region path"), blank=True, db_index=True)

    hashed_fields = ("subject_type", "subject_id", "subject_label", "region_path")

    class Meta(ChainedEvent.Meta):
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        constraints = [
            models.UniqueConstraint(fields=["stream", "seq"], name="core_auditevent_stream_seq"),
        ]
        indexes = [models.Index(fields=["-occurred_at"], name="core_audit_recent")]

    def __str__(self) -> str:
        return f"{self.stream}#{self.seq} {self.action}"


class CalendarDay(models.Model):
    """A city's correction to the Chinese working-day calendar (a holiday, a make-up day)."""

    date = models.DateField(_("date"), unique=True)
    is_workday = models.BooleanField(_("working day"))
    name = models.CharField(_("name"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar day")
        verbose_name_plural = _("calendar days")
        ordering = ["date"]

    def __str__(self) -> str:
        return f"{self.date} {self.name}"
