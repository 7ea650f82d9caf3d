"""Test fixtures shared by every test: the small demo city and its named personas.

The small demo city (``gongzhi.demo.build.SMALL``) is built once per test database, by
the same code that builds the full demo, so tests and the demo cannot drift apart:
示范市 > 明湖区 (2 streets) and 东岳区 (1 street) > 6 communities > 12 grids.
Each test runs in a transaction that is rolled back; tests that need real commits
(``transactional_db``, ``live_server``) rebuild it with ``ensure_demo_city``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client

from gongzhi.accounts.models import Membership, User
from gongzhi.demo.build import PERSONAS, SMALL, build_demo_city
from gongzhi.territory.models import Region, Unit

PERSONA_NAMES = [p.username for p in PERSONAS]

CITY = "990100000000"
DISTRICT_1 = "990102000000"
DISTRICT_2 = "990103000000"
STREET_1 = "990102001000"
STREET_OF_DISTRICT_2 = "990103001000"
COMMUNITY_1 = "990102001001"
GRID_1 = "990102001001001"


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: Any, django_db_blocker: Any) -> None:
    with django_db_blocker.unblock():
        build_demo_city(SMALL)


@pytest.fixture(autouse=True)
def _demo_logins_on(settings: Any) -> None:
    """Tests log personas in; the demo lock itself is tested with this switched off."""
    settings.DEMO_LOGINS_ENABLED = True


@pytest.fixture
def ensure_demo_city(transactional_db: Any) -> None:
    build_demo_city(SMALL)


@dataclass
class World:
    city: Region
    district_1: Region
    district_2: Region
    street_1: Region
    street_of_district_2: Region
    community_1: Region
    grid_1: Region
    command_centre: Unit
    district_2_government: Unit
    committee_1: Unit

    def persona(self, username: str) -> User:
        return User.objects.get(username=username)

    def membership_of(self, username: str) -> Membership:
        return Membership.objects.get(user__username=username, is_active=True)


@pytest.fixture
def world(db: Any) -> World:
    regions = {
        r.code: r
        for r in Region.objects.filter(
            code__in=[CITY, DISTRICT_1, DISTRICT_2, STREET_1, STREET_OF_DISTRICT_2, COMMUNITY_1, GRID_1]
        )
    }
    return World(
        city=regions[CITY],
        district_1=regions[DISTRICT_1],
        district_2=regions[DISTRICT_2],
        street_1=regions[STREET_1],
        street_of_district_2=regions[STREET_OF_DISTRICT_2],
        community_1=regions[COMMUNITY_1],
        grid_1=regions[GRID_1],
        command_centre=Unit.objects.get(kind="command_centre", region=regions[CITY]),
        district_2_government=Unit.objects.get(kind="government", region=regions[DISTRICT_2]),
        committee_1=Unit.objects.get(kind="community_committee", region=regions[COMMUNITY_1]),
    )


def client_for(username: str | None) -> Client:
    client = Client()
    if username is not None:
        client.force_login(User.objects.get(username=username))
    return client


@pytest.fixture
def as_persona(db: Any) -> Any:
    return client_for
