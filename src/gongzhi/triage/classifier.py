"""Predicting with the registered models.

``predict(texts)`` uses the active model. Each process keeps loaded models in a small cache
keyed by (version, artifact SHA-256): one indexed query per call finds which version is
active, so activating another version takes effect in every process on its next call,
without a restart. An artifact is loaded only after its bytes hash to the SHA-256 recorded
when it was trained, and the format itself holds arrays and JSON only (no pickle).
"""

from __future__ import annotations

import hashlib
import threading
import zipfile
from collections.abc import Sequence

from django.utils.translation import gettext as _

from gongzhi.triage.errors import ArtifactTampered, NoActiveModel
from gongzhi.triage.estimator import TextClassifier
from gongzhi.triage.models import ClassifierModel
from gongzhi.triage.queries import active_model_key, model_by_version

Ranking = list[tuple[str, float]]

_CACHE_SIZE = 2  # the active model and the one before it (evaluations, a switch-over)
_lock = threading.Lock()
_cache: dict[tuple[int, str], TextClassifier] = {}


def verify_artifact(blob: bytes, expected_sha256: str, *, version: int) -> None:
    if hashlib.sha256(blob).hexdigest() != expected_sha256:
        raise ArtifactTampered(
            _("The stored classifier v%(version)d does not match its recorded SHA-256.")
            % {"version": version},
            version=version,
        )


def load(record: ClassifierModel, *, recheck: bool = False) -> TextClassifier:
    """The model of ``record``, checked against its recorded hash (cached). With
    ``recheck`` the stored bytes are hashed again even when the model is cached."""
    key = (record.version, record.artifact_sha256)
    with _lock:
        cached = _cache.get(key)
    if cached is not None and not recheck:
        return cached
    blob = bytes(record.artifact)
    verify_artifact(blob, record.artifact_sha256, version=record.version)
    if cached is not None:
        return cached
    try:
        model = TextClassifier.loads(blob)
    except (ValueError, KeyError, TypeError, OSError, EOFError, zipfile.BadZipFile) as exc:
        # The hash matched, but the bytes are not a model this code wrote.
        raise ArtifactTampered(str(exc), version=record.version) from exc
    with _lock:
        while len(_cache) >= _CACHE_SIZE:
            _cache.pop(next(iter(_cache)))
        _cache[key] = model
    return model


def model_for(version: int | None = None) -> tuple[int, TextClassifier]:
    """(version, model): the given version, or the active one."""
    if version is None:
        key = active_model_key()
        if key is None:
            raise NoActiveModel(_("No classifier model is active."))
        with _lock:
            cached = _cache.get(key)
        if cached is not None:
            return key[0], cached
        version = key[0]
    return version, load(model_by_version(version))


def rank(model: TextClassifier, texts: Sequence[str]) -> list[Ranking]:
    proba = model.predict_proba(texts)
    out = []
    for row in proba:
        order = sorted(range(len(model.classes)), key=lambda i: (-row[i], model.classes[i]))
        out.append([(model.classes[i], float(row[i])) for i in order])
    return out


def predict(texts: Sequence[str], *, version: int | None = None) -> list[Ranking]:
    """For each text, every label with its probability, most probable first (probabilities
    sum to 1). Uses the active model unless ``version`` is given; raises ``NoActiveModel``
    when none is active and ``ArtifactTampered`` when the stored model fails its hash."""
    _version, model = model_for(version)
    return rank(model, texts) if texts else []


def clear_cache() -> None:
    with _lock:
        _cache.clear()
