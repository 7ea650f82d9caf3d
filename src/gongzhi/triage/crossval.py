"""Repeated, grouped cross-validation: the honest estimate of how a recipe does on messages
it has not seen.

Residents re-post slightly edited messages, and one resident writes about one matter: if a
near-duplicate sat in the training folds while its twin was tested, the score would measure
memory, not generalisation. So messages are grouped (``near_duplicates.groups``: near-
duplicates and same-user messages) and ``StratifiedGroupKFold`` keeps every group inside one
fold, while keeping the label mix of the folds close to the whole. Each repeat reshuffles
the groups with another seed. The spread reported is the standard deviation of macro-F1 over
all folds of all repeats (and, smaller, over the repeats' means).
"""

from __future__ import annotations

import statistics
import time
from typing import Any

import numpy as np
from sklearn.model_selection import StratifiedGroupKFold, StratifiedKFold  # type: ignore[import-untyped]

from gongzhi.triage.dataset import LabelledSet
from gongzhi.triage.estimator import Recipe, TextClassifier, prepare
from gongzhi.triage.metrics import DIGITS, classification_report
from gongzhi.triage.near_duplicates import THRESHOLD, Grouping, groups


def _spread(values: list[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), DIGITS),
        "std": round(statistics.stdev(values), DIGITS) if len(values) > 1 else 0.0,
        "min": round(min(values), DIGITS),
        "max": round(max(values), DIGITS),
    }


def near_duplicate_summary(data: LabelledSet, grouping: Grouping) -> dict[str, Any]:
    return {
        "threshold": THRESHOLD,
        "pairs": len(grouping.pairs),
        "pairs_with_different_labels": sum(
            1 for p in grouping.pairs if data.labels[p.first] != data.labels[p.second]
        ),
        "messages_in_pairs": len({i for p in grouping.pairs for i in (p.first, p.second)}),
        "same_user_messages": grouping.same_user_messages,
        "groups": grouping.group_count,
        "largest_group": grouping.largest_group,
    }


def cross_validate(
    data: LabelledSet,
    recipe: Recipe,
    *,
    folds: int = 5,
    repeats: int = 3,
    seed: int = 0,
    grouped: bool = True,
) -> dict[str, Any]:
    """Fit ``recipe`` ``folds * repeats`` times and score each fit on its held-out fold."""
    started = time.perf_counter()
    grouping = groups(data.texts, data.users)
    group_of = np.asarray(grouping.groups)
    y = np.asarray(data.labels)
    prepared = prepare(recipe, data.texts)
    results: list[dict[str, Any]] = []
    per_class: dict[str, list[float]] = {}
    for repeat in range(repeats):
        if grouped:
            splitter = StratifiedGroupKFold(
                n_splits=folds, shuffle=True, random_state=seed + repeat
            )
        else:
            splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        split = splitter.split(data.texts, y, group_of if grouped else None)
        for fold, (train, test) in enumerate(split):
            held_out = set(test.tolist())
            leaked = sum(
                1 for p in grouping.pairs if (p.first in held_out) != (p.second in held_out)
            )
            model = TextClassifier.fit_prepared(
                recipe, prepared.take(train), y[train].tolist(), calibrate=False
            )
            proba = model.predict_proba_prepared(prepared.take(test))
            predicted = [model.classes[i] for i in proba.argmax(axis=1)]
            report = classification_report(y[test].tolist(), predicted)
            for label, scores in report["per_class"].items():
                per_class.setdefault(label, []).append(float(scores["f1"]))
            results.append(
                {
                    "repeat": repeat,
                    "fold": fold,
                    "train_rows": len(train),
                    "test_rows": len(test),
                    "near_duplicate_pairs_split": leaked,
                    "accuracy": report["accuracy"],
                    "macro_f1": report["macro_f1"],
                }
            )
    f1s = [r["macro_f1"] for r in results]
    repeat_means = [
        statistics.fmean(r["macro_f1"] for r in results if r["repeat"] == k) for k in range(repeats)
    ]
    return {
        "data": data.source,
        "recipe": recipe.to_json(),
        "folds": folds,
        "repeats": repeats,
        "seed": seed,
        "grouped": grouped,
        "near_duplicates": near_duplicate_summary(data, grouping),
        "macro_f1": _spread(f1s),
        "macro_f1_repeat_means": [round(m, DIGITS) for m in repeat_means],
        "accuracy": _spread([r["accuracy"] for r in results]),
        "per_class_f1": {label: _spread(v) for label, v in sorted(per_class.items())},
        "runs": results,
        "seconds": round(time.perf_counter() - started, 2),
    }
