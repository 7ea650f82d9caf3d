"""The JSON API, version 1: one NinjaAPI, routers from each app, one error handler.

Authentication: a session (the web UI, with CSRF), or ``Authorization: Bearer <token>``
with a personal token from ``POST /api/v1/auth/token`` or an integration key.
Errors are ``{"code": ..., "message": ..., "details": {...}}`` with a stable code.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
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


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Any:
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
