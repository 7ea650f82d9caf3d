"""Pages over the command chain. Thin: access, call the service, render."""

from __future__ import annotations

import json

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from gongzhi.accounts import policies as account_policies
from gongzhi.accounts import services as account_services
from gongzhi.accounts.choices import Capability
from gongzhi.accounts.forms import MembershipForm, ReasonForm
from gongzhi.accounts.queries import members_of_unit, scope_of
from gongzhi.core.errors import DomainError, NotFound, PermissionDenied
from gongzhi.territory import policies, queries, services
from gongzhi.territory.choices import UnitKind
from gongzhi.territory.forms import RegionForm, UnitForm
from gongzhi.territory.models import Region


def _require_staff(request: HttpRequest) -> None:
    if scope_of(request.user, Capability.VIEW_TERRITORY).is_empty:
        raise PermissionDenied(_("This page is for staff of the governance system."))


def region_tree(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    roots = queries.scope_roots(scope_of(request.user, Capability.VIEW_TERRITORY)).annotate(
        children_count=Count("children")
    )
    return render(request, "territory/region_tree.html", {"roots": roots})


def region_children(request: HttpRequest, region_id: int) -> HttpResponse:
    """The next level of the tree, loaded by htmx when a node is opened."""
    region = policies.access_region(request.user, region_id)
    return render(
        request,
        "territory/_region_children.html",
        {"children": queries.children_with_counts(region)},
    )


def region_detail(request: HttpRequest, region_id: int) -> HttpResponse:
    region = policies.access_region(request.user, region_id)
    visible = policies.regions_visible_to(request.user)
    children = Paginator(queries.children_with_counts(region), 100).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "territory/region_detail.html",
        {
            "region": region,
            "ancestors": visible.filter(path__in=region.ancestor_paths).order_by("level"),
            "children": children,
            "level_counts": queries.region_level_counts(region),
            "units": queries.units_covering(region)[:200],
            "can_edit": policies.can_edit_region(request.user, region),
            "boundary_json": json.dumps(region.boundary) if region.boundary else "null",
            "map_tiles_url": settings.GONGZHI_MAP_TILES_URL,
        },
    )


def region_edit(request: HttpRequest, region_id: int) -> HttpResponse:
    region = policies.access_region(request.user, region_id, action="edit")
    initial = {
        "name": region.name,
        "centre_lat": region.centre_lat,
        "centre_lng": region.centre_lng,
        "boundary": json.dumps(region.boundary, ensure_ascii=False) if region.boundary else "",
    }
    form = RegionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        centre = None
        if data["centre_lat"] is not None and data["centre_lng"] is not None:
            centre = (data["centre_lat"], data["centre_lng"])
        try:
            services.update_region(
                region,
                actor=request.user,
                name=data["name"],
                boundary=data["boundary"],
                centre=centre,
                reason=data["reason"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Region saved."))
            return redirect("territory:region", region_id=region.pk)
    return render(request, "territory/region_edit.html", {"region": region, "form": form})


def unit_list(request: HttpRequest) -> HttpResponse:
    _require_staff(request)
    units = policies.units_visible_to(request.user)
    kind = request.GET.get("kind", "")
    if kind in UnitKind.values:
        units = units.filter(kind=kind)
    # NUL can be in no name (and PostgreSQL refuses it in a query): searched for as nothing.
    q = request.GET.get("q", "").replace("\x00", "").strip()[:50]
    if q:
        units = units.filter(name__contains=q)
    pager = Paginator(units.order_by("region__path", "kind", "name"), 50)
    return render(
        request,
        "territory/unit_list.html",
        {
            "page": pager.get_page(request.GET.get("page")),
            "kinds": UnitKind.choices,
            "kind": kind,
            "q": q,
        },
    )


def unit_detail(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = policies.access_unit(request.user, unit_id)
    can_manage = policies.can_manage_members_of_unit(request.user, unit)
    return render(
        request,
        "territory/unit_detail.html",
        {
            "unit": unit,
            "jurisdictions": unit.jurisdictions.order_by("path"),
            "members": members_of_unit(unit.pk)[:500],
            "can_edit": policies.can_edit_unit(request.user, unit),
            "can_manage_members": can_manage,
            "membership_form": MembershipForm() if can_manage else None,
        },
    )


def unit_edit(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = policies.access_unit(request.user, unit_id, action="edit")
    initial = {
        "name": unit.name,
        "short_name": unit.short_name,
        "phone": unit.phone,
        "is_active": unit.is_active,
    }
    form = UnitForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.update_unit(
                unit,
                actor=request.user,
                name=data["name"],
                short_name=data["short_name"],
                phone=data["phone"],
                is_active=data["is_active"],
                reason=data["reason"],
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            messages.success(request, _("Unit saved."))
            return redirect("territory:unit", unit_id=unit.pk)
    return render(request, "territory/unit_edit.html", {"unit": unit, "form": form})


@require_POST
def grant_membership(request: HttpRequest, unit_id: int) -> HttpResponse:
    unit = policies.access_unit(request.user, unit_id, action="manage_members")
    form = MembershipForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            region = Region.objects.filter(code=data["region_code"].strip()).first()
            if region is None:
                raise NotFound(_("No region has that code."))
            region = policies.access_region(request.user, region.pk)
            person = account_policies.find_person(data["username"].strip())
            account_services.grant_membership(
                person,
                unit=unit,
                role=data["role"],
                region=region,
                title=data["title"],
                actor=request.user,
            )
        except DomainError as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Role granted."))
    else:
        messages.error(request, _("Fill in the username, role and region code."))
    return redirect("territory:unit", unit_id=unit.pk)


@require_POST
def revoke_membership(request: HttpRequest, membership_id: int) -> HttpResponse:
    membership = account_policies.access_membership(request.user, membership_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():  # a reason too long or not text: nothing is revoked
        messages.error(request, " ".join(str(e) for e in form.errors["reason"]))
        return redirect("territory:unit", unit_id=membership.unit_id)
    try:
        account_services.revoke_membership(
            membership, actor=request.user, reason=form.cleaned_data["reason"]
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Role revoked."))
    return redirect("territory:unit", unit_id=membership.unit_id)
