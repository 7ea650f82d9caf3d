from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class NoticeKind(models.TextChoices):
    DISPATCHED = "dispatched", _("A case was dispatched to your unit")
    RETURNED = "returned", _("A unit returned a case")
    SUPERVISED = "supervised", _("A case of your unit is supervised")
    OVERDUE = "overdue", _("A case of your unit is overdue")
    REPLIED = "replied", _("Your case was answered")
    CLOSED = "closed", _("Your case was closed: please rate it")
