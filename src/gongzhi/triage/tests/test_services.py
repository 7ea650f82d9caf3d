"""The registry: training registers versions, one is active, artifacts are verified;
predict() and propose() use the active one."""

from __future__ import annotations

import hashlib

import pytest

from gongzhi.cases.models import Category
from gongzhi.core.models import AuditEvent
from gongzhi.triage import classifier, services
from gongzhi.triage.dataset import parse_labelled
from gongzhi.triage.errors import ArtifactTampered, ModelNotFound, NoActiveModel
from gongzhi.triage.estimator import TextClassifier
from gongzhi.triage.models import ClassifierModel
from gongzhi.triage.recipes import DEFAULT, RECIPES
from gongzhi.triage.tests.synthetic import TOPICS, labelled, to_csv

pytestmark = pytest.mark.django_db

RAW = to_csv(labelled(per_label=12))
BUS = "东风路的公交车站台太挤，线路要加密，司机开得太快"


@pytest.fixture(autouse=True)
def _fresh_cache():
    classifier.clear_cache()
    yield
    classifier.clear_cache()


def train(**kwargs):
    data = parse_labelled(RAW, name="tiny.csv")
    return services.train_model(data, recipe=RECIPES[DEFAULT], cv_repeats=0, **kwargs)


def test_training_registers_an_inactive_version_with_its_provenance():
    record = train(name="first")
    assert record.version == 1
    assert record.name == "first"
    assert record.is_active is False
    assert record.trained_on_file == "tiny.csv"
    assert record.trained_on_sha256 == hashlib.sha256(RAW).hexdigest()
    assert record.trained_on_rows == 36
    assert record.labels == sorted(TOPICS)
    assert record.recipe == RECIPES[DEFAULT].to_json()
    assert record.metrics == {}
    assert record.artifact_sha256 == hashlib.sha256(bytes(record.artifact)).hexdigest()
    assert record.artifact_size == len(bytes(record.artifact))
    assert train().version == 2
    event = AuditEvent.objects.get(stream="classifier_model:1")
    assert event.action == "classifier_model.trained"
    assert event.data == {"file": "tiny.csv", "sha256": record.trained_on_sha256, "rows": 36}


def test_training_records_grouped_cross_validation():
    data = parse_labelled(RAW, name="tiny.csv")
    record = services.train_model(
        data, recipe=RECIPES[DEFAULT], cv_folds=3, cv_repeats=2, name="with cv"
    )
    m = record.metrics
    assert (m["folds"], m["repeats"], m["grouped"]) == (3, 2, True)
    assert set(m["macro_f1"]) == {"mean", "std", "min", "max"}
    assert len(m["macro_f1_repeat_means"]) == 2
    assert "runs" not in m
    assert m["data"] == {"file": "tiny.csv", "sha256": record.trained_on_sha256, "rows": 36}


def test_activating_switches_the_one_active_model():
    first, second = train(), train()
    services.activate_model(first.version)
    services.activate_model(second.version)
    assert list(
        ClassifierModel.objects.filter(is_active=True).values_list("version", flat=True)
    ) == [2]
    first.refresh_from_db()
    assert first.is_active is False
    events = AuditEvent.objects.filter(action="classifier_model.activated").order_by("occurred_at")
    assert [(e.stream, e.data) for e in events] == [
        ("classifier_model:1", {"previous": []}),
        ("classifier_model:2", {"previous": [1]}),
    ]


def test_activating_a_missing_version_changes_nothing():
    train()
    with pytest.raises(ModelNotFound):
        services.activate_model(9)
    assert not ClassifierModel.objects.filter(is_active=True).exists()


def test_a_tampered_artifact_is_refused_and_nothing_changes():
    good, bad = train(), train()
    services.activate_model(good.version)
    forged = TextClassifier.fit(
        RECIPES[DEFAULT], ["甲方乙方"] * 3 + ["丙方丁方"] * 3, ["a"] * 3 + ["b"] * 3
    )
    ClassifierModel.objects.filter(pk=bad.pk).update(artifact=forged.dumps())
    with pytest.raises(ArtifactTampered):
        services.activate_model(bad.version)
    assert list(
        ClassifierModel.objects.filter(is_active=True).values_list("version", flat=True)
    ) == [1]
    with pytest.raises(ArtifactTampered):
        classifier.predict([BUS], version=bad.version)


def test_activation_rehashes_a_cached_model():
    record = train()
    classifier.predict([BUS], version=record.version)  # now cached in this process
    ClassifierModel.objects.filter(pk=record.pk).update(artifact=bytes(record.artifact) + b"x")
    with pytest.raises(ArtifactTampered):
        services.activate_model(record.version)
    assert not ClassifierModel.objects.filter(is_active=True).exists()


def test_predict_refuses_the_active_model_once_its_artifact_is_changed():
    record = train()
    services.activate_model(record.version)
    ClassifierModel.objects.filter(pk=record.pk).update(artifact=bytes(record.artifact) + b"x")
    classifier.clear_cache()  # a fresh process
    with pytest.raises(ArtifactTampered):
        classifier.predict([BUS])


def test_predict_ranks_every_label_by_probability():
    services.activate_model(train().version)
    texts = [BUS, "幼儿园的老师和学费问题", "河道污染，还有油烟和噪音"]
    ranked = classifier.predict(texts)
    assert [r[0][0] for r in ranked] == ["交通运输", "教育文体", "环境保护"]
    for r in ranked:
        assert sorted(label for label, _p in r) == sorted(TOPICS)
        probs = [p for _label, p in r]
        assert probs == sorted(probs, reverse=True)
        assert sum(probs) == pytest.approx(1.0, abs=1e-9)
        assert all(0.0 <= p <= 1.0 for p in probs)
    assert classifier.predict([]) == []


def test_predict_without_an_active_model():
    train()
    with pytest.raises(NoActiveModel):
        classifier.predict([BUS])


def test_predict_follows_activation_without_a_restart(django_assert_num_queries):
    first, second = train(), train(name="second")
    services.activate_model(first.version)
    classifier.predict([BUS])
    with django_assert_num_queries(1):  # cached: only "which version is active?"
        classifier.predict([BUS])
    services.activate_model(second.version)
    assert classifier.model_for()[0] == 2


def test_propose_maps_the_label_to_a_category_path():
    assert set(
        Category.objects.filter(path__in=TOPICS, is_active=True).values_list("path", flat=True)
    ) == set(TOPICS)
    services.activate_model(train().version)
    proposal = services.propose(BUS)
    assert proposal.category_path == "交通运输"
    assert proposal.model_version == 1
    assert proposal.top3[0][0] == "交通运输"
    assert sorted(path for path, _p in proposal.top3) == sorted(TOPICS)
    confidences = [p for _path, p in proposal.top3]
    assert confidences == sorted(confidences, reverse=True)
    assert proposal.confidence == proposal.top3[0][1]
    assert proposal.confidence > 1 / 3


def test_propose_skips_labels_that_are_not_active_categories():
    services.activate_model(train().version)
    Category.objects.filter(path="交通运输").update(is_active=False)
    proposal = services.propose(BUS)
    assert proposal.category_path != "交通运输"
    assert "交通运输" not in dict(proposal.top3)
    assert len(proposal.top3) == 2


def test_propose_without_an_active_model_or_text():
    assert services.propose(BUS) is None
    services.activate_model(train().version)
    assert services.propose("   ") is None


@pytest.mark.parametrize("blob", [b"not a model", b"PK\x03\x04 broken zip", b""])
def test_bytes_that_are_not_a_model_are_refused_even_with_a_matching_hash(blob):
    record = train()
    ClassifierModel.objects.filter(pk=record.pk).update(
        artifact=blob, artifact_sha256=hashlib.sha256(blob).hexdigest()
    )
    with pytest.raises(ArtifactTampered):
        services.activate_model(record.version)
    assert not ClassifierModel.objects.filter(is_active=True).exists()


def test_intake_takes_the_active_models_proposal(settings):
    """The real classifier through the intake hook (TriageConfig.ready registers it)."""
    from gongzhi.accounts.models import User
    from gongzhi.cases.services import NewCase, submit_case
    from gongzhi.demo.testing import World

    world = World.load()
    services.activate_model(train().version)
    settings.GONGZHI_TRIAGE_THRESHOLD = 0.0
    case = submit_case(
        NewCase(title="公交站台太挤", description=BUS, region=world.grid_1),
        actor=User.objects.get(username="resident"),
    )
    expected = services.propose(f"公交站台太挤\n{BUS}")
    assert case.category.path == expected.category_path == "交通运输"
    assert case.proposal_model_version == 1
    assert case.proposal_confidence == expected.confidence
    assert case.proposal_top3 == [[path, p] for path, p in expected.top3]
