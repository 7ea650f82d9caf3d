"""The Open311 GeoReport v2 endpoints, at /open311/v2/ (docs/open311.md).

Each view: check the method, the key (if any) and the rate limit, parse the arguments, read
through ``queries`` or write through ``services``, answer in the format the path's extension
names. Every error is an Open311 error document in that format. The endpoints are public
(the spec's GET methods need no key) and ignore any session: a logged-in staff member reads
exactly what the public reads. POST is authenticated by its ``api_key``, not by a cookie, so
it is exempt from CSRF.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import FileResponse, HttpRequest, HttpResponse, JsonResponse
from django.http.response import HttpResponseBase
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gongzhi.accounts.auth import find_valid_key
from gongzhi.accounts.choices import ApiKeyKind
from gongzhi.accounts.services import record_api_key_use
from gongzhi.cases.intake import queued_with_receipt, status_of
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied
from gongzhi.open311 import arguments, formats, queries, services, throttle
from gongzhi.open311.choices import CHANGESET, SPECIFICATION_URL
from gongzhi.open311.errors import (
    METHOD_NOT_ALLOWED,
    BadRequest,
    Forbidden,
    Missing,
    Open311Error,
    RateLimited,
)
from gongzhi.open311.openapi import openapi_document
from gongzhi.open311.queries import ApiKey

View = Callable[..., HttpResponseBase]


def service_type() -> str:
    """realtime (default): POST answers the service_request_id at once; batch: a token."""
    return (
        "batch" if getattr(settings, "GONGZHI_OPEN311_SERVICE_TYPE", "") == "batch" else "realtime"
    )


def _raw_key(request: HttpRequest) -> str:
    posted = request.POST.get("api_key") if request.method == "POST" else None
    raw = posted or request.headers.get("X-Api-Key") or request.GET.get("api_key") or ""
    return raw.replace("\x00", "").strip()


def _guard(request: HttpRequest) -> ApiKey | None:
    """The client's key (None without one) and its rate limit; 403 for a wrong key."""
    raw = _raw_key(request)
    key = find_valid_key(raw) if raw else None
    if key is not None and key.kind != ApiKeyKind.INTEGRATION:
        key = None
    if key is not None:
        wait = throttle.hit("key", str(key.pk))
    else:
        wait = throttle.hit("address", request.META.get("REMOTE_ADDR", "") or "unknown")
    if wait is not None:
        raise RateLimited(
            _("Too many requests: wait %(seconds)d seconds, then try again.") % {"seconds": wait},
            retry_after=wait,
        )
    if raw and key is None:
        raise Forbidden(
            _(
                "The api_key is not valid: unknown, revoked, expired, or a personal token. "
                "Ask the city command centre for an integration key."
            )
        )
    if key is not None:
        record_api_key_use(key)
    return key


def _as_open311(error: DomainError) -> Open311Error:
    if isinstance(error, Open311Error):
        return error
    if isinstance(error, NotFound):
        return Missing(error.message)
    if isinstance(error, PermissionDenied):
        return Forbidden(error.message)
    return BadRequest(error.message)


def endpoint(*methods: str) -> Callable[[View], View]:
    """Public, CSRF-exempt, method-checked, rate-limited, answering Open311 errors."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: View) -> View:
        @wraps(view)
        def run(
            request: HttpRequest, *args: Any, fmt: str = "xml", **kwargs: Any
        ) -> HttpResponseBase:
            try:
                if request.method not in allowed:
                    raise BadRequest(
                        _("%(method)s is not allowed here; use %(allowed)s.")
                        % {"method": request.method, "allowed": ", ".join(sorted(methods))},
                        body_code=METHOD_NOT_ALLOWED,
                    )
                request.open311_key = _guard(request)  # type: ignore[attr-defined]
                return view(request, *args, fmt=fmt, **kwargs)
            except DomainError as raised:
                error = _as_open311(raised)
                response = formats.errors(fmt, error.errors, status=error.status)
                if error.retry_after is not None:
                    response["Retry-After"] = str(error.retry_after)
                return response

        return login_not_required(csrf_exempt(run))

    return decorate


def _base_url(request: HttpRequest) -> str:
    discovery = reverse("open311:discovery", kwargs={"fmt": "xml"})
    return request.build_absolute_uri(discovery.removesuffix("/discovery.xml"))


@endpoint("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    document = {
        "changeset": CHANGESET,
        "contact": str(
            getattr(settings, "GONGZHI_OPEN311_CONTACT", "")
            or _("The city command centre (12345 hotline)")
        ),
        "key_service": str(
            getattr(settings, "GONGZHI_OPEN311_KEY_SERVICE", "")
            or _(
                "Ask the city command centre for an integration key: an administrator issues "
                "it under API keys in gongzhi."
            )
        ),
        "endpoints": [
            {
                "specification": SPECIFICATION_URL,
                "url": _base_url(request),
                "changeset": CHANGESET,
                "type": "test" if settings.DEBUG else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return formats.respond(fmt, "discovery", document)


@endpoint("GET")
def service_list(request: HttpRequest, fmt: str) -> HttpResponse:
    arguments.jurisdiction(request.GET)
    kind = service_type()
    documents = [formats.service_document(s, kind) for s in queries.services()]
    return formats.respond(fmt, "services", documents)


@endpoint("GET")
def service_definition(request: HttpRequest, code: str, fmt: str) -> HttpResponse:
    arguments.jurisdiction(request.GET)
    service = queries.service_with_code(code)
    if service is None:
        raise Missing(
            _("There is no service with service_code %(code)s. GET services.xml lists the codes.")
            % {"code": code[:30]}
        )
    return formats.respond(fmt, "service_definition", formats.definition_document(service))


@endpoint("GET", "POST")
def requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return _submit(request, fmt)
    within = arguments.jurisdiction(request.GET)
    filters = arguments.request_filters(request.GET)
    page = arguments.page(request.GET)
    found = queries.find_requests(filters, within)
    cases = list(found[page.offset : page.offset + page.size])
    extensions = arguments.flag(request.GET, "extensions")
    documents = formats.request_documents(request, cases, extensions=extensions)
    return formats.respond(fmt, "service_requests", documents)


def _submit(request: HttpRequest, fmt: str) -> HttpResponse:
    key: ApiKey | None = getattr(request, "open311_key", None)
    if key is None:
        raise Forbidden(
            _(
                "api_key was not provided. Send the integration key the city command centre "
                "gave you in the api_key field."
            )
        )
    within = arguments.jurisdiction(request.POST)
    if within is None:
        raise BadRequest(_("This server has no city yet: nothing can be reported."))
    idempotency_key = arguments.idempotency_key(request)
    body_hash = arguments.body_hash(request)  # before the files are read
    new = arguments.service_request(request, within)
    if service_type() == "batch" and not new.media:
        # Accepted into the intake queue: the case follows within seconds (ADR 0007).
        token = services.accept_request(
            new, api_key=key, idempotency_key=idempotency_key, body_hash=body_hash
        )
        return formats.respond(fmt, "service_requests", [{"token": token}])
    submitted = services.submit_request(
        new, api_key=key, idempotency_key=idempotency_key, body_hash=body_hash
    )
    case = submitted.case
    document: dict[str, Any]
    if service_type() == "batch":
        document = {"token": submitted.submission.token}
    else:
        document = {
            "service_request_id": case.number,
            "service_notice": services.service_notice(case),
            "account_id": None,
        }
    response = formats.respond(fmt, "service_requests", [document])
    if submitted.replayed:
        response["Idempotent-Replayed"] = "true"
    return response


@endpoint("GET")
def service_request(request: HttpRequest, number: str, fmt: str) -> HttpResponse:
    within = arguments.jurisdiction(request.GET)
    case = queries.public_case_with_number(number, within)
    if case is None:
        raise Missing(
            _(
                "There is no public service request %(number)s. Check the number; matters "
                "about people (disputes, risk clues) are never published."
            )
            % {"number": number[:30]}
        )
    extensions = arguments.flag(request.GET, "extensions")
    documents = formats.request_documents(request, [case], extensions=extensions)
    return formats.respond(fmt, "service_requests", documents)


@endpoint("GET")
def token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    arguments.jurisdiction(request.GET)
    submission = queries.submission_with_token(token)
    document: dict[str, str | None]
    if submission is not None:
        document = {"service_request_id": submission.case.number, "token": submission.token}
        return formats.respond(fmt, "service_requests", [document])
    queued = queued_with_receipt(token, source=services.SOURCE)
    if queued is None:
        raise Missing(_("There is no request with token %(token)s.") % {"token": token[:40]})
    if status_of(queued) == "refused":
        raise Missing(
            _("The request with token %(token)s could not become a case: %(reason)s")
            % {"token": queued.receipt, "reason": queued.last_error}
        )
    # Accepted, the case not made yet: GeoReport's token answer without an id (ask again).
    document = {"service_request_id": None, "token": queued.receipt}
    return formats.respond(fmt, "service_requests", [document])


@endpoint("GET")
def service_request_updates(request: HttpRequest, fmt: str) -> HttpResponse:
    within = arguments.jurisdiction(request.GET)
    start, end = arguments.window(request.GET, "start_date", "end_date", default_to_recent=True)
    assert start is not None  # noqa: S101 (default_to_recent gives both ends)
    assert end is not None  # noqa: S101
    page = arguments.page(request.GET)
    events = list(
        queries.updates_between(start, end, within)[page.offset : page.offset + page.size]
    )
    return formats.respond(fmt, "service_request_updates", formats.update_documents(events))


@endpoint("GET")
def photo(
    request: HttpRequest, photo_id: str, extension: str, fmt: str = "xml"
) -> HttpResponseBase:
    found = queries.public_photo(photo_id)
    if found is None or found.extension != f".{extension}":
        raise Missing(_("There is no public photo here."))
    try:
        opened = found.file.open("rb")
    except OSError:
        raise Missing(_("There is no public photo here.")) from None
    response = FileResponse(opened, content_type=found.content_type)
    response["Content-Disposition"] = "inline"
    response["Cache-Control"] = "public, max-age=3600"
    return response


@endpoint("GET")
def openapi(request: HttpRequest, fmt: str = "json") -> HttpResponse:
    return JsonResponse(
        openapi_document(_base_url(request)), json_dumps_params={"ensure_ascii": False}
    )


@endpoint("GET", "POST", "PUT", "PATCH", "DELETE")
def not_found(request: HttpRequest, rest: str, fmt: str = "xml") -> HttpResponse:
    raise Missing(
        _(
            "There is no such Open311 resource. Paths end in .xml or .json, e.g. "
            "services.xml, requests.json, requests/20261127-00001.xml."
        )
    )
