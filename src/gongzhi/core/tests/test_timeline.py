from __future__ import annotations

from typing import Any

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction

from gongzhi.core.audit import record_audit
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import GENESIS, ChainBreak, append_event, verify_chains


def _record(subject_id: int, action: str, **data: object) -> AuditEvent:
    return record_audit(
        subject_type="thing",
        subject_id=subject_id,
        subject_label=f"thing {subject_id}",
        region_path="990100000000/",
        action=action,
        actor=None,
        data=dict(data),
    )


@pytest.fixture
def chain(db):
    first = _record(1, "thing.created", name="甲")
    second = _record(1, "thing.updated", name="乙")
    third = _record(1, "thing.updated", name="丙")
    other = _record(2, "thing.created", name="<script>alert(1)</script>")
    return first, second, third, other


def test_events_chain_per_stream(chain):
    first, second, third, other = chain
    assert (first.seq, second.seq, third.seq, other.seq) == (1, 2, 3, 1)
    assert first.prev_hash == GENESIS
    assert second.prev_hash == first.hash
    assert third.prev_hash == second.hash
    assert other.prev_hash == GENESIS
    assert len({first.hash, second.hash, third.hash, other.hash}) == 4
    assert list(verify_chains(AuditEvent)) == []


def test_orm_refuses_to_change_or_delete(chain):
    first = chain[0]
    first.reason = "rewritten"
    with pytest.raises(TypeError, match="append-only"):
        first.save()
    with pytest.raises(TypeError, match="append-only"):
        first.delete()
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=first.pk).update(reason="x")
    with pytest.raises(TypeError, match="append-only"):
        AuditEvent.objects.filter(pk=first.pk).delete()


def _raw(sql: str, params: list[str | int]) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_an_edited_event_is_reported(chain):
    second = chain[1]
    _raw("UPDATE core_auditevent SET data = %s WHERE id = %s", ['{"name": "丁"}', second.pk])
    assert list(verify_chains(AuditEvent)) == [
        ChainBreak("thing:1", 2, "content does not match its hash")
    ]


def test_a_deleted_event_is_reported(chain):
    _raw("DELETE FROM core_auditevent WHERE id = %s", [chain[1].pk])
    assert list(verify_chains(AuditEvent)) == [
        ChainBreak("thing:1", 3, "expected event #2"),
        ChainBreak("thing:1", 3, "previous hash does not match"),
    ]


def test_a_rehashed_edit_still_breaks_the_next_link(chain):
    """Recomputing an edited event's own hash is not enough: its successor points at the old."""
    from gongzhi.core.timeline import event_hash

    second = AuditEvent.objects.get(pk=chain[1].pk)
    second.data = {"name": "丁"}
    new_hash = event_hash(second, AuditEvent.hashed_fields)
    _raw(
        "UPDATE core_auditevent SET data = %s, hash = %s WHERE id = %s",
        ['{"name": "丁"}', new_hash, second.pk],
    )
    assert list(verify_chains(AuditEvent)) == [
        ChainBreak("thing:1", 3, "previous hash does not match")
    ]


def test_verify_timelines_command(chain, capsys):
    call_command("verify_timelines")
    assert "all intact" in capsys.readouterr().out
    _raw("UPDATE core_auditevent SET reason = %s WHERE id = %s", ["forged", chain[0].pk])
    with pytest.raises(SystemExit) as exit_info:
        call_command("verify_timelines")
    assert exit_info.value.code == 1
    out = capsys.readouterr().out
    assert "thing:1 #1: content does not match its hash" in out


def test_a_first_event_starts_the_chain_without_reading_it_and_cannot_fork_one(db):
    kwargs: dict[str, Any] = {
        "subject_type": "t",
        "subject_id": "9",
        "subject_label": "t",
        "region_path": "",
    }
    first = append_event(AuditEvent, stream="t:9", action="created", first=True, **kwargs)
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    second = append_event(AuditEvent, stream="t:9", action="changed", **kwargs)
    assert (second.seq, second.prev_hash) == (2, first.hash)
    assert list(verify_chains(AuditEvent)) == []
    with pytest.raises(IntegrityError), transaction.atomic():
        append_event(AuditEvent, stream="t:9", action="again", first=True, **kwargs)
    assert AuditEvent.objects.filter(stream="t:9").count() == 2
