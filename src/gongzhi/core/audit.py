"""The audit log of back-office changes: one hash-chained stream per subject."""

from __future__ import annotations

from typing import Any

from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import append_event


def record_audit(
    *,
    subject_type: str,
    subject_id: object,
    subject_label: str,
    region_path: str,
    action: str,
    actor: Any,
    actor_role: str = "",
    actor_unit_name: str = "",
    data: dict[str, Any] | None = None,
    reason: str = "",
) -> AuditEvent:
    return append_event(
        AuditEvent,
        stream=f"{subject_type}:{subject_id}",
        action=action,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_role=actor_role,
        actor_unit_name=actor_unit_name,
        reason=reason,
        data=data or {},
        subject_type=subject_type,
        subject_id=str(subject_id),
        subject_label=subject_label[:200],
        region_path=region_path,
    )
