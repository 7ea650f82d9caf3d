"""Importing historical cases: many at once, each with its complete hash-chained timeline.

A city that moves onto gongzhi brings the cases of its old system; the demo city gets a year
of made-up history (``demo.history``). ``import_historical_cases`` takes one
``HistoricalCase`` per case: what was raised, when and where, and the steps people took
(register, dispatch, return, sign for, reply, verify, close, follow up ...), each with its
time. It replays the steps through ``workflow.next_state`` exactly as the services would
have taken them, and writes the cases and their timelines in bulk:

- **The clock runs as it did live.** Each stage's deadline comes from ``timelimits.limit_for``
  on the city's working-day calendar; whenever the time between two steps passes a stage's
  yellow point or deadline, the importer writes the warning the deadline sweeper would have
  written, and on a red warning the city's ``EscalationRule`` response (escalate one level
  up, or supervise), exactly as ``deadlines.sweep_deadlines``. Open cases are swept up to
  ``now``, so the live sweeper finds nothing left to do for them.
- **Timelines are chained like ``core.timeline.append_event``:** stream ``case:<uuid>``,
  ``seq`` 1..n, ``prev_hash`` the previous event's ``hash`` (the genesis hash first), ``hash``
  = ``event_hash(event, CaseEvent.hashed_fields)``. ``gongzhi verify-timelines`` checks them.
- **Who acted.** Every imported event's ``actor`` is the account that ran the import (the row
  was written by the import, not by the person); ``actor_role`` and ``actor_unit_name`` record
  the capacity the person acted in, as live events do (the dispatcher at the command centre
  of the case's dispatch region, the handling unit, the community's grid worker, ``system``
  for the clock). The submit event's data says ``"imported": true``.
- **Numbers.** Historical cases are numbered ``H`` + ``YYYYMMDD-NNNNN`` (``H20260314-00042``):
  the live numbering (``services._next_number``) only looks at numbers that start with the
  day, so a case submitted live later on the same day never collides with nor continues the
  historical range, and the ``H`` marks imported history wherever a number is shown.
- **Idempotent.** When any case numbered ``H...`` exists, the import does nothing and returns
  0: history is imported once per database. (Specs carry their own numbers, but a generated
  history dated "the past 12 months" differs from one day to the next, so a per-number check
  would import a second year.) Cases are written in transactions of ``batch_size`` cases; an
  import that is interrupted keeps its complete cases and is not resumed.
- **Fast.** 20,000 cases with 180,000 events take well under a minute on SQLite: the replay
  works on plain rows (not model instances), deadlines and routes are cached, and each batch
  is one ``executemany`` per table. The values go through each model field's own
  ``get_db_prep_save``, so they are stored exactly as the ORM stores them, on SQLite and on
  PostgreSQL; ``bulk_create`` spends most of its time compiling one SQL expression per value
  (and SQLite allows it 19 cases per statement), about four times as slow here.

Each dispatch is written as an ``Assignment`` with how the unit answered it, and a reply's
punctuality as ``Case.is_replied_on_time``, as the services record them for evaluation.

Not imported: merges, extensions, suspensions, assisting units and attachments (they need
rows beyond the case and its timeline).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.queries import AnyUser
from gongzhi.cases.choices import Complexity, Resolution, Satisfaction, Stage, Warning
from gongzhi.cases.models import (
    Assignment,
    Case,
    CaseEvent,
    Category,
    EscalationRule,
    TimeLimit,
)
from gongzhi.cases.timelimits import Limit, limit_for, yellow_point
from gongzhi.cases.workflow import OPEN_STATES, Action, IllegalTransition, State, next_state
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import PermissionDenied
from gongzhi.core.models import ChainedEvent
from gongzhi.core.timeline import GENESIS, event_hash
from gongzhi.core.working_days import WorkingCalendar, city_calendar
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.models import RoutingRule
from gongzhi.dispatch.queries import route
from gongzhi.territory.choices import RegionLevel, UnitKind
from gongzhi.territory.models import Region, Unit

HISTORY_PREFIX = "H"
SUBMIT = "submit"
SYSTEM_ROLE = "system"
OPEN = frozenset(s.value for s in OPEN_STATES)

# The actions a historical step may take. Warnings, and escalation or supervision by rule,
# are written by the importer's clock; ESCALATE and SUPERVISE here are people doing it.
STEP_ACTIONS = frozenset(
    a.value
    for a in (
        Action.REGISTER,
        Action.REJECT,
        Action.DISPATCH,
        Action.RETURN,
        Action.SIGN_FOR,
        Action.REPLY,
        Action.VERIFY,
        Action.FAIL_VERIFICATION,
        Action.CLOSE,
        Action.FOLLOW_UP,
        Action.REOPEN,
        Action.ESCALATE,
        Action.SUPERVISE,
    )
)
# Whose desk an action is done at, when the step does not say (see ``_Replay._snapshot``).
DISPATCH_DESK = frozenset(
    a.value
    for a in (
        Action.REGISTER,
        Action.REJECT,
        Action.DISPATCH,
        Action.CLOSE,
        Action.FOLLOW_UP,
        Action.REOPEN,
        Action.ESCALATE,
    )
)
UNIT_DESK = frozenset(a.value for a in (Action.SIGN_FOR, Action.RETURN, Action.REPLY))
GRID_DESK = frozenset(a.value for a in (Action.VERIFY, Action.FAIL_VERIFICATION))


class InvalidHistory(ValueError):
    """A spec that the workflow does not allow, or that is out of order."""


@dataclass(frozen=True)
class HistoricalStep:
    """One thing a person did to the case, at ``at``.

    ``unit_id``: for ``dispatch``, the unit chosen (``None``: the proposed one; another one
    is an override and needs a ``reason``). ``text``: the answer of a ``reply``.
    ``resolution``/``satisfaction``: of a ``follow_up`` (``not_resolved`` reopens the case at
    once, as ``services.follow_up_case`` does). ``role``/``unit_name``: the capacity the
    person acted in, when the default of the action's desk is not right.
    """

    action: str
    at: dt.datetime
    reason: str = ""
    unit_id: int | None = None
    text: str = ""
    resolution: str = ""
    satisfaction: str = ""
    role: str | None = None
    unit_name: str | None = None


@dataclass(frozen=True)
class HistoricalCase:
    """A case as raised, and its path through the lifecycle (``steps``, in time order).

    ``region_id`` is where the matter is (usually a grid); the case waits for dispatch at
    that region's street, as live. ``complexity`` is fixed at registration (cases are
    submitted as ordinary). ``proposed_unit_id``: the unit the routing rules proposed at the
    time (``None``: ask the routing rules now). ``submitted_by_role``/``_unit``: who entered
    it (a hotline operator, a grid worker, the resident ...).
    """

    number: str
    tracking_code: str
    kind: str
    channel: str
    urgency: str
    title: str
    description: str
    category_id: int | None
    region_id: int
    submitted_at: dt.datetime
    complexity: str = Complexity.ORDINARY
    address: str = ""
    latitude: float | None = None
    longitude: float | None = None
    reporter_name: str = ""
    reporter_phone: str = ""
    is_anonymous: bool = False
    submitted_by_role: str = ""
    submitted_by_unit: str = ""
    proposed_unit_id: int | None = None
    steps: tuple[HistoricalStep, ...] = ()


def history_number(day: dt.date, sequence: int) -> str:
    """``H20260314-00042``: see the module's docstring for why the ``H``."""
    return f"{HISTORY_PREFIX}{day:%Y%m%d}-{sequence:05d}"


def history_exists() -> bool:
    return Case.objects.filter(number__startswith=HISTORY_PREFIX).exists()


# --- The clock and the routing rules, cached (shared with generators of history) -------------


@dataclass(frozen=True)
class CachedCalendar(WorkingCalendar):
    """The city's calendar, remembering each day's answer: ``chinese_calendar`` looks at
    every holiday it knows on each question, and an import asks about a day thousands of
    times."""

    known: dict[dt.date, bool] = field(default_factory=dict, compare=False, repr=False)

    def is_workday(self, day: dt.date) -> bool:
        answer = self.known.get(day)
        if answer is None:
            answer = self.known[day] = super().is_workday(day)
        return answer


class Clock:
    """Stage deadlines exactly as the services compute them (``limit_for`` on the city's
    calendar), with one ``TimeLimit`` query per (stage, category, urgency, complexity) and
    each deadline remembered, so a generator and the importer sharing a clock compute it
    once."""

    def __init__(self, calendar: WorkingCalendar | None = None) -> None:
        calendar = calendar if calendar is not None else city_calendar()
        self.calendar = CachedCalendar(overrides=calendar.overrides)
        self._with_rows: set[str] | None = None
        self._lineages: dict[int | None, tuple[str, ...]] = {}
        self._limits: dict[tuple[str, tuple[str, ...], str, str], Limit] = {}
        self._dues: dict[tuple[str, dt.datetime, int | None, str, str], dt.datetime] = {}

    def limit(
        self, stage: Stage, category: Category | None, urgency: str, complexity: str
    ) -> Limit:
        # limit_for reads the rows of the category and its ancestors: categories whose
        # lineage has the same rows get the same limit, so one query answers for all.
        if self._with_rows is None:
            self._with_rows = set(
                TimeLimit.objects.filter(category__isnull=False).values_list(
                    "category__path", flat=True
                )
            )
        ruled = _ruled_lineage(category, self._with_rows, self._lineages)
        key = (stage.value, ruled, urgency, complexity)
        found = self._limits.get(key)
        if found is None:
            probe = Case(category=category, urgency=urgency, complexity=complexity)
            found = self._limits[key] = limit_for(probe, stage)
        return found

    def due(
        self,
        stage: Stage,
        start: dt.datetime,
        category: Category | None,
        urgency: str,
        complexity: str = Complexity.ORDINARY,
    ) -> dt.datetime:
        key = (stage.value, start, category.pk if category else None, urgency, complexity)
        found = self._dues.get(key)
        if found is None:
            limit = self.limit(stage, category, urgency, complexity)
            found = self._dues[key] = limit.due(start, self.calendar)
        return found


def _ruled_lineage(
    category: Category | None, ruled: set[str], known: dict[int | None, tuple[str, ...]]
) -> tuple[str, ...]:
    """The paths of ``category`` and its ancestors that are in ``ruled``, remembered."""
    key = category.pk if category else None
    found = known.get(key)
    if found is None:
        lineage = [*category.ancestor_paths, category.path] if category else []
        found = known[key] = tuple(p for p in lineage if p in ruled)
    return found


def _path_at(region: Region, level: int) -> str:
    """The path of ``region``'s ancestor at ``level`` (the region's own, if it is not deeper)."""
    if region.level <= level:
        return str(region.path)
    return region.ancestor_paths[level - 1]


class Routes:
    """``dispatch.queries.route``, remembered per (the category's rules, the place's
    ancestor at the deepest level a rule can see).

    Why that is the same answer: ``route`` looks at the active rules of the category and
    its ancestors set at the place and its ancestors; it returns the first owner-first
    rule's unit, or the government of the place's ancestor at a locality-first rule's
    level, or else the place's district government. So two categories whose lineages have
    the same rules are routed alike, and two places are routed alike when they share their
    ancestor at the deepest level that matters: the district, the deepest region any rule
    is set at, the deepest locality level of a rule. In the demo city that is the street:
    about 15 kinds of categories times 60 streets, instead of a call per case.
    ``tests/test_imports.py`` compares it with ``route`` for every category and place.
    """

    def __init__(self) -> None:
        self._with_rules: set[str] | None = None
        self._depth: int = RegionLevel.DISTRICT
        self._lineages: dict[int | None, tuple[str, ...]] = {}
        self._units: dict[tuple[tuple[str, ...], str], Unit] = {}
        self.calls = 0

    def _load(self) -> set[str]:
        if self._with_rules is None:
            rules = RoutingRule.objects.filter(is_active=True)
            self._with_rules = set(
                rules.filter(category__isnull=False).values_list("category__path", flat=True)
            )
            levels = [
                RegionLevel.DISTRICT,
                *rules.values_list("region__level", flat=True),
                *rules.filter(principle=Principle.LOCALITY).values_list(
                    "locality_level", flat=True
                ),
            ]
            self._depth = max(levels)
        return self._with_rules

    def unit_for(self, category: Category | None, region: Region) -> Unit:
        lineage = _ruled_lineage(category, self._load(), self._lineages)
        key = (lineage, _path_at(region, self._depth))
        unit = self._units.get(key)
        if unit is None:
            self.calls += 1
            unit = self._units[key] = route(category.path if category else None, region).unit
        return unit


# --- Rows and how they are written -----------------------------------------------------------


class _Row:
    """The values of one row to insert, as attributes named like the model's ``attname``s."""

    def __init__(self, values: dict[str, Any]) -> None:
        self.__dict__.update(values)


AUTO_FIELDS = (models.AutoField, models.BigAutoField, models.SmallAutoField)
_SIMPLE = (
    models.CharField,
    models.TextField,
    models.IntegerField,
    models.BooleanField,
    models.FloatField,
)


class _Writer:
    """``INSERT`` of many rows of one model with ``executemany``; each value prepared by its
    field as the ORM would (``get_db_prep_save``), plain values passed as they are."""

    def __init__(self, model: type[models.Model]) -> None:
        # The connection itself, not the thread-local proxy: it is asked per value.
        self.connection = connections[DEFAULT_DB_ALIAS]
        self.fields = [
            f for f in model._meta.local_concrete_fields if not isinstance(f, AUTO_FIELDS)
        ]
        quote = self.connection.ops.quote_name
        columns = ", ".join(quote(cast(str, f.column)) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        table = quote(model._meta.db_table)
        # Names from the model's own meta, quoted; the values go as parameters.
        self.sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"  # noqa: S608
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.prepare: list[tuple[str, Callable[[Any], Any] | None]] = []
        for f in self.fields:
            target = f.target_field if isinstance(f, models.ForeignKey) else f
            # Text, numbers and integer keys go to the driver as they are.
            simple = isinstance(target, _SIMPLE)
            self.prepare.append((f.attname, None if simple else self._preparer(f)))

    def _preparer(self, f: models.Field[Any, Any]) -> Callable[[Any], Any]:
        db = self.connection
        if isinstance(f, models.DateTimeField):
            # What get_db_prep_save ends in for an aware datetime (all of ours are).
            return db.ops.adapt_datetimefield_value
        if isinstance(f, models.JSONField):
            encoder = f.encoder

            def json(value: Any) -> Any:
                return db.ops.adapt_json_value(value, encoder)

            return json
        known: dict[uuid.UUID, Any] = {}  # a case's id recurs in each of its events

        def prepare(value: Any) -> Any:
            if isinstance(value, uuid.UUID):
                if value not in known:
                    known[value] = f.get_db_prep_save(value, db)
                return known[value]
            return f.get_db_prep_save(value, db)

        return prepare

    def row(self, values: dict[str, Any]) -> _Row:
        return _Row({**self.defaults, **values})

    def params(self, row: _Row) -> tuple[Any, ...]:
        values = []
        data = row.__dict__
        for attname, prepare in self.prepare:
            value = data[attname]
            if value is None:
                pass
            elif prepare is not None:
                value = prepare(value)
            elif isinstance(value, Enum):
                value = value.value
            values.append(value)
        return tuple(values)

    def write(self, rows: list[_Row]) -> None:
        if rows:
            with self.connection.cursor() as cursor:
                cursor.executemany(self.sql, [self.params(row) for row in rows])


# --- The replay ------------------------------------------------------------------------------


@dataclass
class _Context:
    """Everything the replay looks up, read once per import."""

    now: dt.datetime
    actor_id: Any
    clock: Clock
    routes: Routes
    rules: dict[str, str]
    regions: dict[int, Region]
    region_by_path: dict[str, Region]
    categories: dict[int, Category]
    units: dict[int, Unit]
    cases: _Writer
    events: _Writer
    assignments: _Writer
    # Names of the unit that acts for a region: its command centre, committee, government.
    centre_of: dict[int, str] = field(default_factory=dict)
    committee_of: dict[int, str] = field(default_factory=dict)
    government_of: dict[int, str] = field(default_factory=dict)

    @classmethod
    def load(
        cls, now: dt.datetime, actor: AnyUser, clock: Clock | None, routes: Routes | None
    ) -> _Context:
        regions = {r.pk: r for r in Region.objects.defer("boundary")}
        units = {u.pk: u for u in Unit.objects.only("id", "name", "kind", "region", "is_active")}
        context = cls(
            now=now,
            actor_id=actor.pk,
            clock=clock or Clock(),
            routes=routes or Routes(),
            rules={r.stage: r.response for r in EscalationRule.objects.filter(is_active=True)},
            regions=regions,
            region_by_path={r.path: r for r in regions.values()},
            categories={c.pk: c for c in Category.objects.all()},
            units=units,
            cases=_Writer(Case),
            events=_Writer(CaseEvent),
            assignments=_Writer(Assignment),
        )
        desks = {
            UnitKind.COMMAND_CENTRE: context.centre_of,
            UnitKind.COMMUNITY_COMMITTEE: context.committee_of,
            UnitKind.GOVERNMENT: context.government_of,
        }
        for unit in sorted(units.values(), key=lambda u: u.pk):
            target = desks.get(UnitKind(unit.kind))
            if target is not None and unit.is_active:
                target.setdefault(unit.region_id, unit.name)
        return context

    def ancestor(self, region: Region, level: int) -> Region | None:
        if region.level < level:
            return None
        return self.region_by_path.get(_path_at(region, level))


class _Replay:
    """One case taken through its steps as the services would have; collects its events."""

    def __init__(self, spec: HistoricalCase, ctx: _Context) -> None:
        self.spec = spec
        self.ctx = ctx
        region = ctx.regions.get(spec.region_id)
        if region is None:
            raise InvalidHistory(f"{spec.number}: unknown region {spec.region_id}")
        self.region = region
        category = ctx.categories.get(spec.category_id) if spec.category_id else None
        if spec.category_id and category is None:
            raise InvalidHistory(f"{spec.number}: unknown category {spec.category_id}")
        self.category = category
        self.dispatch_region = ctx.region_by_path[_path_at(region, RegionLevel.STREET)]
        proposed = spec.proposed_unit_id
        if proposed is None and category is not None:
            proposed = ctx.routes.unit_for(category, region).pk
        if proposed is not None and proposed not in ctx.units:
            raise InvalidHistory(f"{spec.number}: unknown unit {proposed}")
        if spec.submitted_at.tzinfo is None or any(s.at.tzinfo is None for s in spec.steps):
            raise InvalidHistory(f"{spec.number}: times must be aware (have a time zone)")
        case_id = uuid.uuid4()
        # In UTC like the services' timezone.now(): warnings record due_at.isoformat().
        submitted_at = spec.submitted_at.astimezone(dt.UTC)
        # Typed Any: a bag of the Case's columns (see _Writer), not a model instance.
        self.case: Any = ctx.cases.row(
            {
                "id": case_id,
                "number": spec.number,
                "tracking_code": spec.tracking_code,
                "kind": spec.kind,
                "channel": spec.channel,
                "urgency": spec.urgency,
                "complexity": Complexity.ORDINARY.value,
                "title": spec.title[:200],
                "description": spec.description[:5000],
                "category_id": category.pk if category else None,
                "region_id": region.pk,
                "region_path": region.path,
                "address": spec.address[:200],
                "latitude": spec.latitude,
                "longitude": spec.longitude,
                "reporter_name": spec.reporter_name[:60],
                "reporter_phone": spec.reporter_phone[:30],
                "is_anonymous": spec.is_anonymous,
                "state": State.SUBMITTED.value,
                "version": 1,
                "dispatch_region_id": self.dispatch_region.pk,
                "proposed_unit_id": proposed,
                "submitted_at": submitted_at,
                "updated_at": submitted_at,
            }
        )
        self.stream = f"case:{case_id}"
        self.events: list[Any] = []
        self.assignments: list[Any] = []
        self.time = submitted_at

    def fail(self, problem: str) -> InvalidHistory:
        return InvalidHistory(f"{self.spec.number}: {problem}")

    # -- the chain (core.timeline.append_event) --

    def _emit(
        self,
        action: str,
        at: dt.datetime,
        before: str,
        after: str,
        *,
        role: str,
        unit_name: str,
        reason: str = "",
        data: dict[str, Any] | None = None,
    ) -> None:
        case = self.case
        event: Any = self.ctx.events.row(
            {
                "stream": self.stream,
                "seq": len(self.events) + 1,
                "prev_hash": self.events[-1].hash if self.events else GENESIS,
                "occurred_at": at,
                "actor_id": self.ctx.actor_id,
                "actor_role": role,
                "actor_unit_name": unit_name,
                "action": action,
                "reason": reason,
                "data": data or {},
                "case_id": case.id,
                "from_state": before,
                "to_state": after,
                "unit_name": self.ctx.units[case.unit_id].name if case.unit_id else "",
            }
        )
        # event_hash reads attributes only: the row has every one a CaseEvent would have.
        event.hash = event_hash(cast(ChainedEvent, event), CaseEvent.hashed_fields)
        self.events.append(event)
        if len(self.events) > 1:  # every action after submit bumps the version, as _act does
            case.version += 1
        case.state = after
        case.updated_at = at

    # -- the clock (services._start_clock and deadlines.sweep_deadlines) --

    def _due(self, stage: Stage, start: dt.datetime) -> dt.datetime:
        c = self.case
        return self.ctx.clock.due(stage, start, self.category, c.urgency, c.complexity)

    def _start_clock(
        self, stage: Stage | None, now: dt.datetime, due: dt.datetime | None = None
    ) -> None:
        case = self.case
        case.warning = Warning.NONE.value
        if stage is None:
            case.stage, case.due_at, case.yellow_at = "", None, None
            return
        case.stage = stage.value
        case.due_at = due if due is not None else self._due(stage, now)
        case.yellow_at = yellow_point(now, case.due_at) if case.due_at > now else case.due_at

    def sweep(self, until: dt.datetime, *, inclusive: bool = False) -> None:
        """Write the warnings (and the rules' responses) whose time came before ``until``."""
        case = self.case
        for _round in range(10):  # escalation restarts the clock; the city ends the chain
            if case.state not in OPEN or not case.stage or case.due_at is None:
                return
            due, yellow = case.due_at, case.yellow_at
            if case.warning == Warning.NONE and yellow < due:
                if yellow > until or (yellow == until and not inclusive):
                    return
                self._warn(Warning.YELLOW, yellow)
            if case.warning == Warning.RED or due > until or (due == until and not inclusive):
                return
            stage = case.stage
            self._warn(Warning.RED, due)
            response = self.ctx.rules.get(stage)
            try:
                if response == EscalationRule.Response.ESCALATE and self.dispatch_region.parent_id:
                    self._escalate(due, _("Overdue: escalated by rule."), SYSTEM_ROLE, "")
                elif response in {
                    EscalationRule.Response.SUPERVISE,
                    EscalationRule.Response.ESCALATE,
                }:
                    self._supervise(due, _("Overdue: supervised by rule. Act on it now."))
                    return
                else:
                    return
            except IllegalTransition:
                return

    def _warn(self, level: Warning, at: dt.datetime) -> None:
        case = self.case
        state = case.state
        data = {
            "level": level.value,
            "stage": case.stage,
            "due_at": case.due_at.isoformat() if case.due_at else None,
        }
        case.warning = level.value
        after = next_state(state, Action.WARN).value
        self._emit(Action.WARN.value, at, state, after, role=SYSTEM_ROLE, unit_name="", data=data)

    def _escalate(self, at: dt.datetime, reason: str, role: str, unit_name: str) -> None:
        case = self.case
        before = case.state
        after = next_state(before, Action.ESCALATE).value
        current = self.dispatch_region
        if current.parent_id is None:
            raise self.fail("escalated above the city")
        higher = self.ctx.regions[current.parent_id]
        if before == State.DISPATCHED:
            self._answer(Assignment.Outcome.WITHDRAWN, at)
        self.dispatch_region = higher
        case.dispatch_region_id = higher.pk
        case.unit_id = None
        case.escalation_count += 1
        self._start_clock(Stage.DISPATCH, at)
        data = {"from": current.code, "to": higher.code}
        self._emit(
            Action.ESCALATE.value,
            at,
            before,
            after,
            role=role,
            unit_name=unit_name,
            reason=reason,
            data=data,
        )

    def _answer(self, outcome: str, at: dt.datetime) -> None:
        """services._answer_assignment: how the unit answered its pending dispatch."""
        pending = [a for a in self.assignments if a.outcome == Assignment.Outcome.PENDING]
        if not pending:
            return
        assignment = pending[-1]
        in_time = at <= assignment.sign_due_at
        assignment.outcome = outcome
        assignment.responded_at = at
        if outcome == Assignment.Outcome.WITHDRAWN:
            assignment.is_on_time = None if in_time else False
        else:
            assignment.is_on_time = in_time
        assignment.updated_at = at

    def _supervise(
        self, at: dt.datetime, note: str, role: str = SYSTEM_ROLE, unit_name: str = ""
    ) -> None:
        case = self.case
        before = case.state
        after = next_state(before, Action.SUPERVISE).value
        case.is_supervised = True
        self._emit(
            Action.SUPERVISE.value, at, before, after, role=role, unit_name=unit_name, reason=note
        )

    def _reopen(
        self, at: dt.datetime, reason: str, role: str, unit_name: str, before: str, after: str
    ) -> None:
        case = self.case
        due = self._due(Stage.FEEDBACK, at)
        case.rework_count += 1
        case.closed_at = None
        case.feedback_due_at = due
        self._start_clock(Stage.FEEDBACK, at, due)
        self._emit(
            Action.REOPEN.value, at, before, after, role=role, unit_name=unit_name, reason=reason
        )

    # -- the steps (services.*_case) --

    def submit(self) -> None:
        spec = self.spec
        self._start_clock(Stage.DISPATCH, self.time)
        self._emit(
            SUBMIT,
            self.time,
            "",
            State.SUBMITTED.value,
            role=spec.submitted_by_role,
            unit_name=spec.submitted_by_unit,
            data={"channel": spec.channel, "kind": spec.kind, "imported": True},
        )

    def _snapshot(self, step: HistoricalStep) -> tuple[str, str]:
        """The capacity the person acted in: the step's own, or the desk of the action."""
        action = step.action
        case = self.case
        if action in DISPATCH_DESK:
            role, name = "dispatcher", self.ctx.centre_of.get(self.dispatch_region.pk, "")
        elif action in UNIT_DESK:
            role = "handler"
            name = self.ctx.units[case.unit_id].name if case.unit_id else ""
        elif action in GRID_DESK:
            community = self.ctx.ancestor(self.region, RegionLevel.COMMUNITY)
            role = "grid_worker"
            name = self.ctx.committee_of.get(community.pk, "") if community else ""
        else:  # supervision by a leader of the district
            district = self.ctx.ancestor(self.region, RegionLevel.DISTRICT)
            role = "leader"
            name = self.ctx.government_of.get(district.pk, "") if district else ""
        return (
            step.role if step.role is not None else role,
            step.unit_name if step.unit_name is not None else name,
        )

    def step(self, step: HistoricalStep) -> None:
        if step.action not in STEP_ACTIONS:
            raise self.fail(f"{step.action} cannot be imported")
        at = step.at.astimezone(dt.UTC)
        if at < self.time:
            raise self.fail(f"{step.action} at {at} is out of order")
        if at > self.ctx.now:
            raise self.fail(f"{step.action} at {at} is in the future")
        self.sweep(at)
        self.time = at
        case = self.case
        action = step.action
        before = case.state
        try:
            after = next_state(before, action).value
        except IllegalTransition as exc:
            raise self.fail(str(exc)) from None
        role, unit_name = self._snapshot(step)
        reason = step.reason.strip()
        data: dict[str, Any] = {}

        if action == Action.REGISTER:
            if self.category is None:
                raise self.fail("registered without a category")
            case.registered_at = at
            case.complexity = self.spec.complexity
            case.feedback_due_at = self._due(Stage.FEEDBACK, at)
            data = {"category": self.category.path, "urgency": case.urgency}
        elif action == Action.REJECT:
            if not reason:
                raise self.fail("a rejection needs a reason")
            case.closed_at = at
            self._start_clock(None, at)
        elif action == Action.DISPATCH:
            proposed = case.proposed_unit_id
            if proposed is None:
                proposed = case.proposed_unit_id = self.ctx.routes.unit_for(
                    self.category, self.region
                ).pk
            chosen = step.unit_id or proposed
            if chosen not in self.ctx.units:
                raise self.fail(f"unknown unit {chosen}")
            override = chosen != proposed
            if override and not reason:
                raise self.fail("an override needs a reason")
            case.unit_id = chosen
            case.dispatched_at = at
            data = {"unit": chosen, "proposed_unit": proposed, "override": override}
            self._start_clock(Stage.SIGN, at)
            self.assignments.append(
                self.ctx.assignments.row(
                    {
                        "case_id": case.id,
                        "unit_id": chosen,
                        "region_path": case.region_path,
                        "dispatched_at": at,
                        "sign_due_at": case.due_at,
                        "updated_at": at,
                    }
                )
            )
        elif action == Action.RETURN:
            if not reason:
                raise self.fail("a return needs a reason")
            data = {"returned_by": self.ctx.units[case.unit_id].name if case.unit_id else ""}
            self._answer(Assignment.Outcome.RETURNED, at)
            case.unit_id = None
            case.return_count += 1
            self._start_clock(Stage.DISPATCH, at)
        elif action == Action.SIGN_FOR:
            self._answer(Assignment.Outcome.SIGNED, at)
            case.signed_at = at
            if case.feedback_due_at is None:
                case.feedback_due_at = self._due(Stage.FEEDBACK, at)
            self._start_clock(Stage.FEEDBACK, at, case.feedback_due_at)
        elif action == Action.REPLY:
            if len(step.text.strip()) < 5:
                raise self.fail("a reply needs its text")
            late = case.feedback_due_at is not None and at > case.feedback_due_at
            case.reply = step.text.strip()[:5000]
            case.replied_at = at
            case.is_replied_on_time = not late
            data = {"on_time": not late}
            self._start_clock(None, at)
        elif action == Action.VERIFY:
            data = {"resolved": True}
        elif action == Action.FAIL_VERIFICATION:
            if not reason:
                raise self.fail("say what is still wrong")
            case.rework_count += 1
            data = {"resolved": False}
            due = max(case.feedback_due_at or at, at + dt.timedelta(days=1))
            self._start_clock(Stage.FEEDBACK, at, due)
        elif action == Action.CLOSE:
            case.closed_at = at
            self._start_clock(None, at)
        elif action == Action.FOLLOW_UP:
            if (
                step.resolution not in Resolution.values
                or step.satisfaction not in Satisfaction.values
            ):
                raise self.fail("a follow-up needs its answers")
            case.resolution = step.resolution
            case.satisfaction = step.satisfaction
            case.rated_at = at
            data = {"resolution": step.resolution, "satisfaction": step.satisfaction}
        elif action == Action.REOPEN:
            if not reason:
                raise self.fail("say why the case is handled again")
            self._reopen(at, reason, role, unit_name, before, after)
            return
        elif action == Action.ESCALATE:
            if not reason:
                raise self.fail("say why the case needs a higher level")
            self._escalate(at, reason, role, unit_name)
            return
        elif action == Action.SUPERVISE:
            if not reason:
                raise self.fail("say what the supervisor expects")
            self._supervise(at, reason, role, unit_name)
            return

        self._emit(
            action, at, before, after, role=role, unit_name=unit_name, reason=reason, data=data
        )
        if action == Action.FOLLOW_UP and step.resolution == Resolution.NOT_RESOLVED:
            reopened = next_state(after, Action.REOPEN).value
            comment = reason or _("Not resolved, says the person.")
            self._reopen(at, comment, role, unit_name, after, reopened)

    def run(self) -> _Replay:
        self.submit()
        for step in self.spec.steps:
            self.step(step)
        self.sweep(self.ctx.now, inclusive=True)
        return self


# --- The service -----------------------------------------------------------------------------


@dataclass
class ImportReport:
    cases: int = 0
    events: int = 0


def import_historical_cases(
    specs: Iterable[HistoricalCase],
    *,
    actor: AnyUser,
    now: dt.datetime | None = None,
    batch_size: int = 2000,
    clock: Clock | None = None,
    routes: Routes | None = None,
    report: ImportReport | None = None,
) -> int:
    """Create the cases described by ``specs`` with their complete timelines; returns how
    many were created (0 when historical cases exist already: see the module's docstring).

    Only a superuser (the system account) may import. ``now``: the moment open cases are
    swept to (default: now); no step may lie after it. A spec that the workflow does not
    allow raises ``InvalidHistory`` and nothing of its batch is written. ``clock`` and
    ``routes``: caches shared with whoever made the specs.
    """
    if not (actor.is_authenticated and actor.is_superuser):
        raise PermissionDenied(_("Only a superuser may import historical cases."))
    if history_exists():
        return 0
    ctx = _Context.load(now or timezone.now(), actor, clock, routes)
    report = report if report is not None else ImportReport()
    paths: set[str] = set()
    batch: list[HistoricalCase] = []

    def flush() -> None:
        replays = [_Replay(spec, ctx).run() for spec in batch]
        with transaction.atomic():
            ctx.cases.write([r.case for r in replays])
            ctx.events.write([event for r in replays for event in r.events])
            ctx.assignments.write([a for r in replays for a in r.assignments])
        report.cases += len(replays)
        report.events += sum(len(r.events) for r in replays)
        paths.update(r.case.region_path for r in replays)
        batch.clear()

    for spec in specs:
        if not spec.number.startswith(HISTORY_PREFIX):
            raise InvalidHistory(f"{spec.number}: historical numbers start with {HISTORY_PREFIX}")
        batch.append(spec)
        if len(batch) >= batch_size:
            flush()
    if batch:
        flush()
    if report.cases:
        with transaction.atomic():
            record_audit(
                subject_type="import",
                subject_id="historical-cases",
                subject_label="historical cases",
                region_path=_common_root(paths),
                action="import_historical_cases",
                actor=actor,
                actor_role=SYSTEM_ROLE,
                data={"cases": report.cases, "events": report.events},
            )
    return report.cases


def _common_root(paths: Iterable[str]) -> str:
    """The deepest region path above all ``paths`` ("a/b/" and "a/c/" > "a/")."""
    split = [path.rstrip("/").split("/") for path in paths]
    common: list[str] = []
    for codes in zip(*split, strict=False):
        if len(set(codes)) > 1:
            break
        common.append(codes[0])
    return "".join(f"{code}/" for code in common)
