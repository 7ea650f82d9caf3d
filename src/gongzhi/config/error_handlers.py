"""Django's error handlers (``handler400``, ``handler404``) and the API's answer to a wrong
method: every error a person or a client can cause is a clear 4xx in the form its path
speaks. JSON ``{"code", "message", "details"}`` under /api/, the Open311 error document
under /open311/ (docs/open311.md), a page with the message everywhere else.

A body over ``DATA_UPLOAD_MAX_MEMORY_SIZE`` answers 413 (Open311: 400 with code 413, as the
spec allows only 400, 403 and 404); too many fields or files, and other requests Django
refuses as malformed, 400.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.utils.html import escape
from django.utils.translation import gettext as _
from django.views import defaults

from gongzhi.core.errors import DomainError
from gongzhi.open311 import formats

PAYLOAD_TOO_LARGE = 413


def _is_api(request: HttpRequest) -> bool:
    return request.path.startswith("/api/")


def _is_open311(request: HttpRequest) -> bool:
    return request.path.startswith("/open311/")


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):g}"


def _refusal(exception: Exception | None) -> DomainError:
    """The error to show for a request Django refused before any view could read it."""
    if isinstance(exception, RequestDataTooBig):
        error = DomainError(
            _(
                "The request is too large: the text of a form or a JSON body may be at most "
                "%(size)s MB. Shorten it and try again."
            )
            % {"size": _megabytes(settings.DATA_UPLOAD_MAX_MEMORY_SIZE or 0)},
            code="request_too_large",
        )
        error.status = PAYLOAD_TOO_LARGE
        return error
    if isinstance(exception, TooManyFieldsSent):
        return DomainError(
            _("The request has too many fields (at most %(count)d).")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FIELDS or 0},
            code="too_many_fields",
        )
    if isinstance(exception, TooManyFilesSent):
        return DomainError(
            _("The request has too many files (at most %(count)d).")
            % {"count": settings.DATA_UPLOAD_MAX_NUMBER_FILES or 0},
            code="too_many_files",
        )
    return DomainError(
        _("The request could not be read. Check what was sent and try again."),
        code="bad_request",
    )


def _answer(request: HttpRequest, error: DomainError) -> HttpResponse:
    if _is_api(request):
        body = {"code": error.code, "message": error.message, "details": error.details}
        return JsonResponse(body, status=error.status)
    if _is_open311(request):
        fmt = "json" if request.path.endswith(".json") else "xml"
        return formats.errors(fmt, [(error.status, error.message)], status=400)
    if not hasattr(request, "user"):  # refused before the middleware had run: a plain page
        return HttpResponse(
            '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8">'
            f"<title>{error.status}</title><h1>{error.status}</h1>"
            f"<p>{escape(error.message)}</p></html>",
            status=error.status,
            content_type="text/html; charset=utf-8",
        )
    page = TemplateResponse(
        request, "error.html", {"error": error, "status": error.status}, status=error.status
    )
    return page.render()


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """``CSRF_FAILURE_VIEW``: a form refused by the CSRF check, on the site's own error page
    (Django's page has an inline style the Content-Security-Policy blocks, and is English)."""
    error = DomainError(
        _(
            "This form was not accepted: it was open too long, or the page did not come from "
            "this site. Reload the page and send the form again."
        ),
        code="csrf_failed",
    )
    error.status = 403
    return _answer(request, error)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler400``: oversized or malformed requests, in the form the path speaks."""
    return _answer(request, _refusal(exception))


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """``handler404``: JSON for a path under /api/ that names no endpoint; Django's page
    (templates/404.html) elsewhere."""
    if _is_api(request):
        error = DomainError(
            _("There is no such API endpoint. The list is at /api/v1/docs."), code="not_found"
        )
        error.status = 404
        return _answer(request, error)
    return defaults.page_not_found(request, exception)


View = Callable[..., HttpResponseBase]


def json_method_errors(view: View) -> View:
    """Wrap one of the API's URL views so that a method it does not offer answers 405 in
    JSON (django-ninja answers it in plain text)."""

    @wraps(view)
    def run(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code != 405 or response.get("Content-Type", "").startswith(
            "application/json"
        ):
            return response
        allowed = response.get("Allow", "")
        body = {
            "code": "method_not_allowed",
            "message": _("%(method)s is not allowed here; use %(allowed)s.")
            % {"method": request.method, "allowed": allowed},
            "details": {"allowed": [m.strip() for m in allowed.split(",") if m.strip()]},
        }
        answer = JsonResponse(body, status=405)
        answer["Allow"] = allowed
        return answer

    return run
