"""Reads of the model registry. Lists never load the artifacts."""

from __future__ import annotations

from django.db.models import QuerySet

from gongzhi.triage.errors import ModelNotFound
from gongzhi.triage.models import ClassifierModel


def registered_models() -> QuerySet[ClassifierModel]:
    return ClassifierModel.objects.defer("artifact").order_by("-version")


def active_model_key() -> tuple[int, str] | None:
    """(version, artifact SHA-256) of the active model: one small indexed query."""
    row = (
        ClassifierModel.objects.filter(is_active=True)
        .values_list("version", "artifact_sha256")
        .first()
    )
    return (row[0], row[1]) if row else None


def model_by_version(version: int) -> ClassifierModel:
    try:
        return ClassifierModel.objects.get(version=version)
    except ClassifierModel.DoesNotExist:
        raise ModelNotFound(f"no classifier model version {version}", version=version) from None


def dispatcher_choices_csv(limit: int | None = None) -> bytes:
    """The categories people chose for registered cases, as a training file (the columns of
    ../shared/data/messages/train.csv: message_id, user, title, detail, text, label).

    The label is the first level of the category a dispatcher registered the case with (or
    the person chose at submission); the user is the case's reporter (or the case itself
    for anonymous and hotline cases), so grouped cross-validation keeps one person's cases
    in one fold. Newest first; ``limit`` caps the rows."""
    import csv
    import io

    from gongzhi.cases.models import Case

    rows = (
        Case.objects.filter(registered_at__isnull=False, category__isnull=False)
        .order_by("-registered_at")
        .values_list("number", "reporter_id", "pk", "title", "description", "category__path")
    )
    if limit is not None:
        rows = rows[:limit]
    out = io.StringIO(newline="")
    writer = csv.writer(out)
    writer.writerow(["message_id", "user", "title", "detail", "text", "label"])
    for number, reporter_id, pk, title, description, path in rows.iterator(chunk_size=2000):
        user = f"u{reporter_id}" if reporter_id else f"c{pk}"
        writer.writerow(
            [number, user, title, description, f"{title}\n{description}", path.split("/")[0]]
        )
    return out.getvalue().encode("utf-8")
