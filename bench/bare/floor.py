"""The floor of ``bench/bench_intake.py``: what any authenticated submission to the project
costs before it does any work of its own. The project's whole stack (its settings,
middleware and URLs, served the same way), the API's own bearer-token authentication (the
key looked up and its use noted, the person resolved) and the person's memberships read (as
every intake decides what a person may raise), then the bare baseline's one INSERT
(``bare.models.Row``) and a 201 with the id. Served with ``DJANGO_SETTINGS_MODULE=
bare.floor_settings``; ``bench/`` and ``src/`` on ``sys.path``.

Intake can't be cheaper than this; the bare endpoint (``bare.urls``) has none of it.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.urls import URLPattern, path
from ninja import NinjaAPI, Schema

from bare.models import Row
from gongzhi.accounts.queries import active_memberships
from gongzhi.config.api import BearerToken
from gongzhi.config.urls import urlpatterns as project_urlpatterns

api = NinjaAPI(title="bench floor", docs_url=None, openapi_url=None, urls_namespace="bench-floor")


class RowIn(Schema):
    title: str
    description: str
    latitude: float | None = None
    longitude: float | None = None


class RowOut(Schema):
    id: int


@api.post("/rows", response={201: RowOut}, auth=[BearerToken()])
def create_row(request: HttpRequest, payload: RowIn) -> tuple[int, RowOut]:
    active_memberships(request.user)
    row = Row.objects.create(**payload.dict())
    return 201, RowOut(id=row.pk)


def floor_urls() -> tuple[list[Any], str, str]:
    """Exempt from LoginRequiredMiddleware, as the project's API is (``api_urls``)."""
    patterns, app_name, namespace = api.urls
    for pattern in patterns:
        if isinstance(pattern, URLPattern):
            pattern.callback.login_required = False  # type: ignore[attr-defined]
    return patterns, app_name, namespace


urlpatterns = [path("floor/", floor_urls()), *project_urlpatterns]
