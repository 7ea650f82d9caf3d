"""The named training recipes: the configurations compared by repeated grouped
cross-validation (docs/triage.md has the table), and the default one."""

from __future__ import annotations

from gongzhi.triage.estimator import Block, Recipe

CHAR12 = Block("char", 1, 2)
CHAR13 = Block("char", 1, 3)
CHAR22 = Block("char", 2, 2)
WORD = Block("word", 1, 1)
OPENING = Block("char", 1, 2, first_chars=40)
OPENING80 = Block("char", 1, 2, first_chars=80)
OPENING_WORDS = Block("word", 1, 1, first_chars=40)
WORDS200 = Block("word", 1, 1, first_chars=200)
OPENING_W07 = Block("char", 1, 2, first_chars=40, weight=0.7)
TAXONOMY_W03 = Block("taxonomy", weight=0.3)
TAXONOMY_W06 = Block("taxonomy", weight=0.6)

RECIPES: dict[str, Recipe] = {
    r.name: r
    for r in (
        # baselines
        Recipe("word-cnb", (Block("word", 1, 1, min_df=1),), learner="cnb", c=3.0, balanced=False),
        Recipe(
            "char12-cnb", (Block("char", 1, 2, min_df=1),), learner="cnb", c=3.0, balanced=False
        ),
        # one kind of feature
        Recipe("word-svm", (WORD,), c=0.5, balanced=False),
        Recipe("char22-svm", (CHAR22,), c=0.5, balanced=False),
        Recipe("char13-svm", (CHAR13,), c=0.5, balanced=False),
        Recipe("char12-svm-c0.2", (CHAR12,), c=0.2, balanced=False),
        Recipe("char12-svm-c0.5", (CHAR12,), c=0.5, balanced=False),
        Recipe("char12-svm-c1", (CHAR12,), c=1.0, balanced=False),
        Recipe("char12-svm-balanced-c0.5", (CHAR12,), c=0.5),
        Recipe("char12-svm-balanced-c1", (CHAR12,), c=1.0),
        Recipe("char12-logreg-balanced-c20", (CHAR12,), learner="logreg", c=20.0),
        # unions
        Recipe("word+char12-svm-balanced-c1", (WORD, CHAR12), c=1.0),
        Recipe("char12+opening-svm-balanced-c0.5", (CHAR12, OPENING), c=0.5),
        Recipe("char12+opening-svm-balanced-c1", (CHAR12, OPENING), c=1.0),
        Recipe("char12+opening-svm-balanced-c2", (CHAR12, OPENING), c=2.0),
        Recipe("char13+opening-svm-balanced-c1", (CHAR13, OPENING), c=1.0),
        Recipe(
            "char12+opening-w0.5-svm-balanced-c1",
            (CHAR12, Block("char", 1, 2, first_chars=40, weight=0.5)),
            c=1.0,
        ),
        Recipe("char12+opening-w0.7-svm-balanced-c1", (CHAR12, OPENING_W07), c=1.0),
        Recipe(
            "char12+opening-w1.5-svm-balanced-c1",
            (CHAR12, Block("char", 1, 2, first_chars=40, weight=1.5)),
            c=1.0,
        ),
        Recipe(
            "char12+opening-mindf1-svm-balanced-c1",
            (Block("char", 1, 2, min_df=1), Block("char", 1, 2, first_chars=40, min_df=1)),
            c=1.0,
        ),
        Recipe(
            "char12+opening-mindf3-svm-balanced-c1",
            (Block("char", 1, 2, min_df=3), Block("char", 1, 2, first_chars=40, min_df=3)),
            c=1.0,
        ),
        Recipe("char12+opening80-svm-balanced-c1", (CHAR12, OPENING80), c=1.0),
        Recipe("word+char12+opening-svm-balanced-c1", (WORD, CHAR12, OPENING), c=1.0),
        Recipe(
            "char12+opening+opening-words-svm-balanced-c1",
            (CHAR12, OPENING, OPENING_WORDS),
            c=1.0,
        ),
        Recipe("words200+char12+opening-svm-balanced-c1", (WORDS200, CHAR12, OPENING), c=1.0),
        # 2026-11-28: ridge regression, and the category tree's names (triage/taxonomy.py)
        Recipe("char12+opening-w0.7-ridge-balanced-a1", (CHAR12, OPENING_W07), learner="ridge"),
        Recipe(
            "char12+opening-w0.7+taxonomy-w0.3-svm-balanced-c1",
            (CHAR12, OPENING_W07, TAXONOMY_W03),
        ),
        Recipe(
            "char12+opening-w0.7+taxonomy-w0.6-ridge-balanced-a1",
            (CHAR12, OPENING_W07, TAXONOMY_W06),
            learner="ridge",
        ),
        Recipe(
            "char12+opening-w0.7+taxonomy-w0.3-ridge-balanced-a1",
            (CHAR12, OPENING_W07, TAXONOMY_W03),
            learner="ridge",
        ),
    )
}

DEFAULT = "char12+opening-w0.7+taxonomy-w0.3-ridge-balanced-a1"
