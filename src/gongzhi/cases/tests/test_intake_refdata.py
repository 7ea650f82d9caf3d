"""Intake reads its reference data from memory (``core.refdata``) and still sees every
change at once: through the services, through the admin's or another process's plain writes
(``QuerySet.update``: no Python code of this process hears of them), and in a fresh process.
Also: how many queries a submission through /api/v1/ takes, and that its transaction only
writes."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases import services
from gongzhi.cases.choices import Stage
from gongzhi.cases.models import Case, Category, TimeLimit
from gongzhi.cases.services import NewCase
from gongzhi.cases.tests.test_loop import GREENING
from gongzhi.core import refdata
from gongzhi.core.models import CalendarDay
from gongzhi.core.working_days import LOCAL, DurationUnit
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.dispatch.choices import Principle
from gongzhi.dispatch.models import RoutingRule
from gongzhi.dispatch.services import set_routing_rule
from gongzhi.territory.models import Region, Unit
from gongzhi.territory.services import update_region, update_unit
from gongzhi.triage import classifier
from gongzhi.triage import services as triage_services
from gongzhi.triage.dataset import parse_labelled
from gongzhi.triage.recipes import DEFAULT, RECIPES
from gongzhi.triage.tests.synthetic import labelled, to_csv

MONDAY = dt.datetime(2031, 3, 3, 10, 0, tzinfo=LOCAL)  # 2031: weekdays are working days
BUS = "东风路的公交车站台太挤，线路要加密，司机开得太快"


def submitted(world: World, *, category: str | None = GREENING, **fields: Any) -> Case:
    new = NewCase(
        title=fields.pop("title", "绿化带杂草丛生"),
        description=fields.pop("description", "小区门口绿化带很久没人修剪，杂草有半人高。"),
        region=fields.pop("region", world.grid_1),
        category=Category.objects.get(path=category) if category else None,
        **fields,
    )
    return services.submit_case(new, actor=AnonymousUser(), submitted_at=MONDAY)


def resident_client() -> Client:
    token = issue_personal_token(None, username="resident", password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def post_case(client: Client, world: World, **fields: Any) -> Any:
    body = {
        "title": "绿化带杂草丛生",
        "description": "小区门口绿化带很久没人修剪，杂草有半人高。",
        "kind": "report",
        "channel": "mobile",
        "latitude": world.grid_1.centre_lat,
        "longitude": world.grid_1.centre_lng,
        **fields,
    }
    return client.post("/api/v1/cases", json.dumps(body), content_type="application/json")


# --- Each kind of reference data --------------------------------------------------------------


def test_a_routing_rule_is_seen_by_the_next_submission(world: World) -> None:
    street_office = submitted(world).proposed_unit
    assert street_office is not None
    assert (street_office.kind, street_office.region) == ("government", world.street_1)
    rule = set_routing_rule(
        category=Category.objects.get(path=GREENING),
        region=world.city,
        principle=Principle.OWNER,
        unit=world.command_centre,
    )
    assert submitted(world).proposed_unit == world.command_centre
    RoutingRule.objects.filter(pk=rule.pk).update(is_active=False)  # another process
    assert submitted(world).proposed_unit == street_office


def test_a_unit_switched_off_is_seen_by_the_next_submission(world: World) -> None:
    set_routing_rule(
        category=Category.objects.get(path=GREENING),
        region=world.city,
        principle=Principle.OWNER,
        unit=world.committee_1,
    )
    assert submitted(world).proposed_unit == world.committee_1
    update_unit(world.committee_1, actor=world.persona("city_admin"), is_active=False)
    assert submitted(world).proposed_unit.kind == "government"
    Unit.objects.filter(pk=world.committee_1.pk).update(is_active=True)  # another process
    assert submitted(world).proposed_unit == world.committee_1


def test_a_boundary_change_is_seen_by_the_next_submission(world: World) -> None:
    client = resident_client()
    first = post_case(client, world)
    assert Case.objects.get(pk=first.json()["id"]).region == world.grid_1
    update_region(world.grid_1, actor=world.persona("city_admin"), boundary=None)
    second = post_case(client, world)
    assert Case.objects.get(pk=second.json()["id"]).region == world.community_1
    Region.objects.filter(pk=world.grid_1.pk).update(boundary=world.grid_1.boundary)
    third = post_case(client, world)
    assert Case.objects.get(pk=third.json()["id"]).region == world.grid_1


def test_a_time_limit_is_seen_by_the_next_submission(world: World) -> None:
    assert submitted(world).due_at == MONDAY + dt.timedelta(minutes=30)
    services.set_time_limit(stage=Stage.DISPATCH, amount=45, unit=DurationUnit.MINUTES)
    assert submitted(world).due_at == MONDAY + dt.timedelta(minutes=45)
    TimeLimit.objects.filter(stage=Stage.DISPATCH, category=None, urgency="").update(amount=50)
    assert submitted(world).due_at == MONDAY + dt.timedelta(minutes=50)


def test_a_calendar_day_is_seen_by_the_next_submission(world: World) -> None:
    services.set_time_limit(stage=Stage.DISPATCH, amount=1, unit=DurationUnit.WORKING_DAYS)
    assert submitted(world).due_at == MONDAY + dt.timedelta(days=1)
    CalendarDay.objects.create(date=dt.date(2031, 3, 4), is_workday=False, name="地方假日")
    assert submitted(world).due_at == MONDAY + dt.timedelta(days=2)
    CalendarDay.objects.filter(date=dt.date(2031, 3, 4)).update(is_workday=True)
    assert submitted(world).due_at == MONDAY + dt.timedelta(days=1)


def test_a_category_switched_off_is_seen_by_the_next_proposal(world: World, settings: Any) -> None:
    classifier.clear_cache()
    data = parse_labelled(to_csv(labelled(per_label=12)), name="tiny.csv")
    first = triage_services.train_model(data, recipe=RECIPES[DEFAULT], cv_repeats=0)
    triage_services.activate_model(first.version)
    settings.GONGZHI_TRIAGE_THRESHOLD = 0.0
    case = submitted(world, category=None, title="公交站台太挤", description=BUS)
    assert (case.category.path, case.proposal_model_version) == ("交通运输", first.version)
    Category.objects.filter(path="交通运输").update(is_active=False)  # another process
    case = submitted(world, category=None, title="公交站台太挤", description=BUS)
    assert case.category.path != "交通运输"
    assert "交通运输" not in [path for path, _p in case.proposal_top3]
    Category.objects.filter(path="交通运输").update(is_active=True)
    second = triage_services.train_model(data, recipe=RECIPES[DEFAULT], cv_repeats=0)
    triage_services.activate_model(second.version)
    case = submitted(world, category=None, title="公交站台太挤", description=BUS)
    assert (case.category.path, case.proposal_model_version) == ("交通运输", second.version)
    classifier.clear_cache()


def test_a_fresh_process_reads_everything_again(world: World) -> None:
    before = submitted(world)
    refdata.forget()
    after = submitted(world)
    assert (after.proposed_unit, after.dispatch_region, after.due_at) == (
        before.proposed_unit,
        before.dispatch_region,
        before.due_at,
    )


# --- Queries -----------------------------------------------------------------------------------


def test_an_api_submission_takes_eight_statements_and_reads_no_reference_data(
    world: World,
) -> None:
    client = resident_client()
    assert post_case(client, world).status_code == 201  # caches filled, the key's use noted
    with CaptureQueriesContext(connection) as captured:
        response = post_case(client, world)
    assert response.status_code == 201
    statements = [q["sql"] for q in captured.captured_queries]
    # The bearer token; the person's memberships; the reference data version; then the
    # transaction (a savepoint inside the test's): the day's number, the case, its first
    # event (a new timeline: no previous event to read, no savepoint around the insert).
    assert [s.split()[0] for s in statements] == [
        "SELECT",  # accounts_apikey
        "SELECT",  # accounts_membership
        "SELECT",  # core_refdata_version
        "SAVEPOINT",
        "UPDATE",  # cases_casenumbercounter
        "INSERT",  # cases_case
        "INSERT",  # cases_caseevent
        "RELEASE",
    ]
    assert refdata.TABLE in statements[2]
    assert not [s for s in statements[2:] for t in refdata.watched_tables() if f'"{t}"' in s]
