"""Fuzzing /api/v1/ and /open311/v2/ from their OpenAPI documents: no input gives a 5xx, and
every 4xx is a clear error.

schemathesis runs in-process against the Django WSGI application (no server, no network),
inside the test's transaction, a bounded number of examples per operation (derandomized, so
CI sees the same examples every run). The JSON API's schema is the one django-ninja serves;
the Open311 routes' is ``open311/openapi.py``. Requests carry a dispatcher's token (JSON
API) and a live integration key (Open311, most of the time) so that the examples reach the
code behind authentication.

A clear error: under /api/, JSON ``{"code", "message", "details"}`` with a code and a
message; under /open311/, the Open311 error document (GeoReport v2, "Errors") in the
format the path names, each error with a numeric code and a description.
"""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

import pytest
import schemathesis
from django.core import signals
from django.core.cache import cache
from django.core.handlers.wsgi import WSGIHandler
from django.db import close_old_connections
from hypothesis import given
from hypothesis import strategies as st

from gongzhi.accounts.services import issue_personal_token
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.open311.openapi import openapi_document
from gongzhi.open311.tests.support import client_key, greening_code
from tests.fuzz.payloads import bounded

# Enough to reach every operation's validation and its service; the whole file runs in
# well under a minute on the 2-core CI machine.
API_EXAMPLES = 8
OPEN311_EXAMPLES = 20


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
    cache.clear()


def unclear_api_error(body: bytes) -> str | None:
    try:
        document = json.loads(body)
    except ValueError:
        return "not JSON"
    if not isinstance(document, dict):
        return "not a JSON object"
    code, message = document.get("code"), document.get("message")
    if not (isinstance(code, str) and code.strip()):
        return "no code"
    if not (isinstance(message, str) and message.strip()):
        return "no message"
    return None


def unclear_open311_error(body: bytes, content_type: str) -> str | None:
    errors: list[tuple[Any, Any]]
    if content_type.startswith("application/json"):
        try:
            document = json.loads(body)
        except ValueError:
            return "not JSON"
        errors = (
            [(e.get("code"), e.get("description")) for e in document if isinstance(e, dict)]
            if isinstance(document, list)
            else []
        )
    elif content_type.startswith("text/xml"):
        try:
            root = ElementTree.fromstring(body)  # noqa: S314 (our own answer)
        except ElementTree.ParseError:
            return "not XML"
        if root.tag != "errors":
            return "not an errors document"
        errors = []
        for error in root:
            code = error.findtext("code") or ""
            errors.append((int(code) if code.isdigit() else None, error.findtext("description")))
    else:
        return f"neither JSON nor XML: {content_type}"
    if not errors:
        return "no error in the document"
    for code, description in errors:
        if not isinstance(code, int) or not (isinstance(description, str) and description.strip()):
            return "an error without a numeric code or a description"
    return None


def problem_with(open311: bool, response: Any) -> str | None:
    """What is wrong with the answer, if anything: a 5xx, or a 4xx that is not clear."""
    status = response.status_code
    if status >= 500:
        return f"server error {status}"
    if status < 400:
        return None
    content_type = (response.headers.get("content-type") or [""])[0]
    if open311:
        found = unclear_open311_error(response.content, content_type)
    else:
        found = unclear_api_error(response.content)
    return None if found is None else f"unclear {status}: {found}"


def fuzz(schema: Any, prepare: Any, examples: int, *, open311: bool = False) -> list[str]:
    """Every operation, a few examples each; the problems found (with curl to reproduce)."""
    failures: list[str] = []
    for result in schema.get_all_operations():
        examples_of(result.ok(), prepare, failures, examples, open311)()
    return failures


def examples_of(
    operation: Any, prepare: Any, failures: list[str], examples: int, open311: bool
) -> Any:
    @bounded(examples)
    @given(case=operation.as_strategy(), data=st.data())
    def run(case: Any, data: Any) -> None:
        headers = prepare(case, data)
        response = case.call(headers=headers)
        problem = problem_with(open311, response)
        if problem is not None:
            failures.append(
                f"{operation.method.upper()} {operation.path}: {problem}\n"
                f"{response.content[:300]!r}\n{case.as_curl_command(headers=headers)}"
            )

    return run


@pytest.mark.slow
def test_the_json_api_answers_every_input_clearly(world: World, app: Any):
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

    assert fuzz(schema, prepare, API_EXAMPLES) == []


@pytest.mark.slow
def test_the_open311_routes_answer_every_input_clearly(world: World, app: Any):
    key = client_key(world)
    code = greening_code()
    schema = schemathesis.openapi.from_dict(openapi_document("/open311/v2"))
    schema.app = app
    point = (world.grid_1.centre_lat, world.grid_1.centre_lng)

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

    assert fuzz(schema, prepare, OPEN311_EXAMPLES, open311=True) == []


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b'{"code": "x", "message": "Do this."}', "application/json", None),
        (b'{"code": "x", "message": " "}', "application/json", "no message"),
        (b"<h1>Bad Request (400)</h1>", "text/html", "not JSON"),
        (b'{"detail": "Not Found"}', "application/json", "no code"),
    ],
)
def test_the_api_check_tells_clear_from_unclear(body: bytes, content_type: str, problem: Any):
    assert unclear_api_error(body) == problem


@pytest.mark.parametrize(
    ("body", "content_type", "problem"),
    [
        (b'[{"code": 400, "description": "Say where."}]', "application/json", None),
        (
            b'[{"code": 400, "description": ""}]',
            "application/json",
            "an error without a numeric code or a description",
        ),
        (b"[]", "application/json", "no error in the document"),
        (
            b"<errors><error><code>404</code><description>No.</description></error></errors>",
            "text/xml; charset=utf-8",
            None,
        ),
        (b"<html/>", "text/xml", "not an errors document"),
        (b"Bad Request", "text/html", "neither JSON nor XML: text/html"),
    ],
)
def test_the_open311_check_tells_clear_from_unclear(body: bytes, content_type: str, problem: Any):
    assert unclear_open311_error(body, content_type) == problem
