"""API: login for a token, who am I, memberships, API keys. Parse, access, call, return."""

from __future__ import annotations

from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Router, Status

from gongzhi.accounts import policies, services
from gongzhi.accounts.api.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    IssuedApiKeyOut,
    MembershipIn,
    MembershipOut,
    MeOut,
    RevokeIn,
    TokenOut,
    TokenRequest,
)
from gongzhi.accounts.choices import ApiKeyKind
from gongzhi.accounts.models import ApiKey, Membership
from gongzhi.accounts.queries import active_memberships, is_staff_member
from gongzhi.core.errors import PermissionDenied
from gongzhi.territory.policies import access_region, access_unit

router = Router(tags=["accounts"])


def membership_out(m: Membership) -> MembershipOut:
    return MembershipOut(
        id=m.pk,
        unit_id=m.unit_id,
        unit_name=m.unit.name,
        role=m.role,
        role_label=str(m.get_role_display()),
        region_id=m.region_id,
        region_name=m.region.name,
        region_code=m.region.code,
        title=m.title,
    )


def api_key_out(key: ApiKey) -> ApiKeyOut:
    return ApiKeyOut(
        id=key.pk,
        name=key.name,
        prefix=key.prefix,
        unit_id=key.unit_id,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        last_used_at=key.last_used_at,
    )


def person_only(request: HttpRequest) -> None:
    if not request.user.is_authenticated:
        raise PermissionDenied(_("This endpoint needs a person's token, not an integration key."))


@router.post("/auth/token", response={200: TokenOut}, auth=None, summary="Log in for a token")
def create_token(request: HttpRequest, payload: TokenRequest) -> TokenOut:
    issued = services.issue_personal_token(
        request, username=payload.username, password=payload.password, code=payload.code
    )
    return TokenOut(token=issued.token, expires_at=issued.key.expires_at)


@router.delete("/auth/token", response={204: None}, summary="Log out: revoke this token")
def delete_token(request: HttpRequest) -> Status[None]:
    key: ApiKey | None = getattr(request, "api_key", None)
    if key is None or key.kind != ApiKeyKind.PERSONAL:
        raise PermissionDenied(_("Only a personal token can log itself out."))
    services.revoke_api_key(key, actor=request.user, reason="logout", request=request)
    return Status(204, None)


@router.get("/me", response=MeOut, summary="Who am I acting as")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    if not user.is_authenticated:
        key: ApiKey = request.api_key  # type: ignore[attr-defined]
        return MeOut(kind="integration", unit_id=key.unit_id, api_key_name=key.name)
    return MeOut(
        kind="person",
        username=user.username,
        display_name=str(user),
        is_staff_member=is_staff_member(user),
        memberships=[membership_out(m) for m in active_memberships(user)],
    )


@router.post("/units/{unit_id}/memberships", response={201: MembershipOut}, summary="Grant a role")
def grant_membership(
    request: HttpRequest, unit_id: int, payload: MembershipIn
) -> Status[MembershipOut]:
    person_only(request)
    unit = access_unit(request.user, unit_id, action="manage_members")
    region = access_region(request.user, payload.region_id)
    person = policies.find_person(payload.username)
    membership = services.grant_membership(
        person,
        unit=unit,
        role=payload.role,
        region=region,
        title=payload.title,
        actor=request.user,
    )
    return Status(201, membership_out(membership))


@router.post("/memberships/{membership_id}/revoke", response=MembershipOut, summary="Revoke a role")
def revoke_membership(request: HttpRequest, membership_id: int, payload: RevokeIn) -> MembershipOut:
    person_only(request)
    membership = policies.access_membership(request.user, membership_id)
    services.revoke_membership(membership, actor=request.user, reason=payload.reason)
    membership.refresh_from_db()
    return membership_out(membership)


@router.get("/api-keys", response=list[ApiKeyOut], summary="Integration keys I manage")
def list_api_keys(request: HttpRequest) -> list[ApiKeyOut]:
    person_only(request)
    keys = policies.api_keys_manageable_by(request.user).order_by("-created_at")[:500]
    return [api_key_out(k) for k in keys]


@router.post("/api-keys", response={201: IssuedApiKeyOut}, summary="Issue an integration key")
def issue_api_key(request: HttpRequest, payload: ApiKeyIn) -> Status[IssuedApiKeyOut]:
    person_only(request)
    unit = access_unit(request.user, payload.unit_id)
    issued = services.issue_api_key(unit=unit, name=payload.name, actor=request.user)
    return Status(201, IssuedApiKeyOut(**api_key_out(issued.key).model_dump(), token=issued.token))


@router.post("/api-keys/{key_id}/revoke", response=ApiKeyOut, summary="Revoke an integration key")
def revoke_api_key(request: HttpRequest, key_id: UUID, payload: RevokeIn) -> ApiKeyOut:
    person_only(request)
    key = policies.access_api_key(request.user, key_id)
    return api_key_out(services.revoke_api_key(key, actor=request.user, reason=payload.reason))
