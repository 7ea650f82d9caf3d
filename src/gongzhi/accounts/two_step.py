"""Two-step verification (两步验证): after the password, a six-digit code from an
authenticator app (TOTP, RFC 6238, through django-otp). ADR 0008.

- Anyone may turn it on from their account page: the page shows a QR code (and the key, for
  typing), the person enters a code the app shows, and from then on signing in asks for a
  code after the password: on the login page (the person is not signed in until the code is
  right) and at the API's token login (``code`` in the body).
- The Django admin requires it (``GONGZHI_ADMIN_TWO_STEP``, on by default): its pages are for
  superusers and staff, who can read everyone's personal data. A session signed in without a
  code is sent to set it up, or to sign in again with a code.
- A wrong code counts as a failed sign-in: ``user_login_failed`` is sent, so the login
  throttle counts it (``accounts.throttle``) and the audit log records it
  (``accounts.signins``); django-otp also delays each device's next try after a failure.
- Turning it on ends the person's sessions elsewhere and revokes their personal tokens: who
  signed in with the password alone is signed out (``services.end_sign_ins_elsewhere``).
- Turning it on or off is audited (``two_step.enabled`` / ``two_step.disabled``). Turning it
  off needs a current code. A person who lost the phone asks a superuser, who resets it in the
  admin (``two_step.reset``; their sessions end too); they then set it up again.
"""

from __future__ import annotations

import math
import secrets
from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from gongzhi.accounts import services, signins
from gongzhi.accounts.choices import AccountsAuditAction
from gongzhi.accounts.models import BackupCode, User
from gongzhi.accounts.people import top_region_path
from gongzhi.core.audit import record_audit
from gongzhi.core.errors import DomainError, InvalidInput

DEVICE_NAME = "authenticator"
# Reasons written on the personal tokens revoked when sign-ins elsewhere end.
ENDED_ON = "two-step verification turned on"
ENDED_ON_RESET = "two-step verification reset"
SUBJECT_TYPE = "two-step"  # the subject type of its audit events: the person's stream


class CodeRequired(DomainError):
    code = "two_step_code_required"
    status = 401


class WrongCode(DomainError):
    code = "invalid_two_step_code"
    status = 401


def confirmed_device(user: Any) -> TOTPDevice | None:
    """The person's authenticator, once set up; None if they have not turned it on."""
    if not getattr(user, "pk", None):
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).order_by("pk").first()


def is_on(user: Any) -> bool:
    return confirmed_device(user) is not None


def required_for(user: Any) -> bool:
    """Whether ``user`` must have verified a code to use the Django admin."""
    return bool(settings.GONGZHI_ADMIN_TWO_STEP and getattr(user, "is_staff", False))


def is_verified(request: HttpRequest) -> bool:
    """Whether this session was signed in with a code (``django_otp``'s middleware)."""
    check = getattr(request.user, "is_verified", None)
    return bool(check and check())


def pending_device(user: User) -> TOTPDevice:
    """The authenticator being set up: a new key the first time, the same one until it is
    confirmed (reloading the page keeps the QR code the app may already have scanned)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def qr_svg(device: TOTPDevice) -> str:
    """The device's ``otpauth://`` address as an inline SVG QR code (no script, no style)."""
    qr = segno.make(device.config_url, error="m")
    return str(qr.svg_inline(scale=4, light="#fff", title=_("QR code for the authenticator app")))


def key_for_typing(device: TOTPDevice) -> str:
    """The key in base32, in groups of four, for apps that cannot scan."""
    text = b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


BACKUP_CODES = 10
BACKUP_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I/L: read off paper
BACKUP_LENGTH = 10  # 50 random bits, shown as two groups of five


def _clean(code: Any, *, backup: bool) -> str:
    """The code without spaces or dashes, upper-cased: six digits, or (``backup``) ten of
    the backup alphabet."""
    text = "".join(str(code or "").split()).replace("-", "").upper()
    if not text:
        raise CodeRequired(_("Enter the six-digit code your authenticator app shows."))
    if text.isascii() and text.isdigit() and len(text) == 6:
        return text
    if backup and len(text) == BACKUP_LENGTH and all(ch in BACKUP_ALPHABET for ch in text):
        return text
    if backup:
        message = _("Enter the six digits your app shows, or one of your backup codes.")
    else:
        message = _("The code is six digits.")
    raise InvalidInput(message, field="code")


def _digest(user: User, code: str) -> str:
    """A backup code as stored: keyed with the site's secret, so a copy of the database
    alone cannot be searched for the codes."""
    return salted_hmac("gongzhi.accounts.two_step.backup", f"{user.pk}:{code}").hexdigest()


def _wait(details: dict[str, Any] | None) -> WrongCode:
    wait = (details or {}).get("locked_until")
    seconds = max(1, math.ceil((wait - timezone.now()).total_seconds())) if wait else 1
    return WrongCode(
        ngettext(
            "After a wrong code, wait %(seconds)d second before the next.",
            "After wrong codes, wait %(seconds)d seconds before the next.",
            seconds,
        )
        % {"seconds": seconds},
        retry_after=seconds,
    )


def _failed(user: User, request: HttpRequest | None) -> WrongCode:
    """A wrong code is a failed sign-in: the throttle counts it, the audit log records it."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.get_username()}, request=request
    )
    return WrongCode(_("The code is wrong or has expired. Enter the code shown now."))


def verify(
    user: User,
    device: TOTPDevice,
    code: Any,
    request: HttpRequest | None,
    *,
    backup: bool = True,
) -> None:
    """Check ``code``: a code from ``device``, or (``backup``) one of the person's unused
    backup codes, used up by this. A wrong one is a failed sign-in (throttled and audited).
    Raises ``CodeRequired``, ``InvalidInput`` or ``WrongCode``."""
    text = _clean(code, backup=backup)
    allowed, details = device.verify_is_allowed()
    if not allowed:  # django-otp's delay after wrong codes: 1, 2, 4 ... seconds
        raise _wait(details)
    if len(text) == BACKUP_LENGTH:
        # One UPDATE uses the code up: of two requests with the same code, one wins.
        unused = BackupCode.objects.filter(
            user=user, digest=_digest(user, text), used_at__isnull=True
        )
        if not unused.update(used_at=timezone.now()):
            device.throttle_increment()
            raise _failed(user, request)
        device.throttle_reset()
        left = backup_codes_left(user)
        _record(user, AccountsAuditAction.TWO_STEP_BACKUP_CODE_USED, request, codes_left=left)
        return
    if not device.verify_token(text):
        raise _failed(user, request)


def second_step(user: User, code: Any, request: HttpRequest | None) -> TOTPDevice | None:
    """The second step of signing in on the page: refused while the person's sign-ins are
    throttled (``LoginThrottled``), then the code checked (``verify``). The device, for
    marking the session verified; None if two-step verification was turned off since the
    password step (the password was enough then)."""
    signins.check(user.get_username(), request)
    device = confirmed_device(user)
    if device is not None:
        verify(user, device, code, request)
    return device


def backup_codes_left(user: Any) -> int:
    return BackupCode.objects.filter(user=user, used_at__isnull=True).count()


def new_backup_codes(user: User) -> list[str]:
    """Ten new backup codes in place of any before; shown once, stored as digests."""
    codes = [
        "".join(secrets.choice(BACKUP_ALPHABET) for _ in range(BACKUP_LENGTH))
        for _ in range(BACKUP_CODES)
    ]
    with transaction.atomic():
        BackupCode.objects.filter(user=user).delete()
        BackupCode.objects.bulk_create(
            BackupCode(user=user, digest=_digest(user, c)) for c in codes
        )
    return [f"{c[:5]}-{c[5:]}" for c in codes]


def replace_backup_codes(user: User, code: Any, request: HttpRequest | None) -> list[str]:
    """New backup codes, with a code from the app; the old ones stop working."""
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput(_("Two-step verification is not on."))
    verify(user, device, code, request, backup=False)
    with transaction.atomic():
        codes = new_backup_codes(user)
        _record(user, AccountsAuditAction.TWO_STEP_BACKUP_CODES_REPLACED, request)
    return codes


def _record(
    user: User,
    action: str,
    request: HttpRequest | None,
    *,
    actor: Any = None,
    tokens_revoked: int | None = None,
    codes_left: int | None = None,
) -> None:
    data: dict[str, Any] = signins.client_of(request)
    if tokens_revoked is not None:
        data["personal_tokens_revoked"] = tokens_revoked
    if codes_left is not None:
        data["backup_codes_left"] = codes_left
    record_audit(
        subject_type=SUBJECT_TYPE,
        subject_id=user.pk,
        subject_label=user.get_username(),
        region_path=top_region_path(),
        action=action,
        actor=actor or user,
        data=data,
    )


def turn_on(user: User, code: Any, request: HttpRequest | None) -> list[str]:
    """Confirm the authenticator being set up with a code it shows; this session counts as
    verified from now on. The person's new backup codes, to be shown once."""
    device = pending_device(user)
    verify(user, device, code, request, backup=False)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        codes = new_backup_codes(user)
        # Whoever signed in with the password alone, elsewhere, is signed out.
        tokens = services.end_sign_ins_elsewhere(user, request, reason=ENDED_ON)
        _record(user, AccountsAuditAction.TWO_STEP_ENABLED, request, tokens_revoked=tokens)
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        otp_login(request, device)
    return codes


def turn_off(user: User, code: Any, request: HttpRequest | None) -> None:
    """Remove the person's authenticator, with a code it shows now."""
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput(_("Two-step verification is not on."))
    verify(user, device, code, request)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        BackupCode.objects.filter(user=user).delete()
        _record(user, AccountsAuditAction.TWO_STEP_DISABLED, request)


def reset(user: User, *, actor: Any, request: HttpRequest | None = None) -> None:
    """An administrator removes a person's authenticator (a lost phone, maybe in someone
    else's hands): the person's sessions end and personal tokens are revoked; they sign in
    with the password and set it up again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        BackupCode.objects.filter(user=user).delete()
        tokens = services.end_sign_ins_elsewhere(user, None, reason=ENDED_ON_RESET)
        _record(
            user, AccountsAuditAction.TWO_STEP_RESET, request, actor=actor, tokens_revoked=tokens
        )
