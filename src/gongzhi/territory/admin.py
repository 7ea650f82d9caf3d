"""Back office for regions and units: scoped lists, and saves that go through services."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from gongzhi.accounts.choices import Capability
from gongzhi.accounts.queries import scope_of
from gongzhi.core.admin_mixins import ListedWhenViewable
from gongzhi.territory import policies, services
from gongzhi.territory.models import Region, Unit


@admin.register(Region)
class RegionAdmin(ListedWhenViewable, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "code", "level", "parent")
    list_filter = ("level",)
    search_fields = ("name", "code")
    fields = ("code", "name", "level", "parent", "boundary", "centre_lat", "centre_lng")
    readonly_fields = ("code", "level", "parent")
    list_select_related = ("parent",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Region]:
        return policies.regions_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # regions are added by import or by the region page, with code checks

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # other records point at regions; history must keep them

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not scope_of(request.user, Capability.VIEW_TERRITORY).is_empty

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return not scope_of(request.user, Capability.MANAGE_TERRITORY).is_empty
        return policies.can_edit_region(request.user, obj)

    def save_model(
        self, request: HttpRequest, obj: Region, form: ModelForm[Any], change: bool
    ) -> None:
        services.update_region(
            Region.objects.get(pk=obj.pk),
            actor=request.user,
            name=form.cleaned_data["name"],
            boundary=form.cleaned_data["boundary"],
            centre=(
                (form.cleaned_data["centre_lat"], form.cleaned_data["centre_lng"])
                if form.cleaned_data["centre_lat"] is not None
                and form.cleaned_data["centre_lng"] is not None
                else None
            ),
            reason="back office",
        )


@admin.register(Unit)
class UnitAdmin(ListedWhenViewable, admin.ModelAdmin):  # type: ignore[type-arg]
    list_display = ("name", "kind", "region", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name",)
    fields = ("name", "short_name", "kind", "region", "parent", "phone", "is_active")
    readonly_fields = ("kind", "region", "parent")
    list_select_related = ("region",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Unit]:
        return policies.units_visible_to(request.user)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not scope_of(request.user, Capability.VIEW_TERRITORY).is_empty

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if obj is None:
            return not scope_of(request.user, Capability.MANAGE_TERRITORY).is_empty
        return policies.can_edit_unit(request.user, obj)

    def save_model(
        self, request: HttpRequest, obj: Unit, form: ModelForm[Any], change: bool
    ) -> None:
        services.update_unit(
            Unit.objects.select_related("region").get(pk=obj.pk),
            actor=request.user,
            name=form.cleaned_data["name"],
            short_name=form.cleaned_data["short_name"],
            phone=form.cleaned_data["phone"],
            is_active=form.cleaned_data["is_active"],
            reason="back office",
        )
