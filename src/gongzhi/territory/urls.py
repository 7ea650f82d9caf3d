from __future__ import annotations

from django.urls import path

from gongzhi.territory import views

app_name = "territory"

urlpatterns = [
    path("regions/", views.region_tree, name="regions"),
    path("regions/<int:region_id>/", views.region_detail, name="region"),
    path("regions/<int:region_id>/children/", views.region_children, name="region-children"),
    path("regions/<int:region_id>/edit/", views.region_edit, name="region-edit"),
    path("units/", views.unit_list, name="units"),
    path("units/<int:unit_id>/", views.unit_detail, name="unit"),
    path("units/<int:unit_id>/edit/", views.unit_edit, name="unit-edit"),
    path("units/<int:unit_id>/members/", views.grant_membership, name="grant-membership"),
    path(
        "memberships/<int:membership_id>/revoke/",
        views.revoke_membership,
        name="revoke-membership",
    ),
]
