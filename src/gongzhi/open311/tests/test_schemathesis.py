"""Fuzzing /api/v1/ and /open311/v2/ from their OpenAPI documents: no input gives a 5xx.

schemathesis runs in-process against the Django WSGI application (no server, no network),
inside the test's transaction, a bounded number of examples per operation. The JSON API's
schema is the one django-ninja serves; the Open311 routes' is ``open311/openapi.py``.
Requests carry a dispatcher's token (JSON API) and a live integration key (Open311, most of
the time) so that the examples reach the code behind authentication.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from gongzhi.accounts.services import issue_personal_token
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.open311.openapi import openapi_document
from gongzhi.open311.tests.support import client_key, greening_code

EXAMPLES_PER_OPERATION = 12


@pytest.fixture
def app(settings: Any) -> Any:
    """The WSGI application, kept from closing the test's connection after each request
    (as Django's own test client does)."""
    settings.GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (1_000_000, 60)
    settings.GONGZHI_OPEN311_RATE_LIMIT_KEY = (1_000_000, 60)
    settings.ALLOWED_HOSTS = ["*"]
    cache.clear()
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield WSGIHandler()
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


def fuzz(schema: Any, prepare: Any, examples: int = EXAMPLES_PER_OPERATION) -> list[str]:
    """Every operation, a few examples each; the server errors found (with curl to reproduce)."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        examples_of(result.ok(), prepare, failures, examples)()
    return failures


def examples_of(operation: Any, prepare: Any, failures: list[str], examples: int) -> Any:
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(), data=st.data())
    def run(case: Any, data: Any) -> None:
        headers = prepare(case, data)
        response = case.call(headers=headers)
        if response.status_code >= 500:
            failures.append(
                f"{operation.method.upper()} {operation.path}: {response.status_code}\n"
                f"{case.as_curl_command(headers=headers)}"
            )

    return run


@pytest.mark.slow
def test_the_json_api_gives_no_server_error(world: World, app: Any):
    token = issue_personal_token(None, username="dispatcher", password=DEMO_PASSWORD).token
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", app)

    def prepare(case: Any, data: Any) -> dict[str, str]:
        # Most of the time a real token, replacing whatever the schema's security made up
        # (never to log out: that would end the token for every later example).
        logout = case.operation.path == "/api/v1/auth/token" and case.method == "DELETE"
        if not logout and data.draw(st.integers(0, 9)) < 8:
            made_up = {"authorization", "x-api-key"}
            headers = {k: v for k, v in (case.headers or {}).items() if k.lower() not in made_up}
            case.headers = {**headers, "Authorization": f"Bearer {token}"}
        return {}

    started = time.monotonic()
    assert fuzz(schema, prepare) == []
    assert time.monotonic() - started < 120


@pytest.mark.slow
def test_the_open311_routes_give_no_server_error(world: World, app: Any):
    key = client_key(world)
    code = greening_code()
    schema = schemathesis.openapi.from_dict(openapi_document("/open311/v2"))
    schema.app = app

    def prepare(case: Any, data: Any) -> dict[str, str]:
        # Mostly a live key, a real service and a point in the city, so that examples get
        # past the first checks to the attributes, the photos and the case itself.
        if isinstance(case.body, dict):
            if data.draw(st.integers(0, 9)) < 8:
                case.body["api_key"] = key
            if data.draw(st.integers(0, 9)) < 7:
                case.body["service_code"] = code
            if data.draw(st.integers(0, 9)) < 6:
                case.body["lat"], case.body["long"] = point
        return {}

    point = (world.grid_1.centre_lat, world.grid_1.centre_lng)
    started = time.monotonic()
    assert fuzz(schema, prepare, examples=30) == []
    assert time.monotonic() - started < 60
