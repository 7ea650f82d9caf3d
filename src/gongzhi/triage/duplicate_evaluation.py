"""Measuring the duplicate finder on labelled pairs (``gongzhi triage duplicates``).

The pairs file is a CSV with a header ``file, id_a, id_b, label, reason``: ``file`` names a
CSV under the data folder (``hot_issues/messages_with_votes.csv``), the ids are its
``message_id`` values, ``label`` is 1 (the same matter) or 0. Only ids and labels are kept
in the repository; the texts are read from the data folder (``../shared/data``).

Figures: precision, recall and F1 at the shipped threshold (``duplicates.THRESHOLD``) on all
pairs; and a repeated, grouped, stratified cross-validation in which each training part
chooses the threshold that maximises F1 and the held-out part is scored with it (groups:
pairs that share a message, joined transitively, stay in one fold). The same is done for a
baseline, the plain 5-character shingle Jaccard of ``near_duplicates``.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import statistics
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from gongzhi.triage import duplicates
from gongzhi.triage.duplicates import Message
from gongzhi.triage.errors import BadDataFile
from gongzhi.triage.near_duplicates import jaccard, shingles

FOLDS = 5
REPEATS = 10
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d")


@dataclass(frozen=True)
class LabelledPair:
    file: str
    id_a: str
    id_b: str
    label: int


def parse_posted_at(value: str) -> datetime | None:
    """The shared data writes "2019/2/28 11:25:05" and "2017-06-08 17:31:20"."""
    value = value.strip().replace("/", "-")
    for fmt in _TIME_FORMATS:
        try:
            # The board's local time; only differences of times are used.
            return datetime.strptime(value, fmt)  # noqa: DTZ007
        except ValueError:
            continue
    return None


def read_pairs(path: str | Path) -> tuple[list[LabelledPair], str]:
    """The pairs and the SHA-256 of the file."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise BadDataFile(f"Cannot read {path}: {exc.strerror}") from exc
    rows = list(csv.DictReader(raw.decode("utf-8-sig").splitlines()))
    if not rows or not {"file", "id_a", "id_b", "label"} <= set(rows[0]):
        raise BadDataFile(f"{path.name} needs the columns file, id_a, id_b, label.")
    pairs = [
        LabelledPair(r["file"].strip(), r["id_a"].strip(), r["id_b"].strip(), int(r["label"]))
        for r in rows
    ]
    return pairs, hashlib.sha256(raw).hexdigest()


def read_messages(path: str | Path) -> dict[str, Message]:
    """Messages by id (ids that occur more than once are left out: a pair must be
    unambiguous)."""
    path = Path(path)
    try:
        with path.open(encoding="utf-8-sig", newline="") as f:
            rows = [r for r in csv.DictReader(f) if (r.get("message_id") or "").strip()]
    except OSError as exc:
        raise BadDataFile(f"Cannot read {path}: {exc.strerror}") from exc
    counts = Counter(r["message_id"].strip() for r in rows)
    return {
        r["message_id"].strip(): Message(
            title=(r.get("title") or "").strip(),
            text=(r.get("detail") or r.get("text") or "").strip(),
            posted_at=parse_posted_at(r.get("posted_at") or ""),
            key=r["message_id"].strip(),
        )
        for r in rows
        if counts[r["message_id"].strip()] == 1
    }


def _counts(labels: Sequence[int], predicted: Sequence[bool]) -> dict[str, float]:
    tp = sum(1 for y, p in zip(labels, predicted, strict=True) if y and p)
    fp = sum(1 for y, p in zip(labels, predicted, strict=True) if not y and p)
    fn = sum(1 for y, p in zip(labels, predicted, strict=True) if y and not p)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": precision, "recall": recall, "f1": f1}


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The threshold with the best F1 on these pairs: a midpoint between adjacent distinct
    scores (the lowest such on ties)."""
    values = sorted(set(scores))
    cuts = [values[0]] + [(x + y) / 2 for x, y in itertools.pairwise(values)]
    best, best_f1 = cuts[0], -1.0
    for cut in cuts:
        f1 = _counts(labels, [s >= cut for s in scores])["f1"]
        if f1 > best_f1 + 1e-12:
            best, best_f1 = cut, f1
    return best


def _groups(pairs: Sequence[LabelledPair]) -> list[int]:
    parent: dict[tuple[str, str], tuple[str, str]] = {}

    def find(x: tuple[str, str]) -> tuple[str, str]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for p in pairs:
        ra, rb = find((p.file, p.id_a)), find((p.file, p.id_b))
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    numbers: dict[tuple[str, str], int] = {}
    return [numbers.setdefault(find((p.file, p.id_a)), len(numbers)) for p in pairs]


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": statistics.fmean(values),
        "std": statistics.pstdev(values),
        "min": min(values),
        "max": max(values),
    }


def cross_validate(
    scores: Sequence[float],
    labels: Sequence[int],
    groups: Sequence[int],
    *,
    folds: int = FOLDS,
    repeats: int = REPEATS,
) -> dict[str, object]:
    from sklearn.model_selection import StratifiedGroupKFold  # type: ignore[import-untyped]

    s, y, g = np.asarray(scores), np.asarray(labels), np.asarray(groups)
    per_fold: dict[str, list[float]] = {"precision": [], "recall": [], "f1": [], "threshold": []}
    for seed in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed)
        for train, test in splitter.split(s, y, g):
            cut = best_threshold(s[train].tolist(), y[train].tolist())
            c = _counts(y[test].tolist(), (s[test] >= cut).tolist())
            for k in ("precision", "recall", "f1"):
                per_fold[k].append(c[k])
            per_fold["threshold"].append(cut)
    result: dict[str, object] = {k: _summary(v) for k, v in per_fold.items()}
    result["folds"] = folds
    result["repeats"] = repeats
    result["median_threshold"] = statistics.median(per_fold["threshold"])
    return result


def _at(scores: Sequence[float], labels: Sequence[int], threshold: float) -> dict[str, object]:
    c = _counts(labels, [s >= threshold for s in scores])
    return {"threshold": threshold, **c}


def evaluate_pairs(
    pairs_path: str | Path,
    data_dir: str | Path,
    *,
    folds: int = FOLDS,
    repeats: int = REPEATS,
    scorer: Callable[[Message, Message], float] | None = None,
) -> dict[str, Any]:
    pairs, sha = read_pairs(pairs_path)
    data_dir = Path(data_dir)
    messages = {f: read_messages(data_dir / f) for f in sorted({p.file for p in pairs})}
    missing = [p for p in pairs if p.id_a not in messages[p.file] or p.id_b not in messages[p.file]]
    if missing:
        raise BadDataFile(
            f"{len(missing)} pairs name messages that are not in {data_dir} "
            f"(first: {missing[0].file} {missing[0].id_a} {missing[0].id_b})."
        )
    a = [messages[p.file][p.id_a] for p in pairs]
    b = [messages[p.file][p.id_b] for p in pairs]
    labels = [p.label for p in pairs]
    groups = _groups(pairs)
    if len(set(groups)) < folds:
        raise BadDataFile(
            f"{len(set(groups))} groups of connected pairs: too few for {folds} folds."
        )
    score = scorer or (lambda x, y: duplicates.same_matter_score(x, y).score)
    finder = [score(x, y) for x, y in zip(a, b, strict=True)]
    baseline = [
        round(jaccard(shingles(f"{x.title}{x.text}"), shingles(f"{y.title}{y.text}")), 4)
        for x, y in zip(a, b, strict=True)
    ]
    return {
        "pairs": {
            "file": Path(pairs_path).name,
            "sha256": sha,
            "rows": len(pairs),
            "positive": sum(labels),
            "groups": len(set(groups)),
        },
        "finder": {
            "weights": {
                "base": duplicates.BASE,
                "place": duplicates.PLACE_WEIGHT,
                "time": duplicates.TIME_WEIGHT,
            },
            "half_life_days": duplicates.HALF_LIFE_DAYS,
            "shipped": _at(finder, labels, duplicates.THRESHOLD),
            "cv": cross_validate(finder, labels, groups, folds=folds, repeats=repeats),
        },
        "baseline_shingle_jaccard": {
            "at_near_duplicate_threshold": _at(baseline, labels, 0.5),
            "cv": cross_validate(baseline, labels, groups, folds=folds, repeats=repeats),
        },
    }
