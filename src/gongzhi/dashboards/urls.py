"""URLs of dashboards: the command centre and the public page."""

from __future__ import annotations

from django.urls import path

from gongzhi.dashboards import views

app_name = "dashboards"
urlpatterns = [
    path("command/", views.command_centre, name="command_centre"),
    path("public/", views.public, name="public"),
]
