"""Test fixtures shared by every test: the small demo city and its named personas.

The small demo city (``gongzhi.demo.build.SMALL``) is built once per test database, by
the same code that builds the full demo, so tests and the demo cannot drift apart:
示范市 > 明湖区 (2 streets) and 东岳区 (1 street) > 6 communities > 12 grids.
Each test runs in a transaction that is rolled back; tests that need real commits
(``transactional_db``, ``live_server``) rebuild it with ``ensure_demo_city``.
Names of places and personas: ``gongzhi.demo.testing``.
"""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.demo.build import SMALL, build_demo_city
from gongzhi.demo.testing import World, client_for


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


@pytest.fixture
def world(db: Any) -> World:
    return World.load()


@pytest.fixture
def as_persona(db: Any) -> Any:
    return client_for
