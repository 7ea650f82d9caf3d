"""Errors of the triage app, with stable codes."""

from __future__ import annotations

from gongzhi.core.errors import Conflict, DomainError, InvalidInput, NotFound


class BadDataFile(InvalidInput):
    code = "triage_bad_data_file"


class ModelNotFound(NotFound):
    code = "triage_model_not_found"


class NoActiveModel(Conflict):
    code = "triage_no_active_model"


class ArtifactTampered(DomainError):
    """The stored model does not hash to the digest recorded when it was trained."""

    code = "triage_artifact_tampered"
    status = 500
