from sklearn.metrics import confusion_matrix, f1_score, precision_recall_fscore_support  # type: ignore[import-untyped]

from gongzhi.triage.metrics import classification_report

TRUTH = ["甲", "甲", "甲", "乙", "乙", "丙", "丙", "丙"]
PRED = ["甲", "甲", "乙", "乙", "丙", "丙", "丙", "甲"]


def test_report_on_a_hand_checked_example():
    report = classification_report(TRUTH, PRED)
    assert report == {
        "rows": 8,
        "accuracy": 0.625,
        "macro_f1": 0.611111,
        "per_class": {
            # labels sorted by code point: 丙 (U+4E19) < 乙 (U+4E59) < 甲 (U+7532)
            "丙": {"precision": 0.666667, "recall": 0.666667, "f1": 0.666667, "support": 3},
            "乙": {"precision": 0.5, "recall": 0.5, "f1": 0.5, "support": 2},
            "甲": {"precision": 0.666667, "recall": 0.666667, "f1": 0.666667, "support": 3},
        },
        "confusion_matrix": {
            "labels": ["丙", "乙", "甲"],
            "matrix": [[2, 0, 1], [1, 1, 0], [0, 1, 2]],
        },
    }


def test_report_agrees_with_scikit_learn_including_unpredicted_and_unknown_labels():
    truth = ["a", "a", "b", "c", "c", "c"]
    pred = ["a", "x", "a", "c", "c", "a"]  # "b" never predicted, "x" never true
    report = classification_report(truth, pred)
    labels = ["a", "b", "c", "x"]
    p, r, f, s = precision_recall_fscore_support(truth, pred, labels=labels, zero_division=0)
    assert report["confusion_matrix"]["labels"] == labels
    assert (
        report["confusion_matrix"]["matrix"]
        == confusion_matrix(truth, pred, labels=labels).tolist()
    )
    for i, label in enumerate(labels):
        assert report["per_class"][label]["precision"] == round(p[i], 6)
        assert report["per_class"][label]["recall"] == round(r[i], 6)
        assert report["per_class"][label]["f1"] == round(f[i], 6)
        assert report["per_class"][label]["support"] == s[i]
    assert report["macro_f1"] == round(f1_score(truth, pred, average="macro", zero_division=0), 6)
