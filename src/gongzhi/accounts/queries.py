"""Reads about people: their memberships and the scope each capability gives them."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import (
    ROLE_CAPABILITIES,
    AccountsAuditAction,
    Capability,
    MembershipRole,
)
from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.core.models import AuditEvent
from gongzhi.core.scoping import Scope
from gongzhi.territory.choices import TerritoryAuditAction

AnyUser = User | AnonymousUser
_CACHE = "_gongzhi_memberships"
EVERYWHERE = Scope(paths=("",))  # "" is a prefix of every path: the whole tree


def active_memberships(user: AnyUser) -> list[Membership]:
    """The person's active memberships, read once per user object (i.e. once per request)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached: list[Membership] | None = getattr(user, _CACHE, None)
    if cached is None:
        cached = list(
            Membership.objects.filter(user=user, is_active=True)
            .select_related("unit", "region")
            # A district's outline runs to hundreds of kilobytes; scopes need only its path.
            .defer("region__boundary")
            .order_by("region__path", "role")
        )
        setattr(user, _CACHE, cached)
    return cached


def forget_memberships(user: Any) -> None:
    """Drop the per-request cache after the person's memberships changed."""
    if hasattr(user, _CACHE):
        delattr(user, _CACHE)


def is_staff_member(user: AnyUser) -> bool:
    return bool(active_memberships(user)) or bool(user.is_authenticated and user.is_superuser)


def scope_of(user: AnyUser, capability: str) -> Scope:
    """The region subtrees where ``user`` has ``capability``; empty for residents."""
    if not user.is_authenticated or not user.is_active:
        return Scope()
    if user.is_superuser:
        return EVERYWHERE
    memberships = [
        m for m in active_memberships(user) if capability in ROLE_CAPABILITIES.get(m.role, ())
    ]
    return Scope.of((m.region.path for m in memberships), (m.unit_id for m in memberships))


def units_with(user: AnyUser, capability: str) -> frozenset[int]:
    """The units for which ``user`` has ``capability`` (e.g. whose cases they handle)."""
    return frozenset(
        m.unit_id
        for m in active_memberships(user)
        if capability in ROLE_CAPABILITIES.get(m.role, ())
    )


def acting_membership(user: AnyUser, capability: str, path: str) -> Membership | None:
    """The narrowest membership that grants ``capability`` over the region at ``path``."""
    candidates = [
        m
        for m in active_memberships(user)
        if capability in ROLE_CAPABILITIES.get(m.role, ()) and path.startswith(m.region.path)
    ]
    return max(candidates, key=lambda m: len(m.region.path), default=None)


def members_of_unit(unit_id: int) -> QuerySet[Membership]:
    return (
        Membership.objects.filter(unit_id=unit_id, is_active=True)
        .select_related("user", "region")
        .order_by("region__path", "role", "user__username")
    )


def api_keys_of_units(unit_ids: list[int]) -> QuerySet[ApiKey]:
    return (
        ApiKey.objects.filter(unit_id__in=unit_ids)
        .select_related("unit", "created_by")
        .order_by("-created_at")
    )


def audit_events_visible_to(user: AnyUser) -> QuerySet[AuditEvent]:
    """The audit events of the regions where ``user`` reads the audit log."""
    return AuditEvent.objects.filter(scope_of(user, Capability.VIEW_AUDIT).q("region_path"))


def audit_labels() -> dict[str, str]:
    """What the audit pages call actions and roles (the value itself when unnamed)."""
    labelled = [
        *MembershipRole.choices,
        *AccountsAuditAction.choices,
        *TerritoryAuditAction.choices,
    ]
    return {value: str(label) for value, label in labelled} | {"superuser": _("Superuser")}


def audit_actions(events: QuerySet[AuditEvent]) -> list[tuple[str, str]]:
    """The actions ``events`` hold, with their names, to filter by: sorted by name."""
    labels = audit_labels()
    present = events.order_by().values_list("action", flat=True).distinct()
    return sorted(((a, labels.get(a, a)) for a in present), key=lambda choice: choice[1])
