"""The clock: find cases whose deadline is near or past, warn, and act by rule.

``sweep_deadlines(now)`` is idempotent and cheap (two indexed queries when nothing is
due): each case gets each warning once per stage, because a new stage resets ``warning``.
It runs every 30 seconds in ``gongzhi watch-deadlines`` (started by ``gongzhi serve``), so a
deadline is noticed within a minute; after an outage it catches up on everything that
passed meanwhile.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.models import User
from gongzhi.accounts.services import system_actor
from gongzhi.cases import services
from gongzhi.cases.choices import Warning
from gongzhi.cases.errors import InvalidTransition
from gongzhi.cases.models import Case, EscalationRule
from gongzhi.cases.services import Step
from gongzhi.cases.workflow import OPEN_STATES, Action
from gongzhi.notifications.choices import NoticeKind


@dataclass
class SweepReport:
    yellow: int = 0
    red: int = 0
    escalated: int = 0
    supervised: int = 0


def _warn(case: Case, level: Warning, actor: User) -> Case:
    def change(c: Case, now: dt.datetime, calendar: object) -> Step:
        notices = [(NoticeKind.OVERDUE, c.unit_id, None)] if level == Warning.RED else []
        return Step(
            {"warning": level},
            notices=notices,
            data={
                "level": level.value,
                "stage": c.stage,
                "due_at": c.due_at.isoformat() if c.due_at else None,
            },
        )

    return services._act(
        case, Action.WARN, actor=actor, expected_version=None, change=change, check_permission=False
    )


def sweep_deadlines(now: dt.datetime | None = None, *, batch: int = 500) -> SweepReport:
    now = now or timezone.now()
    actor = system_actor()
    report = SweepReport()
    open_states = [s.value for s in OPEN_STATES]
    rules = {r.stage: r.response for r in EscalationRule.objects.filter(is_active=True)}

    overdue = Case.objects.filter(
        state__in=open_states, due_at__lte=now, warning__in=[Warning.NONE, Warning.YELLOW]
    ).order_by("due_at")[:batch]
    for case in overdue:
        stage = case.stage
        try:
            _warn(case, Warning.RED, actor)
        except InvalidTransition:
            continue  # moved on meanwhile
        report.red += 1
        response = rules.get(stage)
        try:
            if response == EscalationRule.Response.ESCALATE and case.dispatch_region.parent_id:
                services.escalate_case(
                    case,
                    actor=actor,
                    reason=_("Overdue: escalated by rule."),
                    check_permission=False,
                )
                report.escalated += 1
            elif response in {EscalationRule.Response.SUPERVISE, EscalationRule.Response.ESCALATE}:
                services.supervise_case(
                    case,
                    actor=actor,
                    note=_("Overdue: supervised by rule. Act on it now."),
                    check_permission=False,
                )
                report.supervised += 1
        except InvalidTransition:
            continue

    nearly = Case.objects.filter(
        state__in=open_states, warning=Warning.NONE, yellow_at__lte=now, due_at__gt=now
    ).order_by("yellow_at")[:batch]
    for case in nearly:
        try:
            _warn(case, Warning.YELLOW, actor)
        except InvalidTransition:
            continue
        report.yellow += 1
    return report
