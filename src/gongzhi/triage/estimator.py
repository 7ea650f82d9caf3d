"""The text classifier: TF-IDF blocks (characters or jieba words, of the whole text or its opening),
optionally a block of category-tree names (``triage.taxonomy``), and one linear model, saved
without pickle.

Every model here, whatever trained it (a linear SVM, ridge regression, logistic regression,
complement naive Bayes), predicts the same way::

    scores = X @ coef.T + intercept          # X: the TF-IDF features, one row per message
    probabilities = softmax(scale * scores)

so a trained model is a few arrays (each block's vocabulary and IDF weights, ``coef``,
``intercept``, ``scale``) and a recipe, saved as an ``.npz`` archive that ``np.load`` reads
with ``allow_pickle=False``: loading a model runs no code from the file, whoever wrote it
(see docs/triage.md, "Artifacts").

For logistic regression ``scale`` is 1 (its own probabilities). Complement naive Bayes
scores are log-likelihoods, also ``scale`` 1. A linear SVM gives margins, not probabilities:
``scale`` is fitted (temperature scaling) to minimise the log loss of margins predicted by a
3-fold cross-validation inside the training set. Ridge regression (one-vs-rest least squares
on +1/-1 targets, ``RidgeClassifier``) gives scores too, scaled the same way.

Artifact formats: ``gongzhi-triage-linear/2`` (written now) adds taxonomy blocks and the
ridge learner to ``/1``; ``/1`` artifacts (character and word blocks only) still load and
predict as before.
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]
from scipy.optimize import minimize_scalar  # type: ignore[import-untyped]
from scipy.special import log_softmax, softmax  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression, RidgeClassifier  # type: ignore[import-untyped]
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # type: ignore[import-untyped]
from sklearn.naive_bayes import ComplementNB  # type: ignore[import-untyped]
from sklearn.svm import LinearSVC  # type: ignore[import-untyped]

from gongzhi.triage.taxonomy import name_hits, read_tree
from gongzhi.triage.text import normalise, words

FORMAT = "gongzhi-triage-linear/2"
READABLE_FORMATS = ("gongzhi-triage-linear/1", FORMAT)
Analyzer = Literal["char", "word", "taxonomy"]
Learner = Literal["svm", "ridge", "logreg", "cnb"]


@dataclass(frozen=True)
class Block:
    """One group of features: TF-IDF of character n-grams or words, or (``taxonomy``) the
    first-level categories of the category-tree names a message contains (n-gram sizes and
    ``min_df`` do not apply to it)."""

    analyzer: Analyzer = "char"
    ngram_min: int = 1
    ngram_max: int = 2
    first_chars: int = 0  # read only the first N characters (the title, mostly); 0: all
    min_df: int = 2
    weight: float = 1.0  # multiplies the block's (L2-normalised) rows

    @property
    def key(self) -> tuple[Analyzer, int]:
        """Blocks with the same key read the same prepared input."""
        return (self.analyzer, self.first_chars)


@dataclass(frozen=True)
class Recipe:
    """How to train: the feature blocks, the learner and its settings."""

    name: str
    blocks: tuple[Block, ...] = (Block(),)
    learner: Learner = "svm"
    c: float = 1.0  # inverse regularisation (svm, logreg); alpha = 1/c for ridge and cnb
    balanced: bool = True  # weight classes inversely to their frequency (svm, ridge, logreg)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Recipe:
        blocks = tuple(Block(**b) for b in data.get("blocks", ()))
        return cls(**{**data, "blocks": blocks})


@dataclass
class Prepared:
    """Messages turned into each block's input once (normalising, cutting the opening,
    running jieba), so that cross-validation does it once and not once per fold."""

    inputs: dict[tuple[Analyzer, int], list[Any]] = field(default_factory=dict)

    def take(self, index: Sequence[int]) -> Prepared:
        return Prepared({k: [v[i] for i in index] for k, v in self.inputs.items()})


def prepare(recipe: Recipe, texts: Sequence[str]) -> Prepared:
    normalised = [normalise(t) for t in texts]
    prepared = Prepared()
    for b in recipe.blocks:
        if b.key not in prepared.inputs:
            src = [t[: b.first_chars] for t in normalised] if b.first_chars else normalised
            prepared.inputs[b.key] = [words(t) for t in src] if b.analyzer == "word" else src
    return prepared


# --- features -------------------------------------------------------------------------------
#
# TF-IDF as scikit-learn's TfidfVectorizer computes it (sublinear tf = 1 + ln(count), smooth
# idf = ln((1 + n) / (1 + df)) + 1, rows scaled to unit length), but computed with numpy over
# a whole batch at once: an n-gram of characters is a 64-bit key (21 bits per code point,
# plus one so that keys of different lengths differ), the vocabulary is a sorted array of
# keys, and lookups are one ``searchsorted``. That is what makes classification fast (see
# bench/bench_triage.py); scikit-learn's vectorizer spends most of a one-message call on
# input validation. Word blocks (jieba) keep a dict, since their tokens come from Python.

_BITS = np.uint64(21)


def _char_keys(
    texts: Sequence[str], ngram_min: int, ngram_max: int
) -> tuple[np.ndarray, np.ndarray]:
    """(row, key) of every character n-gram of every text."""
    if ngram_max > 3:
        raise ValueError("character n-grams are limited to 3 characters")
    joined = "\0".join(texts)  # a separator no n-gram may span
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + 1
    codes[codes == 1] = 0  # the separator (NUL + 1) becomes 0
    lengths = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=len(texts))
    row_of = np.repeat(np.arange(len(texts), dtype=np.int64), lengths)[: len(codes)]
    rows, keys = [], []
    for n in range(ngram_min, ngram_max + 1):
        if len(codes) < n:
            continue
        span = len(codes) - n + 1
        key = codes[:span].copy()
        ok = key != 0
        for k in range(1, n):
            nxt = codes[k : k + span]
            ok &= nxt != 0
            key = (key << _BITS) | nxt
        rows.append(row_of[:span][ok])
        keys.append(key[ok])
    if not rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.uint64)
    return np.concatenate(rows), np.concatenate(keys)


def key_of(term: str) -> int:
    """The key of a character n-gram (for tests and for reading a vocabulary)."""
    key = 0
    for ch in term:
        key = (key << 21) | (ord(ch) + 1)
    return key


@dataclass
class BlockVocabulary:
    """A block's fitted vocabulary: sorted n-gram keys (characters) or terms (words), and
    the IDF weight of each; for a taxonomy block, the tree's names and the first-level
    categories (the block's columns) each sits under, with weights of 1."""

    idf: np.ndarray  # float64, one per feature
    keys: np.ndarray | None = None  # uint64, sorted (character blocks)
    terms: dict[str, int] | None = None  # word -> column (word blocks)
    groups: list[str] | None = None  # first-level category names: the columns (taxonomy)
    names: dict[str, list[int]] | None = None  # tree name -> its columns (taxonomy)

    @property
    def size(self) -> int:
        return len(self.idf)

    def columns(self, block: Block, inputs: list[Any]) -> tuple[np.ndarray, np.ndarray]:
        """(row, column) of every known token of every input (repeats count)."""
        if self.names is not None:
            names = list(self.names)
            rows, hits = name_hits(inputs, names)
            if not len(rows):
                return rows, hits
            spans = [self.names[n] for n in names]
            counts = np.fromiter((len(spans[h]) for h in hits), dtype=np.int64, count=len(hits))
            cols = np.fromiter(
                (g for h in hits for g in spans[h]), dtype=np.int64, count=int(counts.sum())
            )
            return np.repeat(rows, counts), cols
        if self.keys is not None:
            rows, keys = _char_keys(inputs, block.ngram_min, block.ngram_max)
            if not len(self.keys):
                return rows[:0], rows[:0]
            pos = np.searchsorted(self.keys, keys)
            pos[pos == len(self.keys)] = 0
            known = self.keys[pos] == keys
            return rows[known], pos[known]
        lookup = (self.terms or {}).get
        pairs = [
            (r, c) for r, toks in enumerate(inputs) for t in toks if (c := lookup(t)) is not None
        ]
        if not pairs:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        arr = np.asarray(pairs, dtype=np.int64)
        return arr[:, 0], arr[:, 1]

    @classmethod
    def fit(cls, block: Block, inputs: list[Any], *, tree: str | None = None) -> BlockVocabulary:
        n = len(inputs)
        if block.analyzer == "taxonomy":
            groups, names = read_tree(tree) if tree else read_tree()
            return cls(idf=np.ones(len(groups)), groups=groups, names=names)
        if block.analyzer == "char":
            rows, keys = _char_keys(inputs, block.ngram_min, block.ngram_max)
            order = np.lexsort((rows, keys))
            keys, rows = keys[order], rows[order]
            first = np.ones(len(keys), dtype=bool)  # first time a key is seen in a row
            first[1:] = (keys[1:] != keys[:-1]) | (rows[1:] != rows[:-1])
            uniq, df = np.unique(keys[first], return_counts=True)
            keep = df >= block.min_df
            return cls(idf=_idf(df[keep], n), keys=uniq[keep])
        counts: dict[str, int] = {}
        for toks in inputs:
            for t in set(toks):
                counts[t] = counts.get(t, 0) + 1
        kept = sorted(t for t, c in counts.items() if c >= block.min_df)
        df_words = np.asarray([counts[t] for t in kept], dtype=np.int64)
        return cls(idf=_idf(df_words, n), terms={t: i for i, t in enumerate(kept)})

    def cells(self, block: Block, inputs: list[Any]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The TF-IDF matrix of ``inputs`` as (row, column, value), sorted by row (for a
        taxonomy block: 1 + ln(count) of each column, rows of unit length)."""
        rows, cols = self.columns(block, inputs)
        if not len(rows):
            return rows, cols, np.zeros(0)
        cells, counts = np.unique(rows * self.size + cols, return_counts=True)
        rows, cols = cells // self.size, cells % self.size
        values = (1.0 + np.log(counts)) * self.idf[cols]
        norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(inputs)))
        return rows, cols, values / norms[rows] * block.weight

    def transform(self, block: Block, inputs: list[Any]) -> Any:
        rows, cols, values = self.cells(block, inputs)
        return sparse.csr_matrix(
            (values.astype(np.float32), (rows, cols)),
            shape=(len(inputs), self.size),
            dtype=np.float32,
        )


def _idf(df: np.ndarray, n: int) -> np.ndarray:
    return np.log((1.0 + n) / (1.0 + df.astype(np.float64))) + 1.0


@dataclass
class TextClassifier:
    """A trained model: predicts label probabilities for raw message texts."""

    recipe: Recipe
    classes: list[str]
    vocabularies: list[BlockVocabulary]
    coef: np.ndarray  # (classes, features), float32
    intercept: np.ndarray  # (classes,)
    scale: float = 1.0

    def __post_init__(self) -> None:
        # (features, classes), rows contiguous: what a sparse-times-dense product reads.
        self._coef_t = np.ascontiguousarray(self.coef.T)

    # --- training -----------------------------------------------------------------------

    @classmethod
    def fit(cls, recipe: Recipe, texts: Sequence[str], labels: Sequence[str]) -> TextClassifier:
        return cls.fit_prepared(recipe, prepare(recipe, texts), labels)

    @classmethod
    def fit_prepared(
        cls, recipe: Recipe, prepared: Prepared, labels: Sequence[str], *, calibrate: bool = True
    ) -> TextClassifier:
        """Fit on prepared inputs. ``calibrate=False`` skips fitting an SVM's ``scale``
        (it changes probabilities, never the top label: cross-validation does without)."""
        y = np.asarray(labels)
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ValueError("training needs at least two labels")
        vocabularies = [BlockVocabulary.fit(b, prepared.inputs[b.key]) for b in recipe.blocks]
        x = _features(recipe, vocabularies, prepared)
        weight = "balanced" if recipe.balanced else None
        scale = 1.0
        if recipe.learner == "svm":
            svm = LinearSVC(C=recipe.c, class_weight=weight, random_state=0)
            svm.fit(x, y)
            coef, intercept = svm.coef_, svm.intercept_
            if calibrate:
                scale = _temperature(svm, x, y, classes)
        elif recipe.learner == "ridge":
            ridge = RidgeClassifier(alpha=1.0 / recipe.c, class_weight=weight)
            ridge.fit(x, y)
            coef = np.atleast_2d(ridge.coef_)  # binary: one row (1-D in scikit-learn)
            intercept = np.atleast_1d(ridge.intercept_)
            if calibrate:
                scale = _temperature(ridge, x, y, classes)
        elif recipe.learner == "logreg":
            lr = LogisticRegression(C=recipe.c, class_weight=weight, max_iter=3000)
            lr.fit(x, y)
            coef, intercept = lr.coef_, lr.intercept_
        else:
            nb = ComplementNB(alpha=1.0 / recipe.c)
            nb.fit(x, y)
            coef, intercept = nb.feature_log_prob_, np.zeros(len(classes))
        if coef.shape[0] == 1:  # binary svm/logreg keep one row: the second class's score
            coef = np.vstack([-coef[0], coef[0]]) / 2
            intercept = np.array([-intercept[0], intercept[0]]) / 2
        return cls(
            recipe=recipe,
            classes=classes,
            vocabularies=vocabularies,
            coef=np.asarray(coef, dtype=np.float32),
            intercept=np.asarray(intercept, dtype=np.float64),
            scale=float(scale),
        )

    # --- predicting ---------------------------------------------------------------------

    def features(self, prepared: Prepared) -> Any:
        return _features(self.recipe, self.vocabularies, prepared)

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        return self.predict_proba_prepared(prepare(self.recipe, texts))

    def predict_proba_prepared(self, prepared: Prepared) -> np.ndarray:
        n = len(next(iter(prepared.inputs.values())))
        if n > 32:  # a batch: one sparse matrix product
            scores = self.features(prepared) @ self._coef_t + self.intercept
            return softmax(self.scale * scores, axis=1)  # type: ignore[no-any-return]
        # A few messages: no sparse matrix (scipy's constructors would cost more than the
        # arithmetic), the weights of each message's cells added up directly.
        scores = np.tile(self.intercept, (n, 1))
        offset = 0
        for b, v in zip(self.recipe.blocks, self.vocabularies, strict=True):
            rows, cols, values = v.cells(b, prepared.inputs[b.key])
            np.add.at(scores, rows, self._coef_t[cols + offset] * values[:, None])
            offset += v.size
        return softmax(self.scale * scores, axis=1)  # type: ignore[no-any-return]

    def predict(self, texts: Sequence[str]) -> list[str]:
        proba = self.predict_proba(texts)
        return [self.classes[i] for i in proba.argmax(axis=1)]

    # --- saving (no pickle) -------------------------------------------------------------

    def dumps(self) -> bytes:
        arrays: dict[str, np.ndarray] = {}
        for i, v in enumerate(self.vocabularies):
            if v.names is not None:
                arrays[f"groups_{i}"] = _json_array(v.groups or [])
                arrays[f"names_{i}"] = _json_array(v.names)
            elif v.keys is not None:
                arrays[f"keys_{i}"] = v.keys
            else:
                terms = v.terms or {}
                arrays[f"terms_{i}"] = _json_array(sorted(terms, key=terms.__getitem__))
            arrays[f"idf_{i}"] = v.idf
        meta = {
            "format": FORMAT,
            "recipe": self.recipe.to_json(),
            "classes": self.classes,
            "scale": self.scale,
        }
        arrays["meta"] = _json_array(meta)
        arrays["coef"] = self.coef
        arrays["intercept"] = self.intercept
        buf = io.BytesIO()
        np.savez_compressed(buf, allow_pickle=False, **arrays)
        return buf.getvalue()

    @classmethod
    def loads(cls, blob: bytes) -> TextClassifier:
        """Read a model written by ``dumps``. Object arrays (pickles) are refused."""
        with np.load(io.BytesIO(blob), allow_pickle=False) as npz:
            meta = _from_json_array(npz["meta"])
            if meta.get("format") not in READABLE_FORMATS:
                raise ValueError(
                    f"unknown model format {meta.get('format')!r}: this version reads "
                    f"{', '.join(READABLE_FORMATS)}; retrain the model with it"
                )
            recipe = Recipe.from_json(meta["recipe"])
            if recipe.learner not in ("svm", "ridge", "logreg", "cnb"):
                raise ValueError(f"unsupported learner {recipe.learner!r}")
            for b in recipe.blocks:
                if b.analyzer not in ("char", "word", "taxonomy") or not (
                    1 <= b.ngram_min <= b.ngram_max <= 3
                ):
                    raise ValueError(f"unsupported feature block {b}")
            vocabularies = []
            for i, b in enumerate(recipe.blocks):
                idf = npz[f"idf_{i}"].astype(np.float64)
                if b.analyzer == "taxonomy":
                    groups = _from_json_array(npz[f"groups_{i}"])
                    names = _from_json_array(npz[f"names_{i}"])
                    if len(groups) != len(idf) or any(
                        not 0 <= g < len(groups) for cols in names.values() for g in cols
                    ):
                        raise ValueError("model arrays do not match: uneven taxonomy")
                    vocabularies.append(BlockVocabulary(idf=idf, groups=groups, names=names))
                elif b.analyzer == "char":
                    keys = npz[f"keys_{i}"].astype(np.uint64)
                    if len(keys) != len(idf) or np.any(keys[1:] <= keys[:-1]):
                        raise ValueError("model arrays do not match: unsorted or uneven keys")
                    vocabularies.append(BlockVocabulary(idf=idf, keys=keys))
                else:
                    terms = _from_json_array(npz[f"terms_{i}"])
                    if len(terms) != len(idf):
                        raise ValueError("model arrays do not match: uneven terms")
                    vocabularies.append(
                        BlockVocabulary(idf=idf, terms={t: j for j, t in enumerate(terms)})
                    )
            coef = npz["coef"]
            intercept = npz["intercept"]
        classes = list(meta["classes"])
        n_features = sum(v.size for v in vocabularies)
        if coef.shape != (len(classes), n_features) or intercept.shape != (len(classes),):
            raise ValueError("model arrays do not match its vocabulary and classes")
        return cls(recipe, classes, vocabularies, coef, intercept, float(meta["scale"]))


def _features(recipe: Recipe, vocabularies: list[BlockVocabulary], prepared: Prepared) -> Any:
    mats = [
        v.transform(b, prepared.inputs[b.key])
        for b, v in zip(recipe.blocks, vocabularies, strict=True)
    ]
    return mats[0] if len(mats) == 1 else sparse.hstack(mats, format="csr", dtype=np.float32)


def _json_array(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode(), dtype=np.uint8)


def _from_json_array(array: np.ndarray) -> Any:
    return json.loads(array.tobytes().decode())


def _temperature(model: Any, x: Any, y: np.ndarray, classes: list[str]) -> float:
    """The ``scale`` that turns SVM (or ridge) scores into the best-calibrated softmax
    probabilities,
    judged on margins from a 3-fold cross-validation inside the training set."""
    folds = min(3, int(np.bincount(np.unique(y, return_inverse=True)[1]).min()))
    if folds < 2:
        return 1.0
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=0)
    margins = cross_val_predict(model, x, y, cv=cv, method="decision_function")
    if margins.ndim == 1:  # binary: one margin for the second class
        margins = np.column_stack([-margins, margins]) / 2
    truth = np.searchsorted(classes, y)

    def loss(log_scale: float) -> float:
        logp = log_softmax(np.exp(log_scale) * margins, axis=1)
        return float(-logp[np.arange(len(truth)), truth].mean())

    best = minimize_scalar(loss, bounds=(-3.0, 4.0), method="bounded")
    return float(np.exp(best.x))
