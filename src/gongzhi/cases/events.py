"""Appending to a case's timeline."""

from __future__ import annotations

import datetime as dt
from typing import Any

from gongzhi.cases.models import Case, CaseEvent
from gongzhi.core.timeline import append_event


def stream_of(case: Case) -> str:
    return f"case:{case.pk}"


def record(
    case: Case,
    action: str,
    *,
    actor: Any,
    actor_role: str = "",
    actor_unit_name: str = "",
    from_state: str = "",
    to_state: str = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
    occurred_at: dt.datetime | None = None,
    first: bool = False,
) -> CaseEvent:
    """Append to the case's timeline (``first``: the case was inserted in this transaction)."""
    return append_event(
        CaseEvent,
        stream=stream_of(case),
        action=action,
        first=first,
        actor=actor if getattr(actor, "is_authenticated", False) else None,
        actor_role=actor_role,
        actor_unit_name=actor_unit_name,
        reason=reason,
        data=data or {},
        case=case,
        from_state=from_state,
        to_state=to_state,
        unit_name=case.unit.name if case.unit_id and case.unit else "",
        occurred_at=occurred_at,
    )
