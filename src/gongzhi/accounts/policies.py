"""Who may see and change memberships and API keys."""

from __future__ import annotations

import uuid

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts.choices import ApiKeyKind, Capability
from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.accounts.queries import AnyUser, scope_of
from gongzhi.core.errors import NotFound


def memberships_manageable_by(user: AnyUser) -> QuerySet[Membership]:
    return Membership.objects.filter(
        scope_of(user, Capability.MANAGE_MEMBERS).q("unit__region__path")
    ).select_related("user", "unit__region", "region")


def access_membership(user: AnyUser, membership_id: int | str) -> Membership:
    try:
        return memberships_manageable_by(user).get(pk=int(membership_id))
    except (Membership.DoesNotExist, ValueError, TypeError):
        raise NotFound(_("No such membership.")) from None


def api_keys_manageable_by(user: AnyUser) -> QuerySet[ApiKey]:
    return ApiKey.objects.filter(
        scope_of(user, Capability.MANAGE_API_KEYS).q("unit__region__path")
    ).select_related("unit__region", "created_by")


def access_api_key(user: AnyUser, key_id: object) -> ApiKey:
    try:
        return api_keys_manageable_by(user).get(pk=uuid.UUID(str(key_id)))
    except (ApiKey.DoesNotExist, ValueError):
        raise NotFound(_("No such API key.")) from None


def can_view_audit(user: AnyUser) -> bool:
    return not scope_of(user, Capability.VIEW_AUDIT).is_empty


def find_person(username: str) -> User:
    """People are looked up by exact username only (no browsing the directory)."""
    try:
        return User.objects.get(username=username, is_active=True)
    except User.DoesNotExist:
        raise NotFound(_("No active person has that username.")) from None


def own_personal_tokens(user: AnyUser) -> QuerySet[ApiKey]:
    """The person's personal tokens still in force (one per API sign-in), newest first."""
    if not user.is_authenticated:
        return ApiKey.objects.none()
    return ApiKey.objects.filter(
        user=user,
        kind=ApiKeyKind.PERSONAL,
        revoked_at__isnull=True,
        expires_at__gt=timezone.now(),
    ).order_by("-created_at")


def access_own_personal_token(user: AnyUser, key_id: object) -> ApiKey:
    """One of the person's own tokens; anyone else's, or none, is not found."""
    try:
        return own_personal_tokens(user).get(pk=uuid.UUID(str(key_id)))
    except (ApiKey.DoesNotExist, ValueError):
        raise NotFound(_("No such API key.")) from None
