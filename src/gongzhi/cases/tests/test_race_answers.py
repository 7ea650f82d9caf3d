"""Whoever loses a race learns that the case moved on (409), not that they may not (403).

The race is played out deterministically: the loser reads the case (the version their page
or client shows), another person moves it on through a service, then the loser acts on what
they read, with that version and without one. The loser must still see the case (a person who
cannot see it gets 404, race or not), yet may not act on it as it is now: the street officer
here also leads at the street (a second membership), so they see every case of the street,
also one their unit no longer holds; the street dispatcher dispatches at the street only.
An entry point that checked who may act on the row it read, before the state, answered them
403; the services check under the row lock, after the version and then the state.

Merging: both cases are locked in the order of their keys, the original's state is checked
under the lock, and the original's version goes up with the event on its timeline.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import connection, connections
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from gongzhi.accounts.choices import MembershipRole
from gongzhi.accounts.models import User
from gongzhi.accounts.services import grant_membership, issue_personal_token
from gongzhi.cases import policies, services
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.test_loop import actions_of, submit
from gongzhi.cases.tests.test_views import en, text
from gongzhi.cases.workflow import Action
from gongzhi.core.errors import DomainError, PermissionDenied
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.territory.models import Unit

PASSWORD = "a-long-real-password-1"
ADDED = {"colleague", "street_dispatcher"}  # people these tests add to the demo city


def add_person(world: World, username: str, role: str, unit: Unit) -> User:
    person = User.objects.create_user(username=username, password=PASSWORD)
    grant_membership(
        person, unit=unit, role=role, region=world.street_1, actor=world.persona("city_admin")
    )
    return person


@pytest.fixture
def people(world: World) -> None:
    """The street officer also leads at the street; a colleague handles at the street office;
    a dispatcher works at the street's centre (dispatching at the street only)."""
    office = world.membership_of("street_officer").unit
    grant_membership(
        world.persona("street_officer"),
        unit=office,
        role=MembershipRole.LEADER,
        region=world.street_1,
        actor=world.persona("city_admin"),
    )
    add_person(world, "colleague", MembershipRole.HANDLER, office)
    centre = world.membership_of("mediator").unit  # the street's 综治中心
    add_person(world, "street_dispatcher", MembershipRole.DISPATCHER, centre)


def api_client(username: str) -> Client:
    """An API client with the person's token, reading messages in English."""
    password = PASSWORD if username in ADDED else DEMO_PASSWORD
    token = issue_personal_token(None, username=username, password=password).token
    return Client(headers={"Authorization": f"Bearer {token}", "Accept-Language": "en"})


def post(client: Client, url: str, body: dict[str, Any]) -> Any:
    return client.post(url, json.dumps(body), content_type="application/json")


def registered(w: World) -> Case:
    return services.register_case(submit(w), actor=w.persona("dispatcher"))


def dispatched(w: World) -> Case:
    return services.dispatch_case(registered(w), actor=w.persona("dispatcher"))


def in_progress(w: World) -> Case:
    return services.sign_for_case(dispatched(w), actor=w.persona("street_officer"))


def returned_by_colleague(w: World, case: Case) -> Case:
    return services.return_case(
        case, actor=User.objects.get(username="colleague"), reason="不属本单位"
    )


def escalated(w: World, case: Case) -> Case:
    return services.escalate_case(case, actor=w.persona("dispatcher"), reason="需区级协调")


def escalated_and_dispatched(w: World, case: Case) -> Case:
    return services.dispatch_case(escalated(w, case), actor=w.persona("dispatcher"))


def snapshot(case: Case) -> tuple[Any, ...]:
    fresh = Case.objects.get(pk=case.pk)
    return (
        fresh.state,
        fresh.version,
        fresh.unit_id,
        fresh.dispatch_region_id,
        CaseEvent.objects.filter(case=case).count(),
    )


@dataclass(frozen=True)
class Race:
    name: str
    action: Action
    path: str
    body: dict[str, Any]
    seen: Callable[[World], Case]  # the case as the loser read it
    meanwhile: Callable[[World, Case], Case]  # another person moves it on
    loser: str


RACES = [
    Race(
        "sign for a case a colleague returned",
        Action.SIGN_FOR,
        "sign-for",
        {},
        dispatched,
        returned_by_colleague,
        "street_officer",
    ),
    Race(
        "return a case escalated to the district",
        Action.RETURN,
        "return",
        {"reason": "不属本单位"},
        dispatched,
        escalated,
        "street_officer",
    ),
    Race(
        "reply to a case escalated to the district",
        Action.REPLY,
        "reply",
        {"reply": "已清运完毕，感谢监督。"},
        in_progress,
        escalated,
        "street_officer",
    ),
    Race(
        "dispatch a case dispatched from the district",
        Action.DISPATCH,
        "dispatch",
        {},
        registered,
        escalated_and_dispatched,
        "street_dispatcher",
    ),
]


@pytest.mark.parametrize("race", RACES, ids=lambda r: r.name)
def test_the_loser_of_a_race_gets_a_conflict(world: World, people: None, race: Race) -> None:
    seen = race.seen(world)
    now = race.meanwhile(world, seen)
    loser = User.objects.get(username=race.loser)
    # The loser still sees the case, and may not take the action on it as it is now: a check
    # of who may before the state answered 403 here.
    assert policies.cases_visible_to(loser).filter(pk=seen.pk).exists()
    assert not policies.can_act(loser, now, race.action)
    before = snapshot(seen)
    client = api_client(race.loser)
    url = f"/api/v1/cases/{seen.pk}/{race.path}"

    stale = post(client, url, {**race.body, "expected_version": seen.version})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert stale.json()["message"] == (
        f"Someone changed this case meanwhile (you saw version {seen.version}). Reload it."
    )
    assert stale.json()["details"] == {"version": now.version}
    assert snapshot(seen) == before

    blind = post(client, url, race.body)
    assert (blind.status_code, blind.json()["code"]) == (409, "invalid_transition")
    assert blind.json()["details"] == {"state": now.state, "action": race.action.value}
    assert snapshot(seen) == before


def test_a_handler_who_no_longer_sees_the_case_gets_404(world: World) -> None:
    """Without the second membership the returned case is out of the officer's sight."""
    office = world.membership_of("street_officer").unit
    add_person(world, "colleague", MembershipRole.HANDLER, office)
    seen = dispatched(world)
    returned_by_colleague(world, seen)
    before = snapshot(seen)
    client = api_client("street_officer")
    for body in ({"expected_version": seen.version}, {}):
        response = post(client, f"/api/v1/cases/{seen.pk}/sign-for", body)
        assert (response.status_code, response.json()["code"]) == (404, "not_found")
    assert snapshot(seen) == before


def test_without_a_version_a_state_that_still_allows_it_is_refused(
    world: World, people: None
) -> None:
    """Escalated to the district, the case still waits for dispatch: the street dispatcher who
    saw version 2 is told it changed; one who names no version gets the answer for the case as
    it is now, which they may not dispatch (403)."""
    seen = registered(world)
    escalated(world, seen)
    before = snapshot(seen)
    client = api_client("street_dispatcher")
    url = f"/api/v1/cases/{seen.pk}/dispatch"
    stale = post(client, url, {"expected_version": seen.version})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    refused = post(client, url, {})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert snapshot(seen) == before


def test_someone_who_may_never_act_is_refused_whatever_they_name(world: World) -> None:
    """A unit or a case the person cannot see is "not found" only for someone who may take the
    action; anyone else is refused as for any input."""
    to_dispatch, with_unit, duplicate = registered(world), dispatched(world), submit(world)
    before = [snapshot(c) for c in (to_dispatch, with_unit, duplicate)]
    nowhere: dict[str, Any] = {"unit_id": 999999}
    nothing: dict[str, Any] = {"into_id": "00000000-0000-4000-8000-000000000000"}
    named = [
        (f"/api/v1/cases/{to_dispatch.pk}/dispatch", nowhere, "No such unit."),
        (f"/api/v1/cases/{with_unit.pk}/assisting-units", nowhere, "No such unit."),
        (f"/api/v1/cases/{duplicate.pk}/merge", nothing, "No such case."),
    ]
    for url, body, not_found in named:
        refused = post(api_client("grid_worker"), url, body)
        assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied"), url
        missing = post(api_client("dispatcher"), url, body)
        assert (missing.status_code, missing.json()["message"]) == (404, not_found), url
    assert [snapshot(c) for c in (to_dispatch, with_unit, duplicate)] == before


def test_the_case_page_tells_the_loser_to_reload(world: World, people: None) -> None:
    seen = in_progress(world)
    escalated(world, seen)
    before = snapshot(seen)
    page = en("street_officer")
    url = f"/cases/{seen.pk}/act/reply/"
    reply = "已清运完毕，感谢监督。"

    stale = page.post(url, {"reply": reply, "expected_version": seen.version})
    assert stale.status_code == 409
    assert text(stale, "action-error") == (
        f"Someone changed this case meanwhile (you saw version {seen.version}). Reload it."
    )

    blind = page.post(url, {"reply": reply})
    assert blind.status_code == 409
    assert text(blind, "action-error") == (
        "The case is now “Registered, waiting for dispatch”: “Reply” is not possible. Reload it."
    )
    assert snapshot(seen) == before


# --- Merging ----------------------------------------------------------------------------------


def test_a_merge_moves_the_original_on_by_one_version(world: World) -> None:
    dispatcher = world.persona("dispatcher")
    original = submit(world)
    duplicate = submit(world)
    merged = services.merge_case(duplicate, into=original, actor=dispatcher, reason="同一事项")
    fresh = Case.objects.get(pk=original.pk)
    assert (fresh.state, fresh.version, fresh.updated_at) == (
        "submitted",
        original.version + 1,
        merged.updated_at,
    )
    assert actions_of(original) == ["submit", "absorb_duplicate"]
    absorbed = CaseEvent.objects.get(case=original, action="absorb_duplicate")
    assert (absorbed.seq, absorbed.reason, absorbed.data) == (
        fresh.version,
        "同一事项",
        {"duplicate": duplicate.number},
    )
    assert list(verify_chains(CaseEvent)) == []
    # Whoever read the original before the merge acts on a stale version.
    stale = post(
        api_client("dispatcher"),
        f"/api/v1/cases/{original.pk}/register",
        {"expected_version": original.version},
    )
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert stale.json()["details"] == {"version": fresh.version}


def rejected(w: World, case: Case) -> Case:
    return services.reject_case(case, actor=w.persona("dispatcher"), reason="不属于受理范围")


def merged_elsewhere(w: World, case: Case) -> Case:
    return services.merge_case(case, into=submit(w), actor=w.persona("dispatcher"))


def closed(w: World, case: Case) -> Case:
    dispatcher, officer = w.persona("dispatcher"), w.persona("street_officer")
    case = services.dispatch_case(services.register_case(case, actor=dispatcher), actor=dispatcher)
    case = services.sign_for_case(case, actor=officer)
    case = services.reply_to_case(case, actor=officer, reply="已清运完毕，感谢监督。")
    case = services.verify_case(case, actor=w.persona("grid_worker"), resolved=True)
    return services.close_case(case, actor=dispatcher)


@pytest.mark.parametrize(
    ("ended", "label"),
    [
        (rejected, "Not accepted"),
        (merged_elsewhere, "Merged into another case"),
        (closed, "Closed"),
    ],
    ids=["rejected", "merged", "closed"],
)
def test_merging_into_a_case_that_ended_meanwhile_changes_nothing(
    world: World, ended: Callable[[World, Case], Case], label: str
) -> None:
    original = submit(world)
    duplicate = submit(world)
    now = ended(world, original)  # someone else, after the dispatcher chose the original
    before = (snapshot(original), snapshot(duplicate), CaseEvent.objects.count())
    response = post(
        api_client("dispatcher"),
        f"/api/v1/cases/{duplicate.pk}/merge",
        {"into_id": str(original.pk), "reason": "重复件"},
    )
    assert (response.status_code, response.json()["code"]) == (400, "invalid_case")
    assert response.json()["message"] == (
        f"Case {original.number} is “{label}”: merge into a case that is still open."
    )
    assert response.json()["details"] == {"into": original.number, "state": now.state}
    assert (snapshot(original), snapshot(duplicate), CaseEvent.objects.count()) == before


def test_merging_into_a_case_one_may_not_dispatch_is_refused(world: World, people: None) -> None:
    """The street dispatcher may merge a case of the street, but not into one that waits for
    dispatch at the district: refused, after both states, and nothing changes."""
    original = escalated(world, submit(world))
    duplicate = submit(world)
    before = (snapshot(original), snapshot(duplicate))
    with pytest.raises(PermissionDenied):
        services.merge_case(
            duplicate, into=original, actor=User.objects.get(username="street_dispatcher")
        )
    assert (snapshot(original), snapshot(duplicate)) == before


def first_reads(queries: list[dict[str, Any]], cases: list[Case]) -> list[tuple[Case, bool]]:
    """The first two reads of these cases, in order, and whether each took a row lock."""
    reads = []
    for query in queries:
        sql = query["sql"].replace("-", "")  # keys are written with dashes on PostgreSQL
        reads += [(c, "FOR UPDATE" in sql) for c in cases if c.pk.hex in sql]
    return reads[:2]


@pytest.mark.parametrize("direction", ["lower into higher", "higher into lower"])
def test_a_merge_locks_both_cases_in_the_order_of_their_keys(world: World, direction: str) -> None:
    low, high = sorted([submit(world), submit(world)], key=lambda c: c.pk)
    duplicate, original = (low, high) if direction == "lower into higher" else (high, low)
    with CaptureQueriesContext(connection) as captured:
        services.merge_case(duplicate, into=original, actor=world.persona("dispatcher"))
    locks = connection.features.has_select_for_update  # SQLite: one writer at a time anyway
    assert first_reads(captured.captured_queries, [low, high]) == [(low, locks), (high, locks)]


@pytest.mark.django_db(transaction=True)
def test_two_merges_crossing_each_other_one_wins(ensure_demo_city: None) -> None:
    """A into B and B into A at the same moment: the second waits for the first's locks (taken
    in the same order, so no deadlock), then finds the other case merged. Never both."""
    world = World.load()
    a, b = submit(world), submit(world)
    outcomes: dict[str, str] = {}
    on_postgresql = connection.vendor == "postgresql"
    barrier = threading.Barrier(2 if on_postgresql else 1)

    def merge(name: str, duplicate: Case, original: Case) -> None:
        try:
            barrier.wait(timeout=10)
            services.merge_case(
                Case.objects.get(pk=duplicate.pk),
                into=Case.objects.get(pk=original.pk),
                actor=world.persona("dispatcher"),
            )
            outcomes[name] = "ok"
        except DomainError as exc:
            outcomes[name] = exc.code
        finally:
            connections.close_all()

    runs = [("a into b", a, b), ("b into a", b, a)]
    if on_postgresql:
        threads = [threading.Thread(target=merge, args=run) for run in runs]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        for run in runs:
            merge(*run)
    assert sorted(outcomes.values()) == ["invalid_case", "ok"]
    states = sorted(Case.objects.filter(pk__in=[a.pk, b.pk]).values_list("state", "version"))
    assert states == [("merged", 2), ("submitted", 2)]
    assert list(verify_chains(CaseEvent)) == []


def test_reopening_checks_the_version_seen_and_who_may_after_the_state(world: World) -> None:
    """Reopen used to ignore ``expected_version`` and check who may before the state."""
    case = closed(world, submit(world))
    before = snapshot(case)
    client = api_client("dispatcher")
    url = f"/api/v1/cases/{case.pk}/reopen"
    stale = post(client, url, {"reason": "回访未解决", "expected_version": case.version - 1})
    assert (stale.status_code, stale.json()["code"]) == (409, "stale_version")
    assert snapshot(case) == before
    refused = post(api_client("grid_worker"), url, {"reason": "回访未解决"})
    assert (refused.status_code, refused.json()["code"]) == (403, "permission_denied")
    assert snapshot(case) == before
    done = post(client, url, {"reason": "回访未解决", "expected_version": case.version})
    assert (done.status_code, done.json()["state"]) == (200, "in_progress")
    again = post(client, url, {"reason": "回访未解决"})
    assert (again.status_code, again.json()["code"]) == (409, "invalid_transition")


def test_a_photo_moves_the_case_on_and_a_closed_case_answers_conflict(world: World) -> None:
    from gongzhi.cases.errors import InvalidTransition
    from gongzhi.cases.tests.images import PNG

    case = submit(world)
    services.attach_file(case, actor=world.persona("resident"), content=PNG)
    case.refresh_from_db()
    events = list(CaseEvent.objects.filter(case=case).order_by("seq").values_list("action", "seq"))
    assert (case.version, events) == (2, [("submit", 1), ("attach", 2)])
    closed_case = closed(world, submit(world))
    # The handler may not attach to a closed case either way; the state answers first.
    with pytest.raises(InvalidTransition):
        services.attach_file(closed_case, actor=world.persona("handler"), content=PNG)


def test_a_second_request_is_refused_after_the_version_check(world: World) -> None:
    """A request sent on an old version learns that first (409); on the current one, that a
    request of its kind is already waiting (400), never the database's constraint."""
    from gongzhi.cases.errors import InvalidCase, StaleVersion

    officer = world.persona("street_officer")
    case = dispatched(world)
    case = services.sign_for_case(case, actor=officer)
    seen = case.version
    services.request_extension(case, actor=officer, days=2, reason="需协调", expected_version=seen)
    with pytest.raises(StaleVersion):
        services.request_extension(
            case, actor=officer, days=3, reason="再延", expected_version=seen
        )
    case.refresh_from_db()
    with translation.override("en"), pytest.raises(InvalidCase) as refused:
        services.request_extension(
            case, actor=officer, days=3, reason="再延", expected_version=case.version
        )
    assert refused.value.message == "A request of this kind is already waiting for a decision."
