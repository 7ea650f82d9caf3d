"""Open311 GeoReport v2 at /open311/v2/: each resource in .xml and .json."""

from __future__ import annotations

from django.urls import path, re_path

from gongzhi.open311 import views

app_name = "open311"

FMT = r"(?P<fmt>xml|json)"

urlpatterns = [
    re_path(rf"^discovery\.{FMT}$", views.discovery, name="discovery"),
    re_path(rf"^services\.{FMT}$", views.service_list, name="services"),
    re_path(rf"^services/(?P<code>[^/]+)\.{FMT}$", views.service_definition, name="service"),
    re_path(rf"^requests\.{FMT}$", views.requests, name="requests"),
    re_path(rf"^requests/(?P<number>[^/]+)\.{FMT}$", views.service_request, name="request"),
    re_path(rf"^tokens/(?P<token>[^/]+)\.{FMT}$", views.token, name="token"),
    re_path(rf"^servicerequestupdates\.{FMT}$", views.service_request_updates, name="updates"),
    path("media/<uuid:photo_id>.<str:extension>", views.photo, name="media"),
    path("openapi.json", views.openapi, name="openapi"),
    # Anything else: an Open311 404 (in JSON when the path asks for JSON).
    re_path(r"^(?P<rest>.*)\.(?P<fmt>json)$", views.not_found, name="not-found"),
    re_path(r"^(?P<rest>.*)$", views.not_found, name="not-found"),
]
