"""Queued intake (ADR 0007): accept a submission with one INSERT, make it a case in batches.

A flood of submissions (a typhoon night, a water main burst: thousands of calls an hour)
must be accepted as fast as they come and never lost. ``accept_case`` checks a submission
exactly as ``services.submit_case`` would (a bad one is refused at once, with the same
errors), then stores it as it came in one ``QueuedCase`` row and answers a receipt and the
tracking code. Classification, routing, the clock, the day's number and the first timeline
event are the work of ``process_queue``, run by ``gongzhi process_intake`` (one of
``serve``'s background processes): it reads a batch of waiting rows, prepares each case
outside any transaction (``services.prepare_case``) and writes the batch in one
(``services.submit_prepared`` per case), so the database pays one commit per batch. The case
is the same as a synchronous submission's: same fields, same ``submit`` event, its clock
counting from when the submission was received.

Clients choose it: the API with ``Prefer: respond-async`` (202 and a receipt), Open311 in
batch mode (``GONGZHI_OPEN311_SERVICE_TYPE = "batch"``: a token). Adapters that need to
remember something of their own per case (the Open311 submission row) listen to
``queued_case_registered``, sent inside the transaction that creates the case.
"""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.dispatch import Signal
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.queries import AnyUser
from gongzhi.cases import services
from gongzhi.cases.errors import InvalidCase
from gongzhi.cases.models import QueuedCase as QueuedCase  # adapters use it from here
from gongzhi.core import refdata
from gongzhi.core.errors import DomainError
from gongzhi.territory.queries import region_with_path

log = logging.getLogger("gongzhi.intake")

BATCH = 100  # submissions per transaction
MAX_ATTEMPTS = 5  # unexpected failures before a submission is set aside as refused

# Sent inside the transaction that creates the case: sender=QueuedCase, queued=, case=.
queued_case_registered = Signal()


def accept_case(
    new: services.NewCase,
    *,
    actor: AnyUser,
    source: str,
    source_key: str = "",
    source_data: dict[str, Any] | None = None,
    received_at: dt.datetime | None = None,
) -> QueuedCase:
    """Check ``new`` and keep it for ``process_queue``: one INSERT, no transaction."""
    services.check_new_case(new)
    queued = QueuedCase(
        received_at=received_at or timezone.now(),
        actor=actor if isinstance(actor, User) and actor.is_authenticated else None,
        submission=_to_json(new),
        receipt=secrets.token_urlsafe(12),
        tracking_code=services.new_tracking_code(),
        source=source,
        source_key=source_key,
        source_data=source_data or {},
    )
    queued.save(force_insert=True)
    return queued


def _to_json(new: services.NewCase) -> dict[str, Any]:
    assert new.region is not None  # noqa: S101 (check_new_case refused it)
    return {
        "title": new.title,
        "description": new.description,
        "kind": new.kind,
        "channel": new.channel,
        "region": new.region.path,
        "latitude": new.latitude,
        "longitude": new.longitude,
        "address": new.address,
        "category": new.category.path if new.category is not None else None,
        "urgency": new.urgency,
        "reporter_name": new.reporter_name,
        "reporter_phone": new.reporter_phone,
        "is_anonymous": new.is_anonymous,
    }


def _from_json(data: dict[str, Any]) -> services.NewCase:
    """The submission again, its region and category from the reference data in memory. A
    category made inactive meanwhile is dropped (the classifier proposes one instead)."""
    region = region_with_path(data["region"])
    if region is None:
        raise InvalidCase(_("The region of this submission no longer exists."))
    category = services.active_category(data["category"]) if data["category"] else None
    fields = {k: v for k, v in data.items() if k not in {"region", "category"}}
    return services.NewCase(region=region, category=category, **fields)


@dataclass(frozen=True)
class Processed:
    registered: int = 0
    refused: int = 0
    retried: int = 0

    @property
    def handled(self) -> int:
        return self.registered + self.refused + self.retried


def waiting() -> Any:
    """Submissions still waiting, oldest first."""
    return QueuedCase.objects.filter(case__isnull=True, processed_at__isnull=True).order_by(
        "received_at"
    )


def process_queue(*, limit: int = BATCH) -> Processed:
    """Turn up to ``limit`` waiting submissions into cases. Safe to run in several processes
    at once (PostgreSQL: rows another processor holds are skipped; SQLite: one writer)."""
    batch = list(waiting().select_related("actor")[:limit])
    if not batch:
        return Processed()
    prepared: dict[Any, services.PreparedCase] = {}
    refused: dict[Any, str] = {}
    retried: dict[Any, str] = {}
    # Reasons are stored in the site's language (staff read them), whoever runs the batch.
    with refdata.pinned(), translation.override(settings.LANGUAGE_CODE):
        for queued in batch:
            try:
                prepared[queued.pk] = _prepare(queued)
            except DomainError as error:  # can never become a case: say why, keep the row
                refused[queued.pk] = error.message
            except DatabaseError:
                raise  # the database is away: the whole batch waits for the next round
            except Exception as error:  # a bug: retry a few times, then set it aside
                log.exception("queued submission %s could not be prepared", queued.pk)
                retried[queued.pk] = f"{type(error).__name__}: {error}"
    with transaction.atomic():
        mine = _still_waiting([q.pk for q in batch])
        now = timezone.now()
        for queued in batch:
            if queued.pk not in mine:
                continue  # another processor took it
            if queued.pk in prepared:
                try:
                    case = services.submit_prepared(prepared[queued.pk])
                except IntegrityError as error:  # its own savepoint is undone; the rest go on
                    log.exception("queued submission %s could not be written", queued.pk)
                    prepared.pop(queued.pk)
                    retried[queued.pk] = f"{type(error).__name__}: {error}"
                    _retry(queued, retried[queued.pk], now)
                    continue
                # The case holds the submission now: no second copy of the person's name
                # and phone is kept here.
                queued.case, queued.processed_at, queued.submission = case, now, {}
                queued.save(update_fields=["case", "processed_at", "submission"])
                queued_case_registered.send(sender=QueuedCase, queued=queued, case=case)
            elif queued.pk in refused:
                _set_aside(queued, refused[queued.pk], now)
            else:
                _retry(queued, retried[queued.pk], now)
    return Processed(
        registered=len(mine & prepared.keys()),
        refused=len(mine & refused.keys()),
        retried=len(mine & retried.keys()),
    )


def _prepare(queued: QueuedCase) -> services.PreparedCase:
    return services.prepare_case(
        _from_json(queued.submission),
        actor=queued.actor or AnonymousUser(),
        submitted_at=queued.received_at,
        tracking_code=queued.tracking_code,
    )


def _still_waiting(keys: list[Any]) -> set[Any]:
    """Of ``keys``, those still waiting, locked for this transaction."""
    rows = QueuedCase.objects.filter(pk__in=keys, case__isnull=True, processed_at__isnull=True)
    if connection.features.has_select_for_update_skip_locked:
        rows = rows.select_for_update(skip_locked=True)
    return set(rows.values_list("pk", flat=True))


def _retry(queued: QueuedCase, reason: str, now: dt.datetime) -> None:
    """One more failed attempt; set aside after ``MAX_ATTEMPTS``."""
    queued.attempts += 1
    if queued.attempts >= MAX_ATTEMPTS:
        _set_aside(queued, reason, now)
        return
    queued.last_error = reason[:2000]
    queued.save(update_fields=["attempts", "last_error"])


def _set_aside(queued: QueuedCase, reason: str, now: dt.datetime) -> None:
    queued.processed_at, queued.last_error = now, reason[:2000]
    queued.save(update_fields=["processed_at", "last_error", "attempts"])


@dataclass(frozen=True)
class QueueStatus:
    waiting: int
    oldest_waiting_seconds: float
    set_aside: int

    def __str__(self) -> str:
        return (
            f"waiting {self.waiting} (oldest {self.oldest_waiting_seconds:.1f} s), "
            f"set aside {self.set_aside}"
        )


def queue_status(now: dt.datetime | None = None) -> QueueStatus:
    """How the queue stands: a growing ``waiting`` or an old ``oldest`` means no processor is
    keeping up; ``set_aside`` submissions need a person (``last_error`` says why)."""
    now = now or timezone.now()
    oldest = waiting().values_list("received_at", flat=True).first()
    return QueueStatus(
        waiting=waiting().count(),
        oldest_waiting_seconds=(now - oldest).total_seconds() if oldest else 0.0,
        set_aside=QueuedCase.objects.filter(case__isnull=True, processed_at__isnull=False).count(),
    )


def status_of(queued: QueuedCase) -> str:
    """queued, registered (a case now) or refused (never will be: ``last_error`` says why)."""
    if queued.case_id is not None:
        return "registered"
    return "refused" if queued.processed_at is not None else "queued"


def queued_with_source_key(source_key: str) -> QueuedCase | None:
    """The submission an adapter accepted under ``source_key`` (its idempotency key)."""
    return QueuedCase.objects.filter(source_key=source_key).first() if source_key else None


def queued_with_receipt(receipt: str, *, source: str | None = None) -> QueuedCase | None:
    found = QueuedCase.objects.filter(receipt=receipt.replace("\x00", "")[:32])
    if source is not None:
        found = found.filter(source=source)
    return found.select_related("case").first()
