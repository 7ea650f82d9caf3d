"""Defining indicator systems on the pages: the new-system form, adding, editing and removing
indicators of a draft (services, pages and the API's PATCH / DELETE)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import Client
from django.utils import translation

from gongzhi.accounts.services import issue_personal_token
from gongzhi.core.errors import Conflict, DomainError, InvalidInput, PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import assessments
from gongzhi.evaluation.models import Indicator, IndicatorSystem
from gongzhi.evaluation.tests.assessment_fixtures import active_system, draft_system, indicator


@pytest.fixture(autouse=True)
def _english(settings):
    """These tests read messages in English (the msgids); the site itself speaks Chinese."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


def rows(system: IndicatorSystem) -> list[tuple[str, str, str, str, str | None, dict[str, Any]]]:
    """Every indicator of the system as (code, name, points, source, group, rule)."""
    return [
        (i.code, i.name, str(i.weight), i.source, i.parent.code if i.parent else None, i.rule)
        for i in Indicator.objects.filter(system=system).select_related("parent").order_by("code")
    ]


def edit(target: Indicator, actor: Any, **changes: Any) -> Indicator:
    """``update_indicator`` with the indicator's own fields, some changed."""
    fields: dict[str, Any] = {
        "code": target.code,
        "name": target.name,
        "weight": target.weight,
        "source": target.source,
        "figure": target.figure,
        "rule": target.rule,
        "higher_is_better": target.higher_is_better,
        "parent": target.parent,
        "criteria": target.criteria,
        **changes,
    }
    return assessments.update_indicator(target, actor=actor, **fields)


def stream(system: IndicatorSystem) -> list[tuple[str, dict[str, Any]]]:
    events = AuditEvent.objects.filter(stream=f"indicator_system:{system.pk}").order_by("seq")
    return [(e.action, e.data) for e in events]


# --- services ------------------------------------------------------------------------------------


def test_editing_an_indicator_replaces_its_fields_and_keeps_the_previous_ones(world: World):
    system = draft_system(world)
    admin = world.persona("city_admin")
    target = indicator(system, "1.1")
    changed = edit(
        target,
        admin,
        name="按时响应率",
        rule={"kind": "linear", "floor": "0.5", "target": "0.95"},
        criteria="按月统计",
    )
    changed.refresh_from_db()
    assert (changed.name, changed.criteria, changed.rule, str(changed.weight)) == (
        "按时响应率",
        "按月统计",
        {"kind": "linear", "floor": "0.5", "target": "0.95"},
        "20.00",
    )
    action, data = stream(system)[-1]
    assert action == "indicator_system.indicator_updated"
    assert data == {
        "code": "1.1",
        "name": "按时响应率",
        "weight": "20.00",
        "source": "computed",
        "figure": "response_rate",
        "rule": {"kind": "linear", "floor": "0.5", "target": "0.95"},
        "higher_is_better": True,
        "parent": "1",
        "previous": {
            "code": "1.1",
            "name": "响应率",
            "weight": "20.00",
            "source": "computed",
            "figure": "response_rate",
            "rule": {"kind": "linear", "floor": "0.40", "target": "0.90"},
            "higher_is_better": True,
            "parent": "1",
        },
    }


def test_an_indicator_moves_out_of_its_group_and_the_structure_check_sees_it(world: World):
    system = draft_system(world)
    admin = world.persona("city_admin")
    edit(indicator(system, "1.3"), admin, parent=None, code="4")
    assert [(r[0], r[4]) for r in rows(system)] == [
        ("1", None),
        ("1.1", "1"),
        ("1.2", "1"),
        ("2", None),
        ("3", None),
        ("4", None),
    ]
    # The group's 60 points are no longer the sum of its indicators' 40: activation refuses.
    with pytest.raises(InvalidInput) as caught:
        assessments.activate_system(system, actor=admin)
    assert caught.value.code == "group_weight"


@pytest.mark.parametrize(
    ("code", "changes", "error", "error_code", "message"),
    [
        (
            "1.1",
            {"code": "1.2"},
            Conflict,
            "duplicate_code",
            "This system has an indicator with that code already.",
        ),
        (
            "1",
            {"source": "entered", "rule": {"kind": "deduction", "per_event": "5"}},
            Conflict,
            "group_not_empty",
            "The group 1 holds indicators: it stays a group.",
        ),
        (
            "1",
            {"parent": "self"},
            InvalidInput,
            "invalid_input",
            "The group must be a group of this system.",
        ),
        (
            "1.1",
            {"parent": "self"},
            InvalidInput,
            "invalid_input",
            "The group must be a group of this system.",
        ),
        (
            "1.1",
            {"rule": {"kind": "linear", "floor": "0.9", "target": "0.4"}},
            InvalidInput,
            "invalid_input",
            "When higher is better the target lies above the floor; when lower is better, "
            "below it.",
        ),
        ("1.1", {"weight": "0"}, InvalidInput, "invalid_input", None),
        (
            "1.1",
            {"weight": "12.345"},
            InvalidInput,
            "invalid_input",
            "Points may have at most 2 decimal places.",
        ),
        ("2", {"name": " "}, InvalidInput, "invalid_input", "Fill in the name."),
    ],
)
def test_editing_refuses_what_adding_refuses(
    world: World,
    code: str,
    changes: dict[str, Any],
    error: type[DomainError],
    error_code: str,
    message: Any,
):
    system = draft_system(world)
    target = indicator(system, code)
    if changes.get("parent") == "self":
        changes["parent"] = target
    before, audit = rows(system), AuditEvent.objects.count()
    with pytest.raises(error) as caught:
        edit(target, world.persona("city_admin"), **changes)
    assert caught.value.code == error_code
    if message is not None:
        assert caught.value.message == message
    assert (rows(system), AuditEvent.objects.count()) == (before, audit)


def test_only_a_draft_is_edited_and_only_by_its_managers(world: World):
    draft = draft_system(world, name="草稿")
    with pytest.raises(PermissionDenied) as denied:
        edit(indicator(draft, "2"), world.persona("assessor"), name="改")
    assert denied.value.message == "You may not manage this indicator system."
    with pytest.raises(PermissionDenied):
        assessments.remove_indicator(indicator(draft, "2"), actor=world.persona("district_leader"))
    active = active_system(world)
    before = rows(active)
    with pytest.raises(Conflict) as caught:
        edit(indicator(active, "2"), world.persona("city_admin"), name="改")
    assert (caught.value.code, caught.value.message) == (
        "wrong_state",
        "This cannot be done while the indicator system is Being assessed.",
    )
    with pytest.raises(Conflict):
        assessments.remove_indicator(indicator(active, "3"), actor=world.persona("city_admin"))
    assert rows(active) == before


def test_removing_an_indicator_is_audited_and_a_group_goes_only_when_empty(world: World):
    system = draft_system(world)
    admin = world.persona("city_admin")
    assessments.remove_indicator(indicator(system, "3"), actor=admin)
    assert [r[0] for r in rows(system)] == ["1", "1.1", "1.2", "1.3", "2"]
    assert stream(system)[-1] == (
        "indicator_system.indicator_removed",
        {
            "code": "3",
            "name": "重大事件",
            "weight": "10.00",
            "source": "entered",
            "figure": "",
            "rule": {"kind": "deduction", "per_event": "5"},
            "higher_is_better": False,
            "parent": None,
        },
    )
    with pytest.raises(Conflict) as caught:
        assessments.remove_indicator(indicator(system, "1"), actor=admin)
    assert (caught.value.code, caught.value.message) == (
        "group_not_empty",
        "The group 1 holds indicators: remove or move them out of it first.",
    )
    for code in ("1.1", "1.2", "1.3", "1"):
        assessments.remove_indicator(indicator(system, code), actor=admin)
    assert [r[0] for r in rows(system)] == ["2"]


# --- pages ---------------------------------------------------------------------------------------


SYSTEM_FORM = {
    "name": "2027年度考评",
    "kind": "annual",
    "first_month": "2027-01",
    "last_month": "2027-12",
    "subject_kind": "region",
    "subject_level": "2",
    "subject_unit_kind": "",
    "description": "全年考评。",
}


def test_the_list_offers_the_new_system_form_to_those_who_may_define_one(world: World):
    admin = client_for("city_admin").get("/evaluation/systems/")
    assessor = client_for("assessor").get("/evaluation/systems/")
    assert 'data-testid="new-system"' in admin.content.decode()
    assert 'data-testid="new-system"' not in assessor.content.decode()
    assert client_for("assessor").get("/evaluation/systems/new/").status_code == 403


def test_a_system_is_created_on_the_page(world: World):
    client = client_for("city_admin")
    response = client.post("/evaluation/systems/new/", {**SYSTEM_FORM, "region": world.city.pk})
    system = IndicatorSystem.objects.get(name="2027年度考评")
    assert response.status_code == 302
    assert response["Location"] == f"/evaluation/systems/{system.pk}/"
    assert (
        system.kind,
        system.region_id,
        f"{system.first_month:%Y-%m}",
        f"{system.last_month:%Y-%m}",
        system.subject_level,
        system.state,
        system.description,
    ) == ("annual", world.city.pk, "2027-01", "2027-12", 2, "draft", "全年考评。")
    assert stream(system)[0][0] == "indicator_system.created"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"last_month": "2026-12"}, "The period ends before it starts."),
        ({"subject_level": "1"}, "Choose a level of regions below "),
        ({"subject_kind": "unit", "subject_unit_kind": ""}, "Choose a kind of unit."),
        ({"region": "999999"}, "Choose a region in the list."),
    ],
)
def test_a_refused_system_shows_the_form_again_with_the_input(
    world: World, changes: dict[str, str], message: str
):
    client = client_for("city_admin")  # signing in is audited: before counting
    before = (IndicatorSystem.objects.count(), AuditEvent.objects.count())
    data = {**SYSTEM_FORM, "region": str(world.city.pk), **changes}
    response = client.post("/evaluation/systems/new/", data)
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert 'value="2027年度考评"' in page
    assert (IndicatorSystem.objects.count(), AuditEvent.objects.count()) == before


def test_a_duplicate_name_is_refused_on_the_page(world: World):
    draft_system(world, name="2027年度考评")
    client = client_for("city_admin")
    before = AuditEvent.objects.count()
    data = {**SYSTEM_FORM, "region": str(world.city.pk)}
    response = client.post("/evaluation/systems/new/", data)
    assert response.status_code == 400
    assert "This region has an indicator system of that name already." in response.content.decode()
    assert AuditEvent.objects.count() == before


INDICATOR_FORM = {
    "source": "entered",
    "parent": "",
    "code": "4",
    "name": "平安建设",
    "criteria": "",
    "weight": "10",
    "figure": "",
    "higher_is_better": "1",
    "rule_kind": "thresholds",
    "floor": "",
    "target": "",
    "steps": "0.9 10\n0.8, 6\n",
    "per_event": "",
}


def test_the_draft_page_offers_adding_editing_and_removing_to_its_managers(world: World):
    system = draft_system(world, name="草稿")
    page = client_for("city_admin").get(f"/evaluation/systems/{system.pk}/").content.decode()
    assert 'data-testid="new-indicator"' in page
    assert f"/evaluation/systems/{system.pk}/indicators/{indicator(system, '3').pk}/remove/" in page
    active = active_system(world)
    page = client_for("city_admin").get(f"/evaluation/systems/{active.pk}/").content.decode()
    assert 'data-testid="new-indicator"' not in page
    assert "/remove/" not in page


def test_an_indicator_is_added_on_the_page(world: World):
    system = draft_system(world)
    response = client_for("city_admin").post(
        f"/evaluation/systems/{system.pk}/indicators/new/", INDICATOR_FORM
    )
    assert response.status_code == 302
    assert rows(system)[-1] == (
        "4",
        "平安建设",
        "10.00",
        "entered",
        None,
        {"kind": "thresholds", "steps": [["0.9", "10"], ["0.8", "6"]]},
    )
    assert stream(system)[-1][0] == "indicator_system.indicator_added"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"steps": "0.9 12"}, "A step earns between 0 points and the indicator&#x27;s points."),
        ({"steps": "0.9"}, "Each step is a value and the points it earns."),
        ({"rule_kind": ""}, "The rule is linear, thresholds or deduction per event."),
        ({"source": "computed"}, "Choose a platform figure."),
        ({"code": "1.1"}, "This system has an indicator with that code already."),
        ({"weight": "abc"}, "Points must be a number."),
    ],
)
def test_a_refused_indicator_shows_the_form_again(
    world: World, changes: dict[str, str], message: str
):
    system = draft_system(world)
    client = client_for("city_admin")
    before = (rows(system), AuditEvent.objects.count())
    response = client.post(
        f"/evaluation/systems/{system.pk}/indicators/new/", {**INDICATOR_FORM, **changes}
    )
    page = response.content.decode()
    assert response.status_code == 400
    assert message in page
    assert 'value="平安建设"' in page
    assert (rows(system), AuditEvent.objects.count()) == before


def test_the_indicator_forms_are_refused_to_others_and_outside_a_draft(world: World):
    system = draft_system(world, name="草稿")
    url = f"/evaluation/systems/{system.pk}/indicators/new/"
    assert client_for("assessor").post(url, INDICATOR_FORM).status_code == 404  # drafts: unseen
    active = active_system(world)
    before = rows(active)
    response = client_for("city_admin").post(
        f"/evaluation/systems/{active.pk}/indicators/new/", INDICATOR_FORM
    )
    assert response.status_code == 409
    assert "Indicators change only while the indicator system is a draft." in (
        response.content.decode()
    )
    assert rows(active) == before


def test_an_indicator_is_edited_on_the_page(world: World):
    system = draft_system(world)
    target = indicator(system, "1.2")
    url = f"/evaluation/systems/{system.pk}/indicators/{target.pk}/edit/"
    client = client_for("city_admin")
    page = client.get(url).content.decode()
    assert 'value="满意率"' in page
    assert "0.95 20\n0.90 15\n0.80 8</textarea>" in page
    data = {
        **INDICATOR_FORM,
        "source": "computed",
        "figure": "satisfaction_rate",
        "parent": str(indicator(system, "1").pk),
        "code": "1.2",
        "name": "群众满意率",
        "weight": "20",
        "steps": "0.95 20\n0.85 10",
    }
    response = client.post(url, data)
    assert response.status_code == 302
    assert rows(system)[2] == (
        "1.2",
        "群众满意率",
        "20.00",
        "computed",
        "1",
        {"kind": "thresholds", "steps": [["0.95", "20"], ["0.85", "10"]]},
    )


def test_removing_a_group_with_indicators_on_the_page_changes_nothing(world: World):
    system = draft_system(world)
    client = client_for("city_admin")
    before = (rows(system), AuditEvent.objects.count())
    url = f"/evaluation/systems/{system.pk}/indicators/{indicator(system, '1').pk}/remove/"
    response = client.post(url, follow=True)
    assert "The group 1 holds indicators: remove or move them out of it first." in (
        response.content.decode()
    )
    assert (rows(system), AuditEvent.objects.count()) == before
    url = f"/evaluation/systems/{system.pk}/indicators/{indicator(system, '3').pk}/remove/"
    assert client.post(url).status_code == 302
    assert [r[0] for r in rows(system)] == ["1", "1.1", "1.2", "1.3", "2"]
    assert client.get(url).status_code == 405


# --- the API -------------------------------------------------------------------------------------


def api(persona: str) -> Client:
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_patch_changes_only_what_is_sent(world: World):
    system = draft_system(world)
    target = indicator(system, "1.3")
    url = f"/api/v1/evaluation/systems/{system.pk}/indicators/{target.pk}"
    client = api("city_admin")
    response = client.patch(
        url, json.dumps({"name": "重复投诉率", "parent_id": None}), content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["name"] == "重复投诉率"
    assert rows(system)[3] == (
        "1.3",
        "重复投诉率",
        "20.00",
        "computed",
        None,
        {"kind": "linear", "floor": "0.30", "target": "0"},
    )
    response = client.patch(
        url,
        json.dumps({"rule": {"kind": "linear", "floor": "0.2", "target": "0.5"}}),
        content_type="application/json",
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_input")


def test_delete_removes_and_refuses_a_group_with_indicators(world: World):
    system = draft_system(world)
    client = api("city_admin")
    base = f"/api/v1/evaluation/systems/{system.pk}/indicators"
    response = client.delete(f"{base}/{indicator(system, '1').pk}")
    assert (response.status_code, response.json()["code"]) == (409, "group_not_empty")
    assert client.delete(f"{base}/{indicator(system, '2').pk}").status_code == 204
    assert [r[0] for r in rows(system)] == ["1", "1.1", "1.2", "1.3", "3"]
    assert client.delete(f"{base}/999999").status_code == 404


def test_messages_name_fields_as_people_call_them_and_the_api_names_the_field(world: World):
    """The page shows the message beside the field, in the person's language; an API client
    reads the field's own name in ``details``."""
    system = draft_system(world)
    target = indicator(system, "1.1")
    admin = world.persona("city_admin")
    expected = {
        "zh-hans": ("分值必须是数字。", "请填写名称。"),
        "en": ("Points must be a number.", "Fill in the name."),
    }
    for language, (points, name) in expected.items():
        with translation.override(language):
            with pytest.raises(InvalidInput) as weight:
                edit(target, admin, weight="abc")
            with pytest.raises(InvalidInput) as blank:
                edit(target, admin, name="")
        assert (weight.value.message, weight.value.details) == (points, {"field": "weight"})
        assert (blank.value.message, blank.value.details) == (name, {"field": "name"})
