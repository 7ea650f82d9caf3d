"""Test support shared by every app's tests: the small demo city's named places and personas.

Fixtures live in the repository's conftest.py; the names they hand out live here, so
tests import them from a real module.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.test import Client

from gongzhi.accounts.models import Membership, User
from gongzhi.territory.models import Region, Unit

CITY = "990100000000"
DISTRICT_1 = "990102000000"
DISTRICT_2 = "990103000000"
STREET_1 = "990102001000"
STREET_OF_DISTRICT_2 = "990103001000"
COMMUNITY_1 = "990102001001"
GRID_1 = "990102001001001"


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

    @classmethod
    def load(cls) -> World:
        codes = [CITY, DISTRICT_1, DISTRICT_2, STREET_1, STREET_OF_DISTRICT_2, COMMUNITY_1, GRID_1]
        regions = {r.code: r for r in Region.objects.filter(code__in=codes)}
        return cls(
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

    def persona(self, username: str) -> User:
        return User.objects.get(username=username)

    def membership_of(self, username: str) -> Membership:
        return Membership.objects.get(user__username=username, is_active=True)


def client_for(username: str | None) -> Client:
    """A test client logged in as the persona (or anonymous for None)."""
    client = Client()
    if username is not None:
        client.force_login(User.objects.get(username=username))
    return client
