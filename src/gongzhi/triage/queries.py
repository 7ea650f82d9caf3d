"""Reads of the model registry. Lists never load the artifacts."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.triage.errors import ModelNotFound
from gongzhi.triage.models import ClassifierModel


def registered_models() -> QuerySet[ClassifierModel]:
    return ClassifierModel.objects.defer("artifact").order_by("-version")


def active_model_key() -> tuple[int, str] | None:
    """(version, artifact SHA-256) of the active model: one small indexed query."""
    row = (
        ClassifierModel.objects.filter(is_active=True)
        .values_list("version", "artifact_sha256")
        .first()
    )
    return (row[0], row[1]) if row else None


def model_by_version(version: int) -> ClassifierModel:
    try:
        return ClassifierModel.objects.get(version=version)
    except ClassifierModel.DoesNotExist:
        raise ModelNotFound(f"no classifier model version {version}", version=version) from None
