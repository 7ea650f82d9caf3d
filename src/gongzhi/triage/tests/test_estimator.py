"""The classifier itself, without the database: fitting, probabilities, saving and loading."""

from __future__ import annotations

import io

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer  # type: ignore[import-untyped]
from sklearn.linear_model import LogisticRegression  # type: ignore[import-untyped]
from sklearn.naive_bayes import ComplementNB  # type: ignore[import-untyped]

from gongzhi.triage.estimator import Block, Recipe, TextClassifier, key_of, prepare
from gongzhi.triage.recipes import DEFAULT, RECIPES
from gongzhi.triage.tests.synthetic import TOPICS, labelled
from gongzhi.triage.text import normalise, words

ROWS = labelled()
TEXTS = [t for t, _ in ROWS]
LABELS = [label for _, label in ROWS]
UNSEEN = [
    "B3县的公交车站台没有顶棚，线路太少",
    "幼儿园学费又涨了，老师也换了",
    "工厂夜里排放污水和粉尘",
]


def test_normalise_folds_width_case_digits_and_spaces():
    assert normalise(" ＡＢ１２３ c\n\td　中文 2024年 ") == "ab0 c d 中文 0年"


def test_words_are_jieba_words_without_punctuation():
    assert words(normalise("我想反映：公交车站台没有顶棚！")) == [
        "我",
        "想",
        "反映",
        "公交车",
        "站台",
        "没有",
        "顶棚",
    ]


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_every_recipe_learns_the_tiny_set(name):
    model = TextClassifier.fit(RECIPES[name], TEXTS, LABELS)
    assert model.classes == sorted(TOPICS)
    assert model.predict(UNSEEN) == ["交通运输", "教育文体", "环境保护"]
    proba = model.predict_proba(UNSEEN)
    assert proba.shape == (3, 3)
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_saved_model_predicts_exactly_the_same():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    blob = model.dumps()
    again = TextClassifier.loads(blob)
    assert again.classes == model.classes
    assert again.recipe == model.recipe
    assert again.scale == model.scale
    assert np.array_equal(again.predict_proba(UNSEEN), model.predict_proba(UNSEEN))
    assert again.dumps() == blob


@pytest.mark.parametrize("name", ["char12+opening-w0.7-svm-balanced-c1", DEFAULT])
def test_svm_and_ridge_scale_is_fitted_and_positive(name):
    model = TextClassifier.fit(RECIPES[name], TEXTS, LABELS)
    assert model.recipe.learner in ("svm", "ridge")
    assert model.scale > 0
    assert model.scale != 1.0


def test_logreg_probabilities_are_scikit_learns():
    recipe = Recipe("lr", (Block("char", 1, 2, min_df=1),), learner="logreg", c=5.0, balanced=False)
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    x = model.features(prepare(recipe, UNSEEN))
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    xs = vec.fit_transform([normalise(t) for t in TEXTS])
    lr = LogisticRegression(C=5.0, max_iter=3000).fit(xs, LABELS)
    expected = lr.predict_proba(vec.transform([normalise(t) for t in UNSEEN]))
    assert x.shape[1] == xs.shape[1]
    assert np.allclose(model.predict_proba(UNSEEN), expected, atol=1e-5)


def test_complement_nb_probabilities_are_scikit_learns():
    recipe = Recipe("nb", (Block("char", 1, 2, min_df=1),), learner="cnb", c=2.0, balanced=False)
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    vec = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, lowercase=False)
    xs = vec.fit_transform([normalise(t) for t in TEXTS])
    nb = ComplementNB(alpha=0.5).fit(xs, LABELS)
    expected = nb.predict_proba(vec.transform([normalise(t) for t in UNSEEN]))
    assert np.allclose(model.predict_proba(UNSEEN), expected, atol=1e-5)


def test_two_labels_give_two_probabilities():
    rows = [(t, label) for t, label in ROWS if label != "环境保护"]
    model = TextClassifier.fit(RECIPES[DEFAULT], [t for t, _ in rows], [lb for _, lb in rows])
    proba = model.predict_proba(UNSEEN[:2])
    assert model.classes == ["交通运输", "教育文体"]
    assert proba.argmax(axis=1).tolist() == [0, 1]
    assert np.allclose(proba.sum(axis=1), 1.0)


def test_one_label_is_refused():
    with pytest.raises(ValueError, match="two labels"):
        TextClassifier.fit(RECIPES[DEFAULT], TEXTS[:3], ["交通运输"] * 3)


def test_loading_refuses_pickled_arrays():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    with np.load(io.BytesIO(model.dumps())) as npz:
        arrays = dict(npz)
    arrays["coef"] = np.array([object()], dtype=object)  # would need pickle to read
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ValueError, match="pickle"):
        TextClassifier.loads(buf.getvalue())


def test_loading_refuses_mismatched_arrays():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    with np.load(io.BytesIO(model.dumps())) as npz:
        arrays = dict(npz)
    arrays["coef"] = arrays["coef"][:, :-1]
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    with pytest.raises(ValueError, match="do not match"):
        TextClassifier.loads(buf.getvalue())


@pytest.mark.parametrize(("ngram_min", "ngram_max"), [(1, 1), (1, 2), (2, 3), (1, 3)])
def test_character_features_are_scikit_learns_tfidf(ngram_min, ngram_max):
    recipe = Recipe("x", (Block("char", ngram_min, ngram_max, min_df=2),))
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    vec = TfidfVectorizer(
        analyzer="char", ngram_range=(ngram_min, ngram_max), sublinear_tf=True, min_df=2
    )
    vec.fit([normalise(t) for t in TEXTS])
    # Our columns are in key order; scikit-learn's in term order: map one onto the other.
    voc = model.vocabularies[0]
    order = [vec.vocabulary_[t] for t in sorted(vec.vocabulary_, key=key_of)]
    assert voc.size == len(vec.vocabulary_)
    assert voc.keys.tolist() == sorted(key_of(t) for t in vec.vocabulary_)
    ours = model.features(prepare(recipe, TEXTS + UNSEEN)).toarray()
    theirs = vec.transform([normalise(t) for t in TEXTS + UNSEEN]).toarray()[:, order]
    assert np.allclose(ours, theirs, atol=1e-6)


def test_word_features_are_scikit_learns_tfidf():
    recipe = Recipe("w", (Block("word", 1, 1, min_df=1),))
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    vec = TfidfVectorizer(analyzer=lambda t: words(normalise(t)), sublinear_tf=True)
    vec.fit(TEXTS)
    terms = model.vocabularies[0].terms or {}
    order = [vec.vocabulary_[t] for t in sorted(terms, key=terms.__getitem__)]
    ours = model.features(prepare(recipe, UNSEEN)).toarray()
    assert np.allclose(ours, vec.transform(UNSEEN).toarray()[:, order], atol=1e-6)


def test_one_message_at_a_time_scores_like_a_batch():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    batch = TEXTS + UNSEEN  # more than 32: the sparse-product path
    together = model.predict_proba(batch)
    apart = np.vstack([model.predict_proba([t]) for t in batch])
    assert np.allclose(together, apart, atol=1e-6)


def test_empty_and_unknown_texts_get_the_prior_of_the_intercepts():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    proba = model.predict_proba(["", "🙂🙂"])
    assert np.allclose(proba[0], proba[1])
    assert np.allclose(proba.sum(axis=1), 1.0)
