from __future__ import annotations

from django.urls import path

from gongzhi.cases import views

app_name = "cases"

urlpatterns = [
    path("", views.case_queues, name="queues"),
    path("mine/", views.my_cases, name="mine"),
    path("new/", views.new_case, name="new"),
    path("where.json", views.where_is, name="where"),
    path("map/", views.case_map, name="map"),
    path("map.json", views.case_map_json, name="map-json"),
    path("<uuid:case_id>/", views.case_detail, name="detail"),
    path("<uuid:case_id>/submitted/", views.case_submitted, name="submitted"),
    path("<uuid:case_id>/act/<str:action>/", views.case_act, name="act"),
    path("<uuid:case_id>/duplicates/", views.case_duplicates, name="duplicates"),
    path("<uuid:case_id>/photos/<uuid:photo_id>/", views.case_photo, name="photo"),
]
