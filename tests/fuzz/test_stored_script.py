"""Stored script never runs: hostile text saved through the real forms, the API and Open311,
then every page that shows it opened in Chromium.

Each payload sets ``window.__xss`` if it ever runs (as a script, an event handler, an SVG
onload, a ``javascript:`` link or markup a script turned into HTML, like a Leaflet tooltip).
After each page has loaded (and its htmx fragments and map tooltips with it), the test
asserts that ``window.__xss`` is undefined and, where the page shows the text, that it is
shown as text: the person sees ``<img src=x …`` rather than a broken image.

The project sends no Content-Security-Policy yet (settings.py has none and Django 5.2 has no
built-in one); ``test_bad_requests.test_security_headers`` checks the headers it does send,
and a CSP's script-src for ``unsafe-inline`` once one is added.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client
from playwright.sync_api import Page

from gongzhi.accounts.models import User
from gongzhi.cases.models import Case
from gongzhi.cases.tests.test_loop import GREENING, category
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import assessments
from gongzhi.evaluation.tests.assessment_fixtures import draft_system, indicator
from gongzhi.open311.tests.support import client_key, greening_code
from tests.fuzz.payloads import SCRIPTS
from tests.test_permission_matrix_assessments import Ctx, deadline

pytestmark = pytest.mark.browser

MARK = "window.__xss=1"
ALL = " ".join(SCRIPTS)  # every payload in one text (long fields)
SHORT = '<img src=x onerror="window.__xss=1"><svg onload=window.__xss=1>'  # names (<= 100)


@dataclass
class Stored:
    world: World
    web_case: Case
    api_case: Case
    open311_case: Case
    rectification_id: int
    system_id: int


def _ok(response: Any, *statuses: int) -> Any:
    assert response.status_code in statuses, response.content[:500]
    return response


def store_everything(world: World) -> Stored:
    """Hostile text in every kind of stored text a person can type, through the adapters
    people and clients use (the views and the API validate and call the services)."""
    cache.clear()
    admin = client_for("city_admin")
    # Names: a district (on the maps' labels), grid 1 (the case's place, the heat map), a unit.
    for region in (world.district_1, world.grid_1):
        _ok(
            admin.post(
                f"/regions/{region.pk}/edit/",
                {
                    "name": SHORT,
                    "reason": ALL,
                    "boundary": json.dumps(region.boundary),
                    "centre_lat": region.centre_lat,
                    "centre_lng": region.centre_lng,
                },
            ),
            302,
        )
    committee = world.committee_1
    _ok(
        admin.post(
            f"/units/{committee.pk}/edit/",
            {"name": SHORT, "short_name": SHORT[:60], "phone": "12345", "is_active": "on"},
        ),
        302,
    )
    _ok(admin.post("/accounts/api-keys/", {"unit_id": committee.pk, "name": SHORT}), 200)
    world = World.load()  # with the new names

    # Cases: on the web form, through the API and through Open311.
    resident = client_for("resident")
    point = {"latitude": world.grid_1.centre_lat, "longitude": world.grid_1.centre_lng}
    _ok(
        resident.post(
            "/cases/new/",
            {
                "title": SHORT,
                "description": ALL,
                "kind": "complaint",
                "address": SHORT,
                "name": SHORT[:60],
                **point,
            },
        ),
        302,
    )
    web_case = Case.objects.get(channel="web", title=SHORT)
    _ok(
        resident.post(
            "/api/v1/cases",
            json.dumps({"title": SHORT + " API", "description": ALL, "channel": "mobile", **point}),
            content_type="application/json",
        ),
        201,
    )
    api_case = Case.objects.get(title=SHORT + " API")
    _ok(
        Client().post(
            "/open311/v2/requests.json",
            {
                "api_key": client_key(world),
                "service_code": greening_code(),
                "lat": point["latitude"],
                "long": point["longitude"],
                "description": ALL,
                "address_string": SHORT,
                "first_name": SHORT[:20],
            },
        ),
        200,
        201,
    )
    open311_case = Case.objects.exclude(pk__in=[web_case.pk, api_case.pk]).latest("submitted_at")

    # Through the loop, with hostile reasons, notes and answers on its timeline.
    dispatcher, officer = client_for("dispatcher"), client_for("street_officer")

    def act(client: Client, name: str, **data: Any) -> None:
        case = Case.objects.get(pk=web_case.pk)
        data.setdefault("expected_version", case.version)
        _ok(client.post(f"/cases/{case.pk}/act/{name}/", data), 302)

    act(
        dispatcher,
        "register",
        category=category(GREENING).pk,
        urgency="normal",
        complexity="ordinary",
    )
    case = Case.objects.get(pk=web_case.pk)
    act(dispatcher, "dispatch", unit=case.proposed_unit_id, reason=ALL)
    act(officer, "sign_for")
    act(officer, "request_extension", days=2, reason=ALL)
    act(client_for("district_leader"), "supervise", note=ALL)
    act(officer, "reply", reply=ALL)

    # Evaluation: a system named with a payload, a rectification report and its decision.
    system = draft_system(world, name=SHORT)
    ctx = Ctx(world, system)
    admin_user = world.persona("city_admin")
    assessments.activate_system(system, actor=admin_user)
    _ok(
        client_for("assessor").post(
            f"/evaluation/assessments/{ctx.west.pk}/indicators/{ctx.ind('2')}/",
            {"value": "0.5", "evidence": ALL, "evidence_reference": SHORT},
        ),
        302,
    )
    for subject, code, value in (
        (ctx.west, "3", "1"),
        (ctx.east, "2", "0.89"),
        (ctx.east, "3", "0"),
    ):
        assessments.enter_score(
            subject,
            indicator(system, code),
            actor=world.persona("assessor"),
            value=value,
            evidence="调查报告",
        )
    assessments.close_system(system, actor=admin_user)
    assessments.generate_rectifications(system, actor=admin_user, deadline=deadline(), below="0.6")
    item = ctx.item
    _ok(
        client_for("district_leader").post(
            f"/evaluation/rectifications/{item.pk}/submit/",
            {"report": ALL, "evidence_reference": SHORT},
        ),
        302,
    )
    _ok(
        client_for("assessor").post(
            f"/evaluation/rectifications/{item.pk}/decide/", {"decision": "reject", "note": ALL}
        ),
        302,
    )
    return Stored(world, web_case, api_case, open311_case, item.pk, system.pk)


@pytest.fixture
def stored(
    live_server: Any, ensure_demo_city: None, settings: Any, tmp_path: Any
) -> Iterator[Stored]:
    settings.MEDIA_ROOT = tmp_path
    settings.GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (1_000_000, 60)
    yield store_everything(World.load())
    cache.clear()


def as_persona(page: Page, base: str, username: str | None) -> None:
    """Log in by the session cookie (the login form has its own browser test)."""
    page.context.clear_cookies()
    if username is None:
        return
    client = Client()
    client.force_login(User.objects.get(username=username))
    session = client.cookies["sessionid"].value
    page.context.add_cookies([{"name": "sessionid", "value": session, "url": base}])


def visit(page: Page, url: str, *, shows: str | None = SHORT) -> None:
    response = page.goto(url)
    assert response is not None
    assert response.status < 400, (url, response.status)
    page.wait_for_load_state("networkidle")
    assert page.evaluate("typeof window.__xss") == "undefined", f"a stored script ran on {url}"
    if shows is not None:
        assert shows in page.inner_text("body"), f"{url} does not show the text as text"


def test_no_stored_script_runs_on_any_page(stored: Stored, live_server: Any, page: Page) -> None:
    base = live_server.url
    w = stored.world
    case, api_case = stored.web_case, stored.api_case
    pages: list[tuple[str | None, str, str | None]] = [
        # The person who raised the matters: their list, the case page, the map pin page.
        ("resident", "/cases/mine/", SHORT),
        ("resident", f"/cases/{case.pk}/", "onerror="),
        ("resident", f"/cases/{api_case.pk}/", "onerror="),
        ("resident", "/cases/new/", None),
        # Staff: queues, case pages with their timelines, the map, regions, units, notices.
        ("dispatcher", "/cases/?queue=to_dispatch", None),
        ("dispatcher", f"/cases/{case.pk}/", SHORT),
        ("dispatcher", f"/cases/{stored.open311_case.pk}/", "svg onload"),
        ("dispatcher", "/cases/map/", None),
        ("dispatcher", "/regions/", None),
        ("dispatcher", f"/regions/{w.district_1.pk}/", SHORT),
        ("dispatcher", f"/regions/{w.grid_1.pk}/", SHORT),
        ("dispatcher", "/units/", SHORT),
        ("dispatcher", f"/units/{w.committee_1.pk}/", SHORT),
        ("street_officer", "/notices/", None),
        ("street_officer", f"/cases/{case.pk}/", SHORT),
        ("district_leader", f"/cases/{case.pk}/", SHORT),
        ("city_admin", "/accounts/api-keys/", SHORT),
        ("city_admin", f"/regions/{w.grid_1.pk}/edit/", None),
        ("auditor", "/accounts/audit/", None),
        # The command centre and the public page (heat map tooltips: grid names).
        ("dispatcher", "/command/", None),
        (None, "/public/", None),
        # Evaluation: figures by district, systems, the assessment and the rectification.
        ("city_admin", f"/evaluation/?region={w.city.pk}&from=2026-03", None),
        ("city_admin", "/evaluation/systems/", SHORT),
        ("city_admin", f"/evaluation/systems/{stored.system_id}/", SHORT),
        ("assessor", "/evaluation/rectifications/", None),
        ("assessor", f"/evaluation/rectifications/{stored.rectification_id}/", "onerror="),
        # Open311 reads, as a browser shows them.
        (None, "/open311/v2/requests.xml", None),
        (None, "/open311/v2/requests.json", None),
    ]
    current: str | None = "nobody"
    for persona, path, shows in pages:
        if persona != current:
            as_persona(page, base, persona)
            current = persona
        visit(page, base + path, shows=shows)
        if path == "/command/":  # the heat map's tooltip appears on hover
            grid = page.locator("#heat-map path.leaflet-interactive").first
            if grid.count():
                grid.hover()
                assert page.evaluate("typeof window.__xss") == "undefined"
    # The district's name is a permanent label on the pin map: shown, as text.
    as_persona(page, base, "resident")
    visit(page, base + "/cases/new/", shows=None)
    labels = page.locator(".region-label").all_inner_texts()
    assert SHORT in labels
