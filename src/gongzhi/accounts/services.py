"""Every change to people, memberships and API keys goes through here."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import authenticate, update_session_auth_hash
from django.db import transaction
from django.db.models import F
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _

from gongzhi.accounts import signins, throttle, two_step
from gongzhi.accounts.auth import KEY_PREFIX, hash_secret
from gongzhi.accounts.choices import AccountsAuditAction, ApiKeyKind, Capability, MembershipRole
from gongzhi.accounts.errors import (
    AlreadyRevoked,
    InvalidCredentials,
    InvalidMembership,
    SelfRevocation,
)
from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.accounts.people import top_region_path
from gongzhi.accounts.queries import AnyUser, acting_membership, forget_memberships, scope_of
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import PermissionDenied
from gongzhi.territory.models import Region, Unit

SYSTEM_USERNAME = "gongzhi-system"


def system_actor() -> User:
    """The account that background jobs and imports act as (it cannot log in)."""
    user, created = User.objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={"display_name": "系统", "is_superuser": True, "is_staff": False},
    )
    if created:
        user.set_unusable_password()
        user.save(update_fields=["password"])
    return user


def _actor_snapshot(actor: AnyUser, capability: str, path: str) -> tuple[str, str]:
    membership = acting_membership(actor, capability, path)
    if membership is not None:
        return membership.role, membership.unit.name
    return ("superuser", "") if actor.is_authenticated and actor.is_superuser else ("", "")


def grant_membership(
    person: User,
    *,
    unit: Unit,
    role: str,
    region: Region,
    actor: AnyUser,
    title: str = "",
) -> Membership:
    """Let ``person`` act for ``unit`` in ``role`` over ``region``'s subtree."""
    if not scope_of(actor, Capability.MANAGE_MEMBERS).covers(unit.region.path):
        raise PermissionDenied(_("You may not manage the members of this unit."))
    if role not in MembershipRole.values:
        raise InvalidMembership(_("Unknown role %(role)s.") % {"role": role})
    covered_paths = [unit.region.path, *unit.jurisdictions.values_list("path", flat=True)]
    if not any(region.path.startswith(p) for p in covered_paths):
        raise InvalidMembership(
            _("%(unit)s does not cover %(region)s.") % {"unit": unit.name, "region": region.name}
        )
    if not scope_of(actor, Capability.MANAGE_MEMBERS).covers(region.path):
        raise PermissionDenied(
            _("You may not grant roles over %(region)s.") % {"region": region.name}
        )
    with transaction.atomic():
        existing = Membership.objects.filter(
            user=person, unit=unit, role=role, region=region, is_active=True
        ).first()
        if existing is not None:
            return existing
        membership = Membership.objects.create(
            user=person, unit=unit, role=role, region=region, title=title[:100]
        )
        actor_role, actor_unit = _actor_snapshot(actor, Capability.MANAGE_MEMBERS, unit.region.path)
        record_audit(
            subject_type="membership",
            subject_id=membership.pk,
            subject_label=f"{person} @ {unit.name}",
            region_path=region.path,
            action=AccountsAuditAction.MEMBERSHIP_GRANTED,
            actor=actor,
            actor_role=actor_role,
            actor_unit_name=actor_unit,
            data={"user": person.username, "unit": unit.pk, "role": role, "region": region.code},
        )
    forget_memberships(person)
    return membership


def revoke_membership(membership: Membership, *, actor: AnyUser, reason: str = "") -> Membership:
    if not scope_of(actor, Capability.MANAGE_MEMBERS).covers(membership.unit.region.path):
        raise PermissionDenied(_("You may not manage the members of this unit."))
    if membership.user_id == actor.pk:
        raise SelfRevocation(_("You cannot revoke your own role: ask another administrator."))
    with transaction.atomic():
        locked = Membership.objects.select_for_update().get(pk=membership.pk)
        if not locked.is_active:
            raise AlreadyRevoked(_("This membership was already revoked."))
        locked.is_active = False
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["is_active", "revoked_at"])
        actor_role, actor_unit = _actor_snapshot(
            actor, Capability.MANAGE_MEMBERS, membership.unit.region.path
        )
        record_audit(
            subject_type="membership",
            subject_id=locked.pk,
            subject_label=f"{membership.user} @ {membership.unit.name}",
            region_path=membership.region.path,
            action=AccountsAuditAction.MEMBERSHIP_REVOKED,
            actor=actor,
            actor_role=actor_role,
            actor_unit_name=actor_unit,
            reason=reason,
        )
    forget_memberships(membership.user)
    return locked


@dataclass(frozen=True)
class IssuedKey:
    key: ApiKey
    token: str  # shown once; only its hash is stored


def _new_key(**fields: object) -> IssuedKey:
    prefix = secrets.token_hex(6)
    secret = secrets.token_urlsafe(32)
    key = ApiKey.objects.create(prefix=prefix, secret_hash=hash_secret(secret), **fields)
    return IssuedKey(key, f"{KEY_PREFIX}_{prefix}_{secret}")


def issue_api_key(*, unit: Unit, name: str, actor: AnyUser) -> IssuedKey:
    """A key for another system (an Open311 client, a hotline system) acting for ``unit``."""
    if not scope_of(actor, Capability.MANAGE_API_KEYS).covers(unit.region.path):
        raise PermissionDenied(_("You may not issue API keys for this unit."))
    name = name.strip()[:100]
    if not name:
        raise InvalidMembership(
            _("An API key needs a name that says who uses it."), code="invalid_api_key"
        )
    with transaction.atomic():
        issued = _new_key(
            kind=ApiKeyKind.INTEGRATION,
            name=name,
            unit=unit,
            created_by=actor if actor.is_authenticated else None,
        )
        actor_role, actor_unit = _actor_snapshot(
            actor, Capability.MANAGE_API_KEYS, unit.region.path
        )
        record_audit(
            subject_type="api-key",
            subject_id=issued.key.pk,
            subject_label=f"{name} ({issued.key.prefix})",
            region_path=unit.region.path,
            action=AccountsAuditAction.API_KEY_ISSUED,
            actor=actor,
            actor_role=actor_role,
            actor_unit_name=actor_unit,
            data={"unit": unit.pk, "prefix": issued.key.prefix},
        )
    return issued


def revoke_api_key(
    key: ApiKey, *, actor: AnyUser, reason: str = "", request: HttpRequest | None = None
) -> ApiKey:
    """Revoke a key. A personal token is revoked only by its person, logging out of the API
    (``request``: where from, for the audit event)."""
    if key.kind == ApiKeyKind.PERSONAL:
        allowed = key.user_id == actor.pk
        path = ""
    else:
        assert key.unit is not None  # noqa: S101 (guaranteed by the model's check constraint)
        path = key.unit.region.path
        allowed = scope_of(actor, Capability.MANAGE_API_KEYS).covers(path)
    if not allowed:
        raise PermissionDenied(_("You may not revoke this API key."))
    with transaction.atomic():
        locked = ApiKey.objects.select_for_update().get(pk=key.pk)
        if locked.revoked_at is not None:
            raise AlreadyRevoked(_("This API key was already revoked."))
        locked.revoked_at = timezone.now()
        locked.save(update_fields=["revoked_at"])
        if locked.kind == ApiKeyKind.PERSONAL:
            assert isinstance(actor, User)  # noqa: S101 (only its person may, checked above)
            _record_personal_token(
                locked, AccountsAuditAction.PERSONAL_TOKEN_REVOKED, actor, request, reason=reason
            )
            return locked
        actor_role, actor_unit = _actor_snapshot(actor, Capability.MANAGE_API_KEYS, path)
        record_audit(
            subject_type="api-key",
            subject_id=locked.pk,
            subject_label=f"{locked.name} ({locked.prefix})",
            region_path=path,
            action=AccountsAuditAction.API_KEY_REVOKED,
            actor=actor,
            actor_role=actor_role,
            actor_unit_name=actor_unit,
            reason=reason,
        )
    return locked


def issue_personal_token(
    request: HttpRequest | None, *, username: str, password: str, code: str | None = None
) -> IssuedKey:
    """API login: check the password (demo lock included), and the authenticator's ``code``
    when the person has two-step verification on, then issue an expiring token.
    Refused before the password check while logins are throttled (``accounts.throttle``);
    the refusal, a failure (a wrong code too) and the token issued are audited
    (``accounts.signins``)."""
    signins.check(username, request)
    user = authenticate(request, username=username, password=password)
    if not isinstance(user, User):
        raise InvalidCredentials(_("Wrong username or password, or the account cannot log in."))
    device = two_step.confirmed_device(user)
    if device is not None:
        two_step.verify(user, device, code, request)
    throttle.clear(username, request)  # as a page login does (user_logged_in)
    hours = settings.GONGZHI_PERSONAL_TOKEN_HOURS
    with transaction.atomic():
        issued = _new_key(
            kind=ApiKeyKind.PERSONAL,
            name=f"API login {timezone.now():%Y-%m-%d %H:%M}",
            user=user,
            created_by=user,
            expires_at=timezone.now() + timedelta(hours=hours),
        )
        _record_personal_token(issued.key, AccountsAuditAction.PERSONAL_TOKEN_ISSUED, user, request)
    return issued


def end_sign_ins_elsewhere(person: User, request: HttpRequest | None, *, reason: str) -> int:
    """End every session the person is signed in with elsewhere (their sign-in generation,
    part of each session's hash, is raised; this request's own session is kept) and revoke
    their personal tokens, each audited as revoked with ``reason``. How many tokens."""
    with transaction.atomic():
        User.objects.filter(pk=person.pk).update(sign_in_epoch=F("sign_in_epoch") + 1)
        person.refresh_from_db(fields=["sign_in_epoch"])
        revoked = revoke_personal_tokens(person, request, reason=reason)
    if request is not None and getattr(request.user, "pk", None) == person.pk:
        update_session_auth_hash(request, person)
    return revoked


def revoke_personal_tokens(person: User, request: HttpRequest | None, *, reason: str) -> int:
    """Sign the person out of the API everywhere: revoke their personal tokens, each audited
    as revoked with ``reason``. How many."""
    with transaction.atomic():
        tokens = list(
            ApiKey.objects.select_for_update()
            .filter(user=person, kind=ApiKeyKind.PERSONAL, revoked_at__isnull=True)
            .order_by("created_at")
        )
        now = timezone.now()
        for key in tokens:
            key.revoked_at = now
            key.save(update_fields=["revoked_at"])
            _record_personal_token(
                key, AccountsAuditAction.PERSONAL_TOKEN_REVOKED, person, request, reason=reason
            )
    return len(tokens)


def _record_personal_token(
    key: ApiKey, action: str, person: User, request: HttpRequest | None, *, reason: str = ""
) -> None:
    """A personal token's events are its person signing in to and out of the API: in the
    city's region like other sign-ins, with where from, pruned with them (``signins``)."""
    data = {"prefix": key.prefix, **signins.client_of(request)}
    if action == AccountsAuditAction.PERSONAL_TOKEN_ISSUED and key.expires_at is not None:
        data["expires_at"] = key.expires_at.isoformat()
    record_audit(
        subject_type=signins.PERSONAL_TOKEN,
        subject_id=key.pk,
        subject_label=f"{person.username} ({key.prefix})",
        region_path=top_region_path(),
        action=action,
        actor=person,
        data=data,
        reason=reason,
    )


def record_api_key_use(key: ApiKey) -> None:
    """Note when a key was last used, at most once every five minutes per key."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=5):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
