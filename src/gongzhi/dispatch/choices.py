from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Principle(models.TextChoices):
    """先属地后属主 / 先属主后属地: who answers first for a matter."""

    LOCALITY = "locality", _("Locality first (the government of the place)")
    OWNER = "owner", _("Owner first (the unit that owns the facility or the matter)")
