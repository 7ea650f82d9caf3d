"""Classification metrics, computed the way scikit-learn does (labels: the sorted union of
true and predicted labels; a class never predicted has precision 0), without its warnings."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

DIGITS = 6


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def classification_report(truth: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    if len(truth) != len(predicted):
        raise ValueError("truth and predictions differ in length")
    labels = sorted(set(truth) | set(predicted))
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for t, p in zip(truth, predicted, strict=True):
        matrix[index[t]][index[p]] += 1
    per_class: dict[str, dict[str, float | int]] = {}
    for i, label in enumerate(labels):
        tp = matrix[i][i]
        support = sum(matrix[i])
        predicted_count = sum(row[i] for row in matrix)
        precision = tp / predicted_count if predicted_count else 0.0
        recall = tp / support if support else 0.0
        per_class[label] = {
            "precision": round(precision, DIGITS),
            "recall": round(recall, DIGITS),
            "f1": round(_f1(precision, recall), DIGITS),
            "support": support,
        }
    n = len(truth)
    correct = sum(matrix[i][i] for i in range(len(labels)))
    f1s = [
        _f1(
            matrix[i][i] / col if (col := sum(row[i] for row in matrix)) else 0.0,
            matrix[i][i] / tot if (tot := sum(matrix[i])) else 0.0,
        )
        for i in range(len(labels))
    ]
    return {
        "rows": n,
        "accuracy": round(correct / n, DIGITS) if n else 0.0,
        "macro_f1": round(sum(f1s) / len(f1s), DIGITS) if f1s else 0.0,
        "per_class": per_class,
        "confusion_matrix": {"labels": labels, "matrix": matrix},
    }
