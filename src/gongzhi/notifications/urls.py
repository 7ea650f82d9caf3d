from __future__ import annotations

from django.urls import path

from gongzhi.notifications import views

app_name = "notifications"

urlpatterns = [
    path("", views.notice_list, name="list"),
    path("<int:notice_id>/read/", views.read_notice, name="read"),
]
