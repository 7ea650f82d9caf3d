from __future__ import annotations

from datetime import datetime
from uuid import UUID

from ninja import Schema
from pydantic import Field


class TokenRequest(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    code: str | None = Field(
        default=None,
        max_length=20,
        description="the six digits of the person's authenticator app, when two-step "
        "verification is on (otherwise 401 two_step_code_required)",
    )


class TokenOut(Schema):
    token: str
    token_type: str = "Bearer"  # noqa: S105 (the scheme name, not a secret)
    expires_at: datetime | None


class MembershipOut(Schema):
    id: int
    unit_id: int
    unit_name: str
    role: str
    role_label: str
    region_id: int
    region_name: str
    region_code: str
    title: str


class MeOut(Schema):
    kind: str  # "person" or "integration"
    username: str | None = None
    display_name: str | None = None
    is_staff_member: bool = False
    memberships: list[MembershipOut] = []
    unit_id: int | None = None
    api_key_name: str | None = None


class MembershipIn(Schema):
    username: str = Field(min_length=1, max_length=150)
    role: str = Field(min_length=1, max_length=20)
    region_id: int
    title: str = Field(default="", max_length=100)


class ApiKeyIn(Schema):
    unit_id: int
    name: str = Field(min_length=1, max_length=100)


class ApiKeyOut(Schema):
    id: UUID
    name: str
    prefix: str
    unit_id: int | None
    created_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None


class IssuedApiKeyOut(ApiKeyOut):
    token: str


class RevokeIn(Schema):
    reason: str = Field(default="", max_length=500)
