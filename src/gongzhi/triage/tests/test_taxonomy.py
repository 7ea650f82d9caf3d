"""The category-tree block and the ridge learner of the default recipe, and reading artifacts
of the previous format."""

from __future__ import annotations

import io
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.linear_model import RidgeClassifier  # type: ignore[import-untyped]

from gongzhi.triage.estimator import (
    Block,
    BlockVocabulary,
    Recipe,
    TextClassifier,
    prepare,
)
from gongzhi.triage.recipes import DEFAULT, RECIPES
from gongzhi.triage.taxonomy import name_hits, names_from_rows, read_tree
from gongzhi.triage.tests.synthetic import labelled

ROWS = labelled()
TEXTS = [t for t, _ in ROWS]
LABELS = [label for _, label in ROWS]

TREE = [
    {"level1": "交通运输", "level2": "出租车管理", "level3": "网约车问题"},
    {"level1": "交通运输", "level2": "客货运输", "level3": "其他"},
    {"level1": "城乡建设", "level2": "城市建设和市政管理", "level3": "公共汽车"},
    {"level1": "城乡建设", "level2": "住房保障与房地产", "level3": "房产证登记、办理"},
    {"level1": "经济管理", "level2": "安全生产", "level3": "安全隐患"},
    {"level1": "城乡建设", "level2": "安全生产", "level3": "安全隐患"},
    {"level1": "", "level2": "孤儿", "level3": "无主"},
]


def test_names_are_level_two_and_three_names_and_their_parts():
    groups, names = names_from_rows(TREE)
    assert groups == ["交通运输", "城乡建设", "经济管理"]
    assert names == {
        "住房保障与房地产": [1],
        "公共汽车": [1],
        "出租车管理": [0],
        "办理": [1],
        "城市建设": [1],
        "城市建设和市政管理": [1],
        "安全生产": [1, 2],
        "安全隐患": [1, 2],
        "客货运输": [0],
        "市政管理": [1],
        "房产证登记": [1],
        "房产证登记、办理": [1],
        "网约车问题": [0],
    }


def test_the_shipped_tree_has_fifteen_first_levels_and_512_names():
    groups, names = read_tree()
    assert len(groups) == 15
    assert len(names) == 512
    assert [groups[i] for i in names["出租车管理"]] == ["交通运输"]
    assert [groups[i] for i in names["公共汽车"]] == ["城乡建设"]  # not 交通运输: the tree says so
    assert [groups[i] for i in names["景区管理"]] == ["商贸旅游"]
    assert "其他" not in names


def test_name_hits_count_a_name_once_per_text_and_never_across_texts():
    texts = ["公交公交车", "车站", "公交", ""]
    rows, cols = name_hits(texts, ["公交", "交车", "车站", "交车站"])
    assert rows.tolist() == [0, 0, 1, 2]
    assert cols.tolist() == [0, 1, 2, 0]  # "公交车" + "车站" across the NUL is not "交车站"
    rows, cols = name_hits(["没有"], ["公交"])
    assert rows.tolist() == cols.tolist() == []


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(st.text(alphabet="公交车站路灯", max_size=12), min_size=1, max_size=4),
    names=st.lists(st.text(alphabet="公交车站路灯", min_size=2, max_size=3), max_size=6),
)
def test_name_hits_finds_exactly_the_names_each_text_contains(texts, names):
    """The two-character prefilter skips no name that a text holds (brute force agrees)."""
    rows, cols = name_hits(texts, names)
    expected = sorted((r, j) for r, t in enumerate(texts) for j, n in enumerate(names) if n in t)
    assert list(zip(rows.tolist(), cols.tolist(), strict=True)) == expected


def test_taxonomy_block_values_are_log_counts_of_first_levels_scaled_to_unit_length():
    groups, names = names_from_rows(TREE)
    vocabulary = BlockVocabulary(idf=np.ones(len(groups)), groups=groups, names=names)
    block = Block("taxonomy", weight=0.5)
    texts = [
        "出租车管理混乱，网约车问题多，还有安全隐患",  # 交通运输 ×2, 城乡建设 ×1, 经济管理 ×1
        "公共汽车太挤",  # 城乡建设 ×1
        "与此无关",
    ]
    x = vocabulary.transform(block, texts).toarray()
    a = 1 + math.log(2)
    norm = math.sqrt(a * a + 1 + 1)
    assert x.shape == (3, 3)
    assert np.allclose(x[0], [0.5 * a / norm, 0.5 / norm, 0.5 / norm], atol=1e-7)
    assert np.allclose(x[1], [0, 0.5, 0], atol=1e-7)
    assert np.allclose(x[2], [0, 0, 0])


def test_ridge_learner_is_scikit_learns_ridge_classifier():
    recipe = Recipe("r", (Block("char", 1, 2, min_df=1),), learner="ridge", c=2.0)
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    x = model.features(prepare(recipe, TEXTS))
    ridge = RidgeClassifier(alpha=0.5, class_weight="balanced").fit(x, LABELS)
    assert np.allclose(model.coef, ridge.coef_, atol=1e-6)
    assert np.allclose(model.intercept, ridge.intercept_, atol=1e-9)
    assert model.scale > 1.0  # ridge scores are about ±1: the fitted temperature sharpens them


def test_default_recipe_is_chars_opening_and_taxonomy_with_ridge():
    recipe = RECIPES[DEFAULT]
    assert recipe.learner == "ridge"
    assert recipe.c == 1.0
    assert [(b.analyzer, b.first_chars, b.weight) for b in recipe.blocks] == [
        ("char", 0, 1.0),
        ("char", 40, 0.7),
        ("taxonomy", 0, 0.3),
    ]
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    assert model.vocabularies[2].size == 15
    assert model.coef.shape[1] == sum(v.size for v in model.vocabularies)


def _rewrite(blob: bytes, **changes: object) -> bytes:
    with np.load(io.BytesIO(blob)) as npz:
        arrays = dict(npz)
    meta = json.loads(arrays["meta"].tobytes().decode())
    meta.update(changes)
    arrays["meta"] = np.frombuffer(json.dumps(meta, ensure_ascii=False).encode(), dtype=np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    return buf.getvalue()


def test_artifacts_of_format_1_still_load_and_predict_the_same():
    # Format 1 had the same arrays for character and word blocks; only the tag differs.
    recipe = RECIPES["char12+opening-w0.7-svm-balanced-c1"]
    model = TextClassifier.fit(recipe, TEXTS, LABELS)
    old = TextClassifier.loads(_rewrite(model.dumps(), format="gongzhi-triage-linear/1"))
    assert old.recipe == recipe
    assert np.array_equal(old.predict_proba(TEXTS), model.predict_proba(TEXTS))


def test_an_unknown_format_is_refused_with_what_to_do():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    expected = r"unknown model format 'gongzhi-triage-linear/3'.*retrain"
    with pytest.raises(ValueError, match=expected):
        TextClassifier.loads(_rewrite(model.dumps(), format="gongzhi-triage-linear/3"))


def test_a_taxonomy_pointing_past_its_columns_is_refused():
    model = TextClassifier.fit(RECIPES[DEFAULT], TEXTS, LABELS)
    with np.load(io.BytesIO(model.dumps())) as npz:
        arrays = dict(npz)
    names = json.loads(arrays["names_2"].tobytes().decode())
    names["出租车管理"] = [15]
    arrays["names_2"] = np.frombuffer(json.dumps(names, ensure_ascii=False).encode(), np.uint8)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    with pytest.raises(ValueError, match="uneven taxonomy"):
        TextClassifier.loads(buf.getvalue())
