from django.db import models
from django.utils.translation import gettext_lazy as _


class TriageAuditAction(models.TextChoices):
    MODEL_TRAINED = "classifier_model.trained", _("Classifier trained")
    MODEL_ACTIVATED = "classifier_model.activated", _("Classifier activated")
