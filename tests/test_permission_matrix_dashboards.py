"""The command centre and the public page, for every persona.

The command centre is for staff with ``VIEW_EVALUATION`` (dispatchers, leaders, assessors,
auditors, administrators), over their own region: the district leader sees 明湖区, the
city-level staff the city. Everyone else is refused (403), anonymous people are sent to log
in. The public page is open to everyone and the same for everyone.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from gongzhi.dashboards import queries
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation import services as evaluation_services
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

MARCH = dt.date(2026, 3, 1)

COVERED_VIEWS = {"command_centre", "public"}
PERSONAS = [
    None,
    "resident",
    "grid_worker",
    "dispatcher",
    "street_officer",
    "handler",
    "district_leader",
    "city_admin",
    "auditor",
    "mediator",
    "assessor",
]
# Who opens the command centre, and on which region.
COMMAND_CENTRE = {
    "dispatcher": "city",
    "district_leader": "district_1",
    "city_admin": "city",
    "auditor": "city",
    "assessor": "city",
}


@pytest.mark.parametrize("persona", PERSONAS)
def test_command_centre(persona, world: World):
    response = client_for(persona).get("/command/")
    if persona is None:
        assert response.status_code == 302
        assert response.headers["Location"] == "/accounts/login/?next=/command/"
    elif persona in COMMAND_CENTRE:
        assert response.status_code == 200
        region = getattr(world, COMMAND_CENTRE[persona])
        assert f'data-testid="region-name">{region.name}<' in response.content.decode()
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_command_centre_of_another_district(persona, world: World):
    """``?region=`` only reaches inside the person's scope (404 outside it, as if missing)."""
    response = client_for(persona).get(f"/command/?region={world.district_2.pk}")
    if persona is None:
        assert response.status_code == 302
    elif persona in COMMAND_CENTRE:
        expected = 200 if COMMAND_CENTRE[persona] == "city" else 404
        assert response.status_code == expected
    else:
        assert response.status_code == 403


@pytest.mark.parametrize("persona", PERSONAS)
def test_public(persona, world: World):
    response = client_for(persona).get("/public/")
    assert response.status_code == 200
    page = response.content.decode()
    assert world.city.name in page
    shows_link = persona in COMMAND_CENTRE
    assert ('data-testid="command-centre-link"' in page) == shows_link


def test_only_get(world: World):
    assert client_for("district_leader").post("/command/").status_code == 405
    assert client_for(None).post("/public/").status_code == 405


@pytest.fixture
def published(world: World) -> World:
    """The fixed cases of March 2026 and the city's ranking of its streets for March."""
    load_cases(world)
    evaluation_services.publish_ranking(
        world.city, month=MARCH, subject="street", actor=world.persona("assessor"), now=NOW
    )
    return world


@pytest.mark.parametrize("persona", PERSONAS)
def test_published_rankings_are_public(persona, published: World):
    page = client_for(persona).get("/public/").content.decode()
    red, black = page.split('class="table red-list"')[1].split('class="table black-list"')
    assert published.street_of_district_2.name in red
    assert published.street_1.name in black.split("</table>")[0]


def test_the_city_ranking_reaches_the_command_centre_of_its_districts(published: World):
    (summary,) = queries.command_centre(published.district_1, NOW).rankings
    assert (summary.month, summary.region_name, summary.version) == (
        MARCH,
        published.city.name,
        1,
    )
    assert [(e.position, e.name, e.score) for e in summary.red] == [
        (1, published.street_of_district_2.name, Decimal("96.00"))
    ]
    assert [(e.position, e.name, e.score) for e in summary.black] == [
        (2, published.street_1.name, Decimal("80.50"))
    ]
    assert queries.public_figures(published.city, NOW).rankings == [summary]
