"""The JSON API, version 1: one NinjaAPI, routers from each app, one error handler.

Authentication: a session (the web UI, with CSRF), or ``Authorization: Bearer <token>``
with a personal token from ``POST /api/v1/auth/token`` or an integration key.
Errors are ``{"code": ..., "message": ..., "details": {...}}`` with a stable code.

Bad input stops at the edge (``StrictParser``): a body that is not JSON (415 when it was
sent as something else, 400 otherwise), NUL characters in any text, integers beyond the
database's 64 bits and JSON nested deeper than ``MAX_DEPTH`` are refused with a code before
any schema or service sees them (tests/fuzz/).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import APIKeyHeader, HttpBearer, django_auth

from gongzhi.accounts.api.router import router as accounts_router
from gongzhi.accounts.auth import find_valid_key
from gongzhi.accounts.services import record_api_key_use
from gongzhi.cases.api.router import router as cases_router
from gongzhi.core.availability import unavailable
from gongzhi.core.errors import DomainError
from gongzhi.evaluation.api.router import router as evaluation_router
from gongzhi.evaluation.api.systems import router as assessment_router
from gongzhi.notifications.api.router import router as notifications_router
from gongzhi.territory.api.router import router as territory_router
from gongzhi.triage.api.router import router as triage_router

# Every integer the database stores fits in a signed 64-bit column.
MAX_INTEGER = 2**63 - 1
# Deeper than any schema of this API; deeper still would exhaust Python's recursion.
MAX_DEPTH = 32
_INTEGER = re.compile(r"[+-]?[0-9]+")


class BadBody(Exception):
    """A request body refused before parsing finished (ninja wraps it in an HttpError)."""

    def __init__(
        self, status: int, code: str, message: str, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details or {}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _is_json(request: HttpRequest) -> bool:
    content_type = (request.content_type or "").lower()
    return content_type == "application/json" or content_type.endswith("+json")


def _problem(value: Any) -> str | None:
    """What is wrong with one scalar of the input, if anything."""
    if isinstance(value, str) and "\x00" in value:
        return _("Text may not contain NUL characters.")
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_INTEGER:
        return _("This number is out of range.")
    return None


def _problems(data: Any) -> Iterator[dict[str, str]]:
    """Each bad scalar (and key) of parsed JSON, walked without recursion."""
    stack: list[tuple[tuple[Any, ...], Any]] = [((), data)]
    while stack:
        location, value = stack.pop()
        if len(location) > MAX_DEPTH:
            raise BadBody(
                400,
                "invalid_input",
                _("The JSON is nested too deeply (at most %(depth)d levels).")
                % {"depth": MAX_DEPTH},
            )
        if isinstance(value, dict):
            for key, item in value.items():
                if (message := _problem(key)) is not None:
                    yield {"field": ".".join(map(str, (*location, key))), "message": message}
                stack.append(((*location, key), item))
        elif isinstance(value, list):
            stack.extend(((*location, i), item) for i, item in enumerate(value))
        elif (message := _problem(value)) is not None:
            yield {"field": ".".join(map(str, location)), "message": message}


class StrictParser(Parser):
    """JSON bodies and query strings, refusing what no field of this API can hold."""

    def parse_body(self, request: HttpRequest) -> Any:
        try:
            data = json.loads(request.body, parse_constant=_refuse_constant)
        except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError too
            if not _is_json(request):
                raise BadBody(
                    415,
                    "unsupported_media_type",
                    _("Send the body as JSON, with Content-Type: application/json."),
                ) from None
            raise BadBody(
                400,
                "invalid_input",
                _("The body is not valid JSON (UTF-8, without NaN or Infinity)."),
            ) from None
        problems = list(_problems(data))
        if problems:
            raise BadBody(
                422, "invalid_input", _("Some fields are missing or wrong."), {"fields": problems}
            )
        return data

    def parse_querydict(
        self, data: MultiValueDict[str, Any], list_fields: list[str], request: HttpRequest
    ) -> dict[str, Any]:
        source = "query" if data is request.GET else "form"
        errors = []
        for key, values in data.lists():
            for value in [key, *values]:
                if not isinstance(value, str):
                    continue  # an uploaded file
                message = _problem(value)
                if message is None and _INTEGER.fullmatch(value) and len(value) > 18:
                    # A number for an integer field (a text field holding 19+ digits is
                    # refused too: no field here holds such text).
                    too_long = len(value.lstrip("+-")) > 19
                    message = _problem(MAX_INTEGER + 1 if too_long else int(value))
                if message is not None:
                    errors.append({"loc": (source, key), "msg": message})
                    break
        if errors:
            raise ValidationError(errors)
        parsed: dict[str, Any] = super().parse_querydict(data, list_fields, request)
        return parsed


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
        if "\x00" in token:
            return None  # never a key; and PostgreSQL refuses NUL in a query
        key = find_valid_key(token)
        if key is None:
            return None
        record_api_key_use(key)
        request.api_key = key  # type: ignore[attr-defined]
        # A personal token acts as its person; an integration key as nobody in particular.
        request.user = key.user if key.user is not None else AnonymousUser()
        return key


class ApiKeyHeaderAuth(APIKeyHeader):
    param_name = "X-Api-Key"

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        return BearerToken().authenticate(request, key or "")


api = NinjaAPI(
    title="gongzhi API",
    version="1",
    description="共治 市域社会治理平台 API · the gongzhi city governance API",
    urls_namespace="api-v1",
    auth=[BearerToken(), ApiKeyHeaderAuth(), django_auth],
    parser=StrictParser(),
)


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"code": code, "message": message, "details": details or {}}


@api.exception_handler(DomainError)
def on_domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    response = api.create_response(
        request, error_body(exc.code, exc.message, exc.details), status=exc.status
    )
    if "retry_after" in exc.details:
        response["Retry-After"] = str(exc.details["retry_after"])
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    problems = [
        {"field": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return api.create_response(
        request,
        error_body("invalid_input", _("Some fields are missing or wrong."), {"fields": problems}),
        status=422,
    )


@api.exception_handler(AuthenticationError)
def on_auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return api.create_response(
        request,
        error_body(
            "not_authenticated",
            _("Log in first: send 'Authorization: Bearer <token>' from POST /api/v1/auth/token."),
        ),
        status=401,
    )


@api.exception_handler(OperationalError)
@api.exception_handler(InterfaceError)
def on_database_down(request: HttpRequest, exc: Exception) -> HttpResponse:
    return unavailable(request)


@api.exception_handler(HttpError)
def on_http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    cause = exc.__cause__
    if isinstance(cause, BadBody):  # ninja wraps whatever the parser raises
        return api.create_response(
            request, error_body(cause.code, cause.message, cause.details), status=cause.status
        )
    return api.create_response(
        request, error_body(f"http_{exc.status_code}", str(exc)), status=exc.status_code
    )


api.add_router("/", accounts_router)
api.add_router("/", territory_router)
api.add_router("/", cases_router)
api.add_router("/", notifications_router)
api.add_router("/", evaluation_router)
api.add_router("/", assessment_router)
api.add_router("/", triage_router)
