"""What people get while the database is away: 503 with a message they can act on, never a
stack trace. Django reconnects by itself once the database is back (``CONN_HEALTH_CHECKS``),
so recovery needs nothing from us."""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.utils.html import escape
from django.utils.translation import gettext as _

log = logging.getLogger("gongzhi.availability")
RETRY_AFTER_SECONDS = 5
DATABASE_DOWN = (OperationalError, InterfaceError)


class DatabaseDownFilter(logging.Filter):
    """Keeps Django's request logger from writing a full traceback for every request while
    the database is away: ``server_error`` logs one warning line for each instead."""

    def filter(self, record: logging.LogRecord) -> bool:
        error = record.exc_info[1] if record.exc_info else None
        return not isinstance(error, DATABASE_DOWN)


def wants_json(request: HttpRequest) -> bool:
    """The API, Open311, the pages' JSON endpoints (``.../map.json``) and clients that
    accept JSON but not HTML get JSON; people get a page."""
    if request.path.startswith(("/api/", "/open311/")) or request.path.endswith(".json"):
        return True
    accept = request.headers.get("Accept", "")
    return "application/json" in accept and "text/html" not in accept


def unavailable(request: HttpRequest) -> HttpResponse:
    message = _(
        "The service is briefly unavailable: the database cannot be reached. "
        "If you got no confirmation, nothing was saved: please try again in a minute."
    )
    if wants_json(request):
        response: HttpResponse = JsonResponse(
            {"code": "service_unavailable", "message": message, "details": {}}, status=503
        )
    else:
        response = HttpResponse(
            '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8"><title>503</title>'
            f"<h1>503</h1><p>{escape(message)}</p></html>",
            status=503,
            content_type="text/html; charset=utf-8",
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def server_error(request: HttpRequest) -> HttpResponse:
    """``handler500``: 503 for a database outage, otherwise a plain 500 without details."""
    error = sys.exc_info()[1]
    if isinstance(error, DATABASE_DOWN):
        log.warning("database unavailable: %s", type(error).__name__)
        return unavailable(request)
    if wants_json(request):
        return JsonResponse(
            {
                "code": "server_error",
                "message": _("Something went wrong on our side."),
                "details": {},
            },
            status=500,
        )
    return HttpResponseServerError(
        '<!DOCTYPE html><html lang="zh-CN"><meta charset="utf-8"><title>500</title>'
        f"<h1>500</h1><p>{escape(_('Something went wrong on our side.'))}</p></html>"
    )
