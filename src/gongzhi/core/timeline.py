"""Appending to and verifying hash-chained timelines (see ``core.models.ChainedEvent``)."""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from django.db import IntegrityError, transaction
from django.utils import timezone

from gongzhi.core.models import ChainedEvent

GENESIS = "0" * 64
E = TypeVar("E", bound=ChainedEvent)

# The fields a hash covers; subclasses add theirs through ``hashed_fields``.
BASE_HASHED_FIELDS = (
    "stream",
    "seq",
    "occurred_at",
    "actor_id",
    "actor_role",
    "actor_unit_name",
    "action",
    "reason",
    "data",
    "prev_hash",
)


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    if isinstance(value, uuid.UUID):
        return str(value)
    return value


def event_hash(event: ChainedEvent, extra_fields: tuple[str, ...] = ()) -> str:
    payload = {name: _canonical(getattr(event, name)) for name in BASE_HASHED_FIELDS + extra_fields}
    text = json.dumps(payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def append_event(
    model: type[E], *, stream: str, action: str, first: bool = False, **fields: Any
) -> E:
    """Append one event to ``stream``, chained to the previous one.

    Two writers racing on one stream both read the same last event; the unique
    (stream, seq) constraint lets exactly one insert, and the other retries on the new tip.
    Call inside the caller's transaction: the event commits or rolls back with the change.
    ``first``: the stream was created in this transaction (a new case), so nobody else can
    write to it and there is no tip to read; if there is one after all, the insert fails on
    the unique (stream, seq) constraint rather than forking the chain.
    """
    extra = getattr(model, "hashed_fields", ())
    occurred_at = fields.pop("occurred_at", None) or timezone.now()
    if first:
        event = model(
            stream=stream,
            seq=1,
            prev_hash=GENESIS,
            action=action,
            occurred_at=occurred_at,
            **fields,
        )
        event.hash = event_hash(event, extra)
        event.save(force_insert=True)
        return event
    for _attempt in range(5):
        last = model.objects.filter(stream=stream).order_by("-seq").first()
        event = model(
            stream=stream,
            seq=(last.seq + 1) if last else 1,
            prev_hash=last.hash if last else GENESIS,
            action=action,
            occurred_at=occurred_at,
            **fields,
        )
        event.hash = event_hash(event, extra)
        try:
            with transaction.atomic():
                event.save(force_insert=True)
        except IntegrityError:
            continue
        return event
    raise RuntimeError(f"could not append to timeline {stream!r}: too much contention")


@dataclass(frozen=True)
class ChainBreak:
    stream: str
    seq: int
    problem: str


def verify_chains(model: type[ChainedEvent]) -> Iterator[ChainBreak]:
    """Yield every place where a stream's chain is broken (edited, deleted or reordered)."""
    extra = getattr(model, "hashed_fields", ())
    stream = None
    expected_prev = GENESIS
    expected_seq = 1
    for event in model.objects.order_by("stream", "seq").iterator(chunk_size=2000):
        if event.stream != stream:
            stream, expected_prev, expected_seq = event.stream, GENESIS, 1
        if event.seq != expected_seq:
            yield ChainBreak(event.stream, event.seq, f"expected event #{expected_seq}")
        if event.prev_hash != expected_prev:
            yield ChainBreak(event.stream, event.seq, "previous hash does not match")
        if event.hash != event_hash(event, extra):
            yield ChainBreak(event.stream, event.seq, "content does not match its hash")
        expected_prev, expected_seq = event.hash, event.seq + 1
