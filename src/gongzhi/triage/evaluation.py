"""Scoring a registered model on a labelled file: the figures ``gongzhi triage evaluate``
prints."""

from __future__ import annotations

import time
from typing import Any

from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

from gongzhi.triage.classifier import model_for, rank
from gongzhi.triage.dataset import LabelledSet
from gongzhi.triage.metrics import classification_report
from gongzhi.triage.queries import registered_models


def evaluate(data: LabelledSet, *, version: int | None = None) -> dict[str, Any]:
    """Accuracy, macro-F1, per-class precision/recall/F1, the confusion matrix (rows: true
    labels, columns: predicted) and the throughput of classifying the whole file at once in
    this process, with numerical libraries held to one thread."""
    version, model = model_for(version)
    record = registered_models().get(version=version)  # without the artifact again
    with threadpool_limits(limits=1):
        started = time.perf_counter()
        ranked = rank(model, data.texts)
        seconds = time.perf_counter() - started
    predicted = [r[0][0] for r in ranked]
    report = classification_report(data.labels, predicted)
    return {
        "model": {
            "version": record.version,
            "name": record.name,
            "artifact_sha256": record.artifact_sha256,
            "trained_on": {
                "file": record.trained_on_file,
                "sha256": record.trained_on_sha256,
                "rows": record.trained_on_rows,
            },
        },
        "data": data.source,
        **report,
        "throughput": {
            "messages": len(data),
            "seconds": round(seconds, 4),
            "messages_per_second": round(len(data) / seconds, 1) if seconds > 0 else None,
            "threads": 1,
        },
    }
