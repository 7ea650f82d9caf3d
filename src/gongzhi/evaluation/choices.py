"""Enumerations of evaluation (考评)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Grade(models.TextChoices):
    A = "A", "A"
    B = "B", "B"
    C = "C", "C"
    D = "D", "D"
    E = "E", "E"


class RankingSubject(models.TextChoices):
    """What a monthly ranking ranks."""

    STREET = "street", _("Streets and towns")
    UNIT = "unit", _("Handling units")


class RankingList(models.TextChoices):
    """红黑榜: the best and the worst of a published ranking."""

    NONE = "", _("Neither")
    RED = "red", _("Red list (best)")
    BLACK = "black", _("Black list (worst)")


class EvaluationAuditAction(models.TextChoices):
    SCHEME_SET = "score_scheme.set", _("Score scheme set")
    RANKING_PUBLISHED = "ranking.published", _("Ranking published")
