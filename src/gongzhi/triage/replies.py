"""Reply quality: how well an official reply answers a resident's message. Pure: no Django
models; the case page calls ``score_reply``, ``gongzhi triage replies`` measures the score
against people's judgements (docs/triage.md, "Reply quality").

Three parts, each 0..1:

- relevance: the cosine of the two texts' TF-IDF vectors (jieba's words of two characters
  or more; IDF from the table jieba ships, ``jieba/analyse/idf.txt``, so one pair can be
  scored alone), averaged with the share of the message's ten weightiest words found in
  the reply;
- completeness: the share of the message's questions and demands (sentences with ？, 吗,
  是否, 何时, 能否, 怎么, 为什么, 请, 希望, 要求, 建议 ...) whose three weightiest words the
  reply mentions at least one of (the keyword share when the message asks nothing);
- explainability: the share of four cues found in the reply once its courtesies (已收悉,
  感谢您的支持 ...) are removed: a rule (《…》, 根据, 依据, 规定, 条例, 办法, 文件, 政策,
  第…条), a time (a date, 天内, 工作日, 月底, 年底, 预计, 目前 ...), who acts (局, 委, 街道,
  社区, 部门, 单位, 公司, 中心, 负责, 联系电话, a phone number) and a result (已, 将, 正在,
  完成, 整改, 处理, 解决, 安排, 落实 ...).

substance: ln(1 + n) / ln(1 + 300) (at most 1) for a reply of n characters once its
courtesies are removed.

score = (relevance + completeness + 2 × explainability + 2 × substance) / 6, weighted
towards explaining and substance because those are what the people's label judges (the
weights were chosen on the cross-validation's figures; without the substance part kappa
was 0.65 instead of 0.71). A reply is judged explainable when its
score is at least ``THRESHOLD``, chosen by grouped cross-validation on the labelled file
(each training fold picks the threshold with the best Cohen's kappa; ``THRESHOLD`` is the
median of the fifteen choices; ``cross_validate`` repeats the whole procedure).
"""

from __future__ import annotations

import itertools
import math
import os
import re
import statistics
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from gongzhi.triage.text import words

THRESHOLD = 0.3953  # the median of the 15 folds' choices (docs/triage.md, "Reply quality")
DIGITS = 6
SUBSTANTIAL = 300  # characters of substance that count fully

_LETTERS = re.compile(r"[^\W_]")
_SENTENCE = re.compile(r"[^。！？!?；;\n]+[。！？!?；;]?")
_DEMAND = re.compile(
    r"[？?]|吗|是否|何时|什么时候|能否|能不能|可否|可不可以|怎么|怎样|如何|为什么|为何|多少|"
    r"哪里|哪些|请|希望|要求|建议|恳请|呼吁|盼"
)
_COURTESY = re.compile(
    r"(?:您的)?(?:留言|来信|信件|问题|情况)?已收悉|收悉|感谢您?(?:对我们工作)?的?[^。！!]{0,12}"
    r"(?:支持|关心|监督|信任|理解)|您好|你好|网友|特此回复|现(?:将|就)[^。：:]{0,20}(?:答复|回复)如下"
)
CUES: dict[str, re.Pattern[str]] = {
    "rule": re.compile(
        r"《[^》]{2,60}》|根据|依据|按照|依照|规定|条例|办法|细则|文件|法律|法规|政策|标准|"
        r"第[一二三四五六七八九十百零\d]+条"
    ),
    "time": re.compile(
        r"\d{4}年|\d{1,2}月\d{0,2}日?|\d+\s*(?:个)?(?:工作日|天|日|周|个月|月)(?:内|之内)|"
        r"月底|年底|年内|近期|预计|截至|目前|上旬|中旬|下旬|下一步"
    ),
    "actor": re.compile(
        r"局|委员会|委|办公室|街道|社区|部门|单位|公司|中心|大队|派出所|政府|负责|联系电话|"
        r"电话|热线|\d{3,4}[-—]\d{4,8}"
    ),
    "result": re.compile(
        r"已经?|将|正在|完成|整改|处理|解决|安排|落实|督促|责令|开展|实施|启动|到位|答复"
    ),
}

_idf_lock = threading.Lock()
_idf: tuple[dict[str, float], float] | None = None


def _idf_table() -> tuple[dict[str, float], float]:
    """jieba's shipped IDF table and its median (for words it does not list)."""
    global _idf
    if _idf is None:
        with _idf_lock:
            if _idf is None:
                import jieba.analyse  # type: ignore[import-untyped]

                path = os.path.join(os.path.dirname(jieba.analyse.__file__), "idf.txt")
                table: dict[str, float] = {}
                with open(path, encoding="utf-8") as f:
                    for line in f:
                        word, _, value = line.strip().rpartition(" ")
                        if word:
                            table[word] = float(value)
                _idf = (table, statistics.median(table.values()))
    return _idf


def _clean(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _content_words(text: str) -> list[str]:
    return [w for w in words(_clean(text).lower()) if len(w) > 1 and not w.isdigit()]


def _weights(tokens: Sequence[str]) -> dict[str, float]:
    table, median = _idf_table()
    counts = Counter(tokens)
    return {w: (1 + math.log(n)) * table.get(w, median) for w, n in counts.items()}


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if not a or not b:
        return 0.0
    dot = sum(v * b[w] for w, v in a.items() if w in b)
    return dot / math.sqrt(sum(v * v for v in a.values()) * sum(v * v for v in b.values()))


def _top(weights: dict[str, float], k: int) -> list[str]:
    return [w for w, _ in sorted(weights.items(), key=lambda x: (-x[1], x[0]))[:k]]


@dataclass(frozen=True)
class ReplyScore:
    relevance: float
    completeness: float
    explainability: float
    score: float
    is_explainable: bool
    cues: dict[str, bool]  # rule, time, actor, result: found in the reply or not
    demands: int  # questions and demands found in the message
    answered: int  # of those, how many the reply addresses
    keyword_share: float  # share of the message's ten weightiest words in the reply
    length: int  # letters and digits of the reply without its courtesies
    substance: float  # ln(1 + length) / ln(1 + SUBSTANTIAL), at most 1

    def features(self) -> list[float]:
        """What the logistic regression of ``cross_validate`` learns from."""
        return [
            self.relevance,
            self.completeness,
            *(float(self.cues[c]) for c in CUES),
            self.substance,
        ]


def score_reply(message: str, reply: str, *, threshold: float | None = None) -> ReplyScore:
    """Score one reply to one message (about 1 ms for texts of a few hundred characters,
    after jieba's dictionary and the IDF table are loaded once per process)."""
    message, reply = _clean(message), _clean(reply)
    substance = _COURTESY.sub(" ", reply)
    message_weights = _weights(_content_words(message))
    reply_weights = _weights(_content_words(reply))
    keywords = _top(message_weights, 10)
    share = sum(1 for w in keywords if w in reply) / len(keywords) if keywords else 0.0
    relevance = (_cosine(message_weights, reply_weights) + share) / 2
    demands = [s for s in _SENTENCE.findall(message) if _DEMAND.search(s)]
    answered = 0
    for sentence in demands:
        key = _top(_weights(_content_words(sentence)), 3)
        if any(w in reply for w in key):
            answered += 1
    completeness = answered / len(demands) if demands else share
    cues = {name: bool(pattern.search(substance)) for name, pattern in CUES.items()}
    explainability = sum(cues.values()) / len(cues)
    length = len(_LETTERS.findall(substance))
    substance_part = min(1.0, math.log1p(length) / math.log1p(SUBSTANTIAL))
    score = (relevance + completeness + 2 * explainability + 2 * substance_part) / 6
    limit = THRESHOLD if threshold is None else threshold
    return ReplyScore(
        relevance=round(relevance, 4),
        completeness=round(completeness, 4),
        explainability=round(explainability, 4),
        score=round(score, 4),
        is_explainable=score >= limit,
        cues=cues,
        demands=len(demands),
        answered=answered,
        keyword_share=round(share, 4),
        length=length,
        substance=round(substance_part, 4),
    )


# Measuring the score against people's judgements.


@dataclass(frozen=True)
class LabelledReplies:
    ids: list[str]
    users: list[str]
    messages: list[str]
    replies: list[str]
    labels: list[int]


def read_replies(rows: Sequence[dict[str, str]]) -> LabelledReplies:
    """Rows with the columns of ../shared/data/replies/: message_id, user, title, detail,
    reply, explainable_label (1 or 0). Rows without a reply or a label are skipped."""
    data = LabelledReplies([], [], [], [], [])
    for row in rows:
        label = (row.get("explainable_label") or "").strip()
        reply = row.get("reply") or ""
        if label not in {"0", "1"} or not reply.strip():
            continue
        data.ids.append((row.get("message_id") or "").strip())
        data.users.append((row.get("user") or "").strip())
        data.messages.append(f"{row.get('title') or ''}\n{row.get('detail') or ''}")
        data.replies.append(reply)
        data.labels.append(int(label))
    return data


def agreement(truth: Sequence[int], predicted: Sequence[int]) -> dict[str, Any]:
    """Accuracy, precision, recall and F1 of "explainable" (1) and of "not explainable"
    (0), Cohen's kappa, and the confusion matrix (rows: the label 0, 1; columns: predicted)."""
    matrix = [[0, 0], [0, 0]]
    for t, p in zip(truth, predicted, strict=True):
        matrix[t][p] += 1
    n = len(truth)
    observed = (matrix[0][0] + matrix[1][1]) / n if n else 0.0
    expected = (
        sum(sum(matrix[c]) * (matrix[0][c] + matrix[1][c]) for c in (0, 1)) / (n * n) if n else 0.0
    )
    kappa = (observed - expected) / (1 - expected) if expected < 1 else 0.0

    def prf(c: int) -> dict[str, float]:
        tp = matrix[c][c]
        predicted_c = matrix[0][c] + matrix[1][c]
        actual_c = sum(matrix[c])
        p = tp / predicted_c if predicted_c else 0.0
        r = tp / actual_c if actual_c else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": round(p, DIGITS), "recall": round(r, DIGITS), "f1": round(f, DIGITS)}

    return {
        "rows": n,
        "accuracy": round(observed, DIGITS),
        "explainable": prf(1),
        "not_explainable": prf(0),
        "kappa": round(kappa, DIGITS),
        "confusion_matrix": matrix,
    }


def best_threshold(scores: Sequence[float], labels: Sequence[int]) -> float:
    """The threshold with the highest Cohen's kappa on these scores (ties: the lowest), among
    the midpoints between consecutive distinct scores."""
    values = sorted({round(s, 4) for s in scores})
    candidates = [values[0]] + [(a + b) / 2 for a, b in itertools.pairwise(values)]
    best, best_kappa = candidates[0], -2.0
    for t in candidates:
        kappa = agreement(labels, [int(s >= t) for s in scores])["kappa"]
        if kappa > best_kappa + 1e-12:
            best, best_kappa = t, kappa
    return round(best, 4)


def _summary(values: Sequence[float]) -> dict[str, float]:
    return {
        "mean": round(statistics.fmean(values), DIGITS),
        "std": round(statistics.pstdev(values), DIGITS) if len(values) > 1 else 0.0,
        "min": round(min(values), DIGITS),
        "max": round(max(values), DIGITS),
    }


def cross_validate(
    data: LabelledReplies, *, folds: int = 5, repeats: int = 3, seed: int = 0
) -> dict[str, Any]:
    """Grouped, stratified cross-validation of three judges of "explainable": the score with a
    threshold chosen on each training fold, a logistic regression (balanced class weights)
    on the score's parts, and for comparison the reply's length alone (its threshold chosen
    like the score's). Near-duplicate messages and one user's messages stay in
    one fold. Figures per fold are summarised as mean, std, min and max; the confusion
    matrix is the sum over the folds of the first repeat (every reply once)."""
    from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
    from sklearn.model_selection import StratifiedGroupKFold  # type: ignore[import-untyped]

    from gongzhi.triage.near_duplicates import groups

    started = time.perf_counter()
    scored = [score_reply(m, r) for m, r in zip(data.messages, data.replies, strict=True)]
    scoring_seconds = time.perf_counter() - started
    scores = np.array([s.score for s in scored])
    features = np.array([s.features() for s in scored])
    labels = np.array(data.labels)
    grouping = groups(data.messages, data.users)
    results: dict[str, dict[str, list[Any]]] = {
        "score": {"folds": [], "thresholds": [], "matrix": []},
        "logistic_regression": {"folds": [], "matrix": []},
        "length_baseline": {"folds": [], "matrix": []},
    }
    lengths = np.array([float(s.length) for s in scored])
    first_truth: list[int] = []
    first_score: list[int] = []
    first_lr: list[int] = []
    first_length: list[int] = []
    for repeat in range(repeats):
        splitter = StratifiedGroupKFold(n_splits=folds, shuffle=True, random_state=seed + repeat)
        for train, test in splitter.split(features, labels, grouping.groups):
            threshold = best_threshold(scores[train].tolist(), labels[train].tolist())
            predicted = (scores[test] >= threshold).astype(int).tolist()
            truth = labels[test].tolist()
            results["score"]["thresholds"].append(threshold)
            results["score"]["folds"].append(agreement(truth, predicted))
            model = LogisticRegression(class_weight="balanced", max_iter=1000)
            model.fit(features[train], labels[train])
            lr_predicted = model.predict(features[test]).astype(int).tolist()
            results["logistic_regression"]["folds"].append(agreement(truth, lr_predicted))
            cut = best_threshold(lengths[train].tolist(), labels[train].tolist())
            length_predicted = (lengths[test] >= cut).astype(int).tolist()
            results["length_baseline"]["folds"].append(agreement(truth, length_predicted))
            if repeat == 0:
                first_truth += truth
                first_score += predicted
                first_lr += lr_predicted
                first_length += length_predicted
    report: dict[str, Any] = {
        "rows": len(labels),
        "explainable": int(labels.sum()),
        "not_explainable": int(len(labels) - labels.sum()),
        "folds": folds,
        "repeats": repeats,
        "groups": grouping.group_count,
        "scoring_seconds": round(scoring_seconds, 2),
        "replies_per_second": round(len(labels) / scoring_seconds, 1) if scoring_seconds else 0.0,
    }
    judges = (
        ("score", first_score),
        ("logistic_regression", first_lr),
        ("length_baseline", first_length),
    )
    for name, truth_predicted in judges:
        fold_reports = results[name]["folds"]
        report[name] = {
            "accuracy": _summary([f["accuracy"] for f in fold_reports]),
            "kappa": _summary([f["kappa"] for f in fold_reports]),
            "explainable_f1": _summary([f["explainable"]["f1"] for f in fold_reports]),
            "explainable_precision": _summary(
                [f["explainable"]["precision"] for f in fold_reports]
            ),
            "explainable_recall": _summary([f["explainable"]["recall"] for f in fold_reports]),
            "not_explainable_f1": _summary([f["not_explainable"]["f1"] for f in fold_reports]),
            "not_explainable_precision": _summary(
                [f["not_explainable"]["precision"] for f in fold_reports]
            ),
            "not_explainable_recall": _summary(
                [f["not_explainable"]["recall"] for f in fold_reports]
            ),
            "confusion_matrix": agreement(first_truth, truth_predicted)["confusion_matrix"],
        }
    thresholds = results["score"]["thresholds"]
    report["score"]["thresholds"] = {
        **_summary(thresholds),
        "median": round(statistics.median(thresholds), 4),
    }
    report["seconds"] = round(time.perf_counter() - started, 2)
    return report


def report(path: str, *, folds: int = 5, repeats: int = 3) -> dict[str, Any]:
    """The ``triage replies`` report of a labelled file (see ``cross_validate``)."""
    import csv
    import hashlib
    import io

    with open(path, "rb") as f:
        raw = f.read()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    result = cross_validate(read_replies(rows), folds=folds, repeats=repeats)
    return {
        "data": {"file": path.rsplit("/", 1)[-1], "sha256": hashlib.sha256(raw).hexdigest()},
        **result,
    }
