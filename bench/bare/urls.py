"""POST /rows inserts one row and answers 201 with its id; GET /ping answers 200."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import path
from ninja import NinjaAPI, Schema

from bare.models import Row

api = NinjaAPI(title="bench bare", docs_url=None, openapi_url=None)


class RowIn(Schema):
    title: str
    description: str
    latitude: float | None = None
    longitude: float | None = None


class RowOut(Schema):
    id: int


@api.post("/rows", response={201: RowOut})
def create_row(request: HttpRequest, payload: RowIn) -> tuple[int, RowOut]:
    row = Row.objects.create(**payload.dict())
    return 201, RowOut(id=row.pk)


@api.get("/ping")
def ping(request: HttpRequest) -> dict[str, bool]:
    return {"ok": True}


urlpatterns = [path("", api.urls)]
