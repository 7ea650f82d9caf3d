"""People and the capacities they act in.

A ``User`` is a person. Staff act through ``Membership`` rows: for one unit, in one role,
over one region subtree. Residents are people without memberships. A person may hold
several memberships (a community secretary is also a mediator). Integrations and API
clients authenticate with ``ApiKey`` rows whose secrets are stored only as hashes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext_lazy as _

from gongzhi.accounts.choices import ApiKeyKind, MembershipRole


class User(AbstractUser):
    # Citizen-facing rows use UUID keys: ids in URLs reveal nothing and cannot be enumerated.
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    display_name = models.CharField(_("name"), max_length=100, blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    # Demo personas share a published password: they may only log in when DEBUG is on.
    is_demo = models.BooleanField(_("demo persona"), default=False)
    # Raised to end every session the person has signed in elsewhere (accounts.two_step,
    # when two-step verification is turned on or reset): part of the session hash below.
    sign_in_epoch = models.PositiveIntegerField(_("sign-in generation"), default=0, editable=False)

    class Meta(AbstractUser.Meta):
        verbose_name = _("person")  # type: ignore[assignment]  # stubs say str; lazy works
        verbose_name_plural = _("people")  # type: ignore[assignment]

    def __str__(self) -> str:
        return self.display_name or self.username

    def get_session_auth_hash(self) -> str:
        """What every session keeps and must match on each request: Django's hash of the
        password (so a new password ends other sessions), with the sign-in generation mixed
        in once it is raised (at generation 0 it is Django's own: no session ended when this
        was deployed)."""
        return self._session_hash(secret=None)

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        for secret in settings.SECRET_KEY_FALLBACKS:
            yield self._session_hash(secret=secret)

    def _session_hash(self, secret: str | bytes | None) -> str:
        value = self.password
        if self.sign_in_epoch:
            value = f"{self.password}\n{self.sign_in_epoch}"
        key_salt = "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash"
        return salted_hmac(key_salt, value, secret=secret, algorithm="sha256").hexdigest()


class Membership(models.Model):
    user = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="memberships"
    )
    unit = models.ForeignKey(
        "territory.Unit",
        verbose_name=_("unit"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    role = models.CharField(_("role"), max_length=20, choices=MembershipRole.choices)
    # The root of the region subtree this membership acts over.
    region = models.ForeignKey(
        "territory.Region",
        verbose_name=_("region"),
        on_delete=models.PROTECT,
        related_name="memberships",
    )
    title = models.CharField(_("job title"), max_length=100, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)

    class Meta:
        verbose_name = _("membership")
        verbose_name_plural = _("memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role", "region"],
                condition=models.Q(is_active=True),
                name="accounts_membership_unique_active",
            )
        ]
        indexes = [models.Index(fields=["user", "is_active"], name="accounts_mship_user_active")]

    def __str__(self) -> str:
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class ApiKey(models.Model):
    """A bearer credential. Only ``prefix`` (to find it) and a SHA-256 of the secret are kept."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(_("kind"), max_length=20, choices=ApiKeyKind.choices)
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(_("prefix"), max_length=16, unique=True)
    secret_hash = models.CharField(_("secret hash"), max_length=64)
    # Integration keys belong to a unit; personal tokens to a person.
    unit = models.ForeignKey(
        "territory.Unit",
        verbose_name=_("unit"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="api_keys",
    )
    user = models.ForeignKey(
        User,
        verbose_name=_("person"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="api_keys",
    )
    created_by = models.ForeignKey(
        User,
        verbose_name=_("created by"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    expires_at = models.DateTimeField(_("expires at"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("revoked at"), null=True, blank=True)
    last_used_at = models.DateTimeField(_("last used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("API key")
        verbose_name_plural = _("API keys")
        constraints = [
            models.CheckConstraint(
                condition=(
                    models.Q(kind=ApiKeyKind.INTEGRATION, unit__isnull=False, user__isnull=True)
                    | models.Q(kind=ApiKeyKind.PERSONAL, user__isnull=False, unit__isnull=True)
                ),
                name="accounts_apikey_owner_matches_kind",
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class LoginFailure(models.Model):
    """One failed password check, kept only as long as the login limits look back (see
    ``accounts.throttle``). The account is stored as a digest: people sometimes type their
    password into the username field, and attackers' guesses are no one's business."""

    account_digest = models.CharField(_("account digest"), max_length=64)
    address = models.CharField(_("address"), max_length=45)
    failed_at = models.DateTimeField(_("failed at"))

    class Meta:
        verbose_name = _("failed login")
        verbose_name_plural = _("failed logins")
        indexes = [
            models.Index(fields=["account_digest", "address", "failed_at"]),
            models.Index(fields=["address", "failed_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.address or '-'} {self.failed_at:%Y-%m-%d %H:%M:%S}"


class BackupCode(models.Model):
    """A single-use code for signing in when the authenticator app is not at hand
    (``accounts.two_step``): ten are made when two-step verification is turned on, shown
    once, and stored only as digests (a copy of the database does not give them away)."""

    user = models.ForeignKey(
        User, verbose_name=_("person"), on_delete=models.CASCADE, related_name="backup_codes"
    )
    digest = models.CharField(_("digest"), max_length=64)
    used_at = models.DateTimeField(_("used at"), null=True, blank=True)

    class Meta:
        verbose_name = _("backup code")
        verbose_name_plural = _("backup codes")
        indexes = [models.Index(fields=["user", "digest"])]

    def __str__(self) -> str:
        return f"{self.user_id} {'used' if self.used_at else 'unused'}"
