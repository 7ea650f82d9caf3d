"""Every change to evaluation data goes through here: score schemes and rankings."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal, InvalidOperation
from typing import Any, cast

from django.core.exceptions import FieldDoesNotExist
from django.db import transaction
from django.db.models import Field
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_stubs_ext import StrOrPromise

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.models import User
from gongzhi.accounts.queries import AnyUser
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import Conflict, InvalidInput, PermissionDenied
from gongzhi.evaluation import policies, queries
from gongzhi.evaluation.choices import EvaluationAuditAction, RankingList, RankingSubject
from gongzhi.evaluation.indicators import Figures, Scheme
from gongzhi.evaluation.models import Ranking, RankingEntry, ScoreScheme, TalliedMonth
from gongzhi.evaluation.periods import Period, month_of
from gongzhi.evaluation.tallies import store_month
from gongzhi.territory.choices import RegionLevel
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.policies import acting_role

# What a person calls the fields that services name in their messages; the API's ``details``
# keep the field's own name. Score scheme settings use their model fields' names.
FIELD_LABELS: dict[str, StrOrPromise] = {
    "name": gettext_lazy("name"),
    "description": gettext_lazy("description"),
    "code": gettext_lazy("code"),
    "criteria": gettext_lazy("scoring criteria"),
    "weight": gettext_lazy("points"),
    "value": gettext_lazy("value"),
    "evidence": gettext_lazy("evidence"),
    "evidence_reference": gettext_lazy("evidence reference"),
    "below": gettext_lazy("share of the points"),
    "report": gettext_lazy("rectification report"),
    "note": gettext_lazy("note"),
    "reason": gettext_lazy("reason"),
}


def field_label(name: str) -> str:
    """How a message names the field ``name``: its label in the active language."""
    if name in FIELD_LABELS:
        return str(FIELD_LABELS[name])
    try:
        field = ScoreScheme._meta.get_field(name)
    except FieldDoesNotExist:
        return name
    return str(field.verbose_name) if isinstance(field, Field) else name


def bounded_number(
    name: str, value: Any, low: Decimal, high: Decimal, *, places: int | None = None
) -> Decimal:
    """``value`` as a Decimal within [low, high], with at most ``places`` decimal places
    (the places its column keeps: nothing is rounded silently), or a clear ``InvalidInput``
    for the field ``name``."""
    label = field_label(name)
    try:
        number = Decimal(str(value).strip())
    except (InvalidOperation, ValueError, TypeError):
        message = _("%(name)s must be a number.") % {"name": label}
        raise InvalidInput(capfirst(message), field=name) from None
    if not number.is_finite() or not low <= number <= high:
        message = _("%(name)s must lie between %(low)s and %(high)s.") % {
            "name": label,
            "low": low,
            "high": high,
        }
        raise InvalidInput(capfirst(message), field=name)
    if places is not None and number != number.quantize(Decimal(1).scaleb(-places)):
        if places == 0:
            message = _("%(name)s must be a whole number.") % {"name": label}
        else:
            message = _("%(name)s may have at most %(places)s decimal places.") % {
                "name": label,
                "places": places,
            }
        raise InvalidInput(capfirst(message), field=name)
    return number


def set_score_scheme(region: Region, *, actor: AnyUser, **values: Any) -> ScoreScheme:
    """Set the weights, values and grade thresholds used within ``region``'s subtree.
    Fields not given keep their current value. Published rankings keep the scheme they
    were made with."""
    if not policies.can_configure_evaluation(actor, region):
        raise PermissionDenied(_("You may not set the score scheme of this region."))
    unknown = set(values) - set(queries.SCHEME_FIELDS)
    if unknown:
        raise InvalidInput(_("Unknown setting: %(names)s.") % {"names": ", ".join(sorted(unknown))})
    current = queries.scheme_for(region)
    merged: dict[str, Any] = {name: getattr(current, name) for name in queries.SCHEME_FIELDS}
    hundred, one = Decimal(100), Decimal(1)
    for name, value in values.items():
        if name in ("list_size", "min_cases"):
            merged[name] = int(bounded_number(name, value, Decimal(0), Decimal(1000), places=0))
        elif name.endswith("_value"):
            merged[name] = bounded_number(name, value, Decimal(0), one, places=2)
        else:
            merged[name] = bounded_number(name, value, Decimal(0), hundred, places=2)
    if merged["response_weight"] + merged["resolution_weight"] + merged["satisfaction_weight"] <= 0:
        raise InvalidInput(_("At least one weight must be above zero."))
    if not merged["grade_a"] >= merged["grade_b"] >= merged["grade_c"] >= merged["grade_d"]:
        raise InvalidInput(_("Grade thresholds must fall from A to D."))
    now = timezone.now()
    with transaction.atomic():
        scheme, _created = ScoreScheme.objects.update_or_create(
            region=region, defaults={**merged, "updated_at": now}
        )
        role, unit_name = acting_role(actor, Capability.MANAGE_EVALUATION, region)
        record_audit(
            subject_type="score_scheme",
            subject_id=region.pk,
            subject_label=region.name,
            region_path=region.path,
            action=EvaluationAuditAction.SCHEME_SET,
            actor=actor,
            actor_role=role,
            actor_unit_name=unit_name,
            data=Scheme(**merged).as_json(),
        )
    return scheme


def _mark_lists(ranked: list[RankingEntry], list_size: int) -> None:
    """红黑榜: at most ``list_size`` places each, and at most half of the ranked each. A tie
    at the edge of a list takes the whole tie in; a subject that would be on both lists (all
    tied) is on neither."""
    size = min(list_size, len(ranked) // 2)
    if not size:
        return
    red = {id(e) for e in ranked if e.position is not None and e.position <= size}
    cutoff = ranked[len(ranked) - size].score
    black = {
        id(e) for e in ranked if e.score is not None and cutoff is not None and e.score <= cutoff
    }
    for entry in ranked:
        if id(entry) in red and id(entry) not in black:
            entry.listed = RankingList.RED
        elif id(entry) in black and id(entry) not in red:
            entry.listed = RankingList.BLACK


def rank(
    figures: list[tuple[Region | None, Unit | None, str, Figures]], scheme: Scheme
) -> list[RankingEntry]:
    """Order by score (highest first; ties share a position, then by name); subjects with no
    score or fewer than ``min_cases`` cases are listed last without a position. The best
    ``list_size`` go on the red list, the worst on the black list (``_mark_lists``)."""
    rankable = [
        f for f in figures if f[3].score is not None and f[3].case_count >= scheme.min_cases
    ]
    others = [f for f in figures if f not in rankable]
    rankable.sort(key=lambda f: (-(f[3].score or 0), f[2]))
    others.sort(key=lambda f: f[2])
    entries: list[RankingEntry] = []
    position = 0
    previous: Decimal | None = None
    for index, (region, unit, name, figs) in enumerate(rankable, start=1):
        if figs.score != previous:
            position, previous = index, figs.score
        entries.append(
            RankingEntry(
                position=position,
                region=region,
                unit=unit,
                name=name,
                score=figs.score,
                grade=figs.grade or "",
                figures=figs.as_json(),
            )
        )
    _mark_lists(entries, scheme.list_size)
    for region, unit, name, figs in others:
        entries.append(
            RankingEntry(
                position=None,
                region=region,
                unit=unit,
                name=name,
                score=figs.score,
                grade="",
                figures=figs.as_json(),
            )
        )
    return entries


def draft_ranking(
    region: Region, month: dt.date, subject: str
) -> tuple[Scheme, list[RankingEntry]]:
    """The ranking as it would be published now (entries not saved)."""
    if subject not in RankingSubject.values:
        raise InvalidInput(_("Rank streets or units."))
    scheme = queries.scheme_for(region)
    period = Period.month(month)
    rows: list[tuple[Region | None, Unit | None, str, Figures]]
    if subject == RankingSubject.STREET:
        if region.level >= RegionLevel.STREET:
            raise InvalidInput(_("Streets are ranked within a district or the city."))
        by_street = queries.figures_by_child(region, period, RegionLevel.STREET, scheme)
        rows = [(street, None, street.name, figs) for street, figs in by_street.items()]
    else:
        by_unit = queries.figures_by_unit(region, period, scheme)
        rows = [(None, unit, unit.name, figs) for unit, figs in by_unit.items()]
    return scheme, rank(rows, scheme)


def publish_ranking(
    region: Region,
    *,
    month: dt.date,
    subject: str,
    actor: AnyUser,
    correction_reason: str = "",
    now: dt.datetime | None = None,
) -> Ranking:
    """Freeze the monthly ranking of ``subject`` within ``region`` from the month's tallies as
    last computed (``Ranking.computed_at``). Only a month that has ended may be published.
    Publishing again is a correction: it needs a reason, makes a new version and keeps the
    old one (no longer current)."""
    now = now or timezone.now()
    if not policies.can_publish_rankings(actor, region):
        raise PermissionDenied(_("You may not publish rankings for this region."))
    if month >= month_of(now):
        raise InvalidInput(_("Only a month that has ended can be ranked."))
    # The figures as the tallies watcher last computed them (every minute; the ranking says
    # as of when): refreshing here would recompute the current month on every publication.
    tallied = TalliedMonth.objects.filter(month=month).first()
    computed_at = tallied.computed_at if tallied else None
    if computed_at is None:
        store_month(month, now)
        computed_at = now
    scheme, entries = draft_ranking(region, month, subject)
    with transaction.atomic():
        current = (
            Ranking.objects.select_for_update()
            .filter(month=month, subject=subject, region=region, is_current=True)
            .first()
        )
        reason = correction_reason.strip()
        if current is not None and not reason:
            raise Conflict(
                _(
                    "This ranking is published already. "
                    "Say why it is corrected to publish it again."
                ),
                code="already_published",
                ranking=current.pk,
            )
        version = 1
        if current is not None:
            current.is_current = False
            current.save(update_fields=["is_current"])
            version = current.version + 1
        ranking = Ranking.objects.create(
            month=month,
            subject=subject,
            region=region,
            region_path=region.path,
            version=version,
            is_current=True,
            correction_reason=reason[:2000],
            scheme=scheme.as_json(),
            computed_at=computed_at,
            published_at=now,
            published_by=cast(User, actor),  # can_publish_rankings: a signed-in person
        )
        for entry in entries:
            entry.ranking = ranking
        RankingEntry.objects.bulk_create(entries)
        role, unit_name = acting_role(actor, Capability.PUBLISH_RANKINGS, region)
        record_audit(
            subject_type="ranking",
            subject_id=ranking.pk,
            subject_label=f"{region.name} {month:%Y-%m} {subject}",
            region_path=region.path,
            action=EvaluationAuditAction.RANKING_PUBLISHED,
            actor=actor,
            actor_role=role,
            actor_unit_name=unit_name,
            reason=reason,
            data={"version": version, "entries": len(entries)},
        )
    return ranking
