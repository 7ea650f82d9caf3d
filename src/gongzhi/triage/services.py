"""Writes of the triage app (training, activating) and ``propose``, the call intake makes."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.cases.models import Category
from gongzhi.cases.proposals import CategoryProposal, DuplicateProposal, ReplyJudgement
from gongzhi.core import refdata
from gongzhi.core.audit import record_audit
from gongzhi.triage import classifier
from gongzhi.triage.choices import TriageAuditAction
from gongzhi.triage.crossval import cross_validate
from gongzhi.triage.dataset import LabelledSet
from gongzhi.triage.errors import BadDataFile, NoActiveModel
from gongzhi.triage.estimator import Recipe, TextClassifier
from gongzhi.triage.models import ClassifierModel
from gongzhi.triage.queries import model_by_version

SUBJECT = "classifier_model"


def _audit(record: ClassifierModel, action: str, actor: Any, data: dict[str, Any]) -> None:
    record_audit(
        subject_type=SUBJECT,
        subject_id=record.version,
        subject_label=str(record),
        region_path="",  # a city-wide setting
        action=action,
        actor=actor,
        data=data,
    )


def train_model(
    data: LabelledSet,
    *,
    recipe: Recipe,
    name: str = "",
    actor: Any = None,
    cv_folds: int = 5,
    cv_repeats: int = 1,
    seed: int = 0,
) -> ClassifierModel:
    """Train ``recipe`` on ``data``, measure it by repeated grouped cross-validation
    (``cv_repeats=0`` skips that), and register it as the next version, inactive."""
    if len(set(data.labels)) < 2:
        raise BadDataFile(_("Training needs messages of at least two labels."))
    metrics: dict[str, Any] = {}
    if cv_repeats > 0:
        metrics = cross_validate(data, recipe, folds=cv_folds, repeats=cv_repeats, seed=seed)
        metrics.pop("runs", None)
    started = time.perf_counter()
    model = TextClassifier.fit(recipe, data.texts, data.labels)
    seconds = time.perf_counter() - started
    blob = model.dumps()
    for _attempt in range(3):
        try:
            with transaction.atomic():
                latest = ClassifierModel.objects.aggregate(v=Max("version"))["v"] or 0
                record = ClassifierModel.objects.create(
                    version=latest + 1,
                    name=name or recipe.name,
                    recipe=recipe.to_json(),
                    labels=model.classes,
                    trained_on_file=data.name,
                    trained_on_sha256=data.sha256,
                    trained_on_rows=len(data),
                    training_seconds=round(seconds, 3),
                    metrics=metrics,
                    artifact=blob,
                    artifact_sha256=hashlib.sha256(blob).hexdigest(),
                    artifact_size=len(blob),
                )
                _audit(
                    record,
                    TriageAuditAction.MODEL_TRAINED,
                    actor,
                    {"file": data.name, "sha256": data.sha256, "rows": len(data)},
                )
            return record
        except IntegrityError:  # another trainer took this version number: take the next
            continue
    raise RuntimeError("could not register the model: too much contention")


def activate_model(version: int, *, actor: Any = None) -> ClassifierModel:
    """Make ``version`` the model intake uses. Refuses an artifact that fails its hash."""
    with transaction.atomic():
        record = model_by_version(version)
        record = ClassifierModel.objects.select_for_update().get(pk=record.pk)
        classifier.load(record, recheck=True)  # ArtifactTampered before anything changes
        previous = list(
            ClassifierModel.objects.select_for_update()
            .filter(is_active=True)
            .exclude(pk=record.pk)
            .values_list("version", flat=True)
        )
        ClassifierModel.objects.filter(version__in=previous).update(is_active=False)
        if not record.is_active:
            record.is_active = True
            record.activated_at = timezone.now()
            record.save(update_fields=["is_active", "activated_at"])
        _audit(record, TriageAuditAction.MODEL_ACTIVATED, actor, {"previous": previous})
    return record


@dataclass(frozen=True)
class Proposal:
    """The classifier's suggestion for a new message: a category path of the shipped tree
    (e.g. "城乡建设"), its probability, and the three most probable paths."""

    category_path: str
    confidence: float
    top3: list[tuple[str, float]]
    model_version: int


def propose(text: str) -> Proposal | None:
    """Propose a category for ``text`` with the active model; None when no model is active,
    the text is blank, or none of its labels is an active category of the tree."""
    if not text.strip():
        return None
    active = refdata.cached("triage.active_model", _active_model)
    if active is None:
        return None
    version, model = active
    ranking = classifier.rank(model, [text])[0]
    known = refdata.cached("triage.active_category_paths", _active_category_paths)
    ranked = [(label, round(p, 4)) for label, p in ranking if label in known]
    if not ranked:
        return None
    return Proposal(
        category_path=ranked[0][0],
        confidence=ranked[0][1],
        top3=ranked[:3],
        model_version=version,
    )


def _active_model() -> tuple[int, TextClassifier] | None:
    """The active model, kept per process as reference data (``core.refdata``): activating
    another version, or any change to the registry, is seen by the next proposal."""
    try:
        return classifier.model_for()
    except NoActiveModel:
        return None


def _active_category_paths() -> frozenset[str]:
    return frozenset(Category.objects.filter(is_active=True).values_list("path", flat=True))


def propose_for_intake(text: str) -> CategoryProposal | None:
    """``propose`` in the shape intake takes (registered in ``TriageConfig.ready``)."""
    found = propose(text)
    if found is None:
        return None
    return CategoryProposal(
        category_path=found.category_path,
        confidence=found.confidence,
        top3=tuple(found.top3),
        model_version=found.model_version,
    )


def duplicates_for_case(case: Any) -> list[DuplicateProposal]:
    """``queries.duplicate_candidates`` in the shape cases takes (registered in
    ``TriageConfig.ready``)."""
    from gongzhi.triage.queries import duplicate_candidates

    return [
        DuplicateProposal(
            case_id=found.case_id,
            number=found.number,
            title=found.title,
            submitted_at=found.submitted_at,
            score=found.score.score,
            text=found.score.text,
            place=found.score.place,
            time=found.score.time,
            shared_places=found.score.shared_places,
        )
        for found in duplicate_candidates(case)
    ]


def refresh_hot_issues(now: Any = None, *, max_level: int = 2) -> int:
    """Recompute the hot issues of the city and of every district (regions down to
    ``max_level``) and keep them as snapshots; returns how many regions were computed.
    Idempotent; the tallies watcher runs it every few minutes."""
    from gongzhi.territory.models import Region
    from gongzhi.triage.models import HotIssueSnapshot
    from gongzhi.triage.queries import hot_issues_in

    now = now or timezone.now()
    paths = list(
        Region.objects.filter(level__lte=max_level).order_by("path").values_list("path", flat=True)
    )
    for path in paths:
        issues = [
            {
                "label": issue.label,
                "keywords": list(issue.keywords),
                "heat": round(issue.heat, 4),
                "heat_parts": {k: round(v, 4) for k, v in issue.heat_parts.items()},
                "case_count": issue.case_count,
                "poster_count": issue.poster_count,
                "recent_count": issue.recent_count,
                "earlier_count": issue.earlier_count,
                "first_at": issue.first_at.isoformat(),
                "last_at": issue.last_at.isoformat(),
                "cases": [
                    {
                        "id": str(c.id),
                        "number": c.number,
                        "title": c.title,
                        "region_path": c.region_path,
                        "submitted_at": c.submitted_at.isoformat(),
                        "state": c.state,
                    }
                    for c in issue.cases
                ],
            }
            for issue in hot_issues_in(path, now)
        ]
        HotIssueSnapshot.objects.update_or_create(
            region_path=path, defaults={"computed_at": now, "issues": issues}
        )
    return len(paths)


def judge_reply_for_case(matter: str, reply: str) -> ReplyJudgement:
    """``replies.score_reply`` in the shape the case page takes."""
    from gongzhi.triage.replies import score_reply

    found = score_reply(matter, reply)
    return ReplyJudgement(
        score=found.score,
        is_explainable=found.is_explainable,
        cues=dict(found.cues),
        demands=found.demands,
        answered=found.answered,
        relevance=found.relevance,
    )
