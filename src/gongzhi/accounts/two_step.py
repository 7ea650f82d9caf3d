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
from base64 import b32encode
from typing import Any

import segno
from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from gongzhi.accounts import services, signins
from gongzhi.accounts.choices import AccountsAuditAction
from gongzhi.accounts.models import User
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


def _clean(code: Any) -> str:
    text = "".join(str(code or "").split())
    if not text:
        raise CodeRequired(_("Enter the six-digit code your authenticator app shows."))
    if not (text.isascii() and text.isdigit() and len(text) == 6):
        raise InvalidInput(_("The code is six digits."), field="code")
    return text


def verify(user: User, device: TOTPDevice, code: Any, request: HttpRequest | None) -> None:
    """Check ``code`` against ``device``; a wrong one is a failed sign-in (throttled and
    audited). Raises ``CodeRequired``, ``InvalidInput`` or ``WrongCode``."""
    text = _clean(code)
    allowed, details = device.verify_is_allowed()
    if not allowed:  # django-otp's delay after wrong codes: 1, 2, 4 ... seconds
        wait = (details or {}).get("locked_until")
        seconds = max(1, math.ceil((wait - timezone.now()).total_seconds())) if wait else 1
        raise WrongCode(
            ngettext(
                "After a wrong code, wait %(seconds)d second before the next.",
                "After wrong codes, wait %(seconds)d seconds before the next.",
                seconds,
            )
            % {"seconds": seconds},
            retry_after=seconds,
        )
    if not device.verify_token(text):
        user_login_failed.send(
            sender=__name__, credentials={"username": user.get_username()}, request=request
        )
        raise WrongCode(_("The code is wrong or has expired. Enter the code shown now."))


def _record(
    user: User,
    action: str,
    request: HttpRequest | None,
    *,
    actor: Any = None,
    tokens_revoked: int | None = None,
) -> None:
    data: dict[str, Any] = signins.client_of(request)
    if tokens_revoked is not None:
        data["personal_tokens_revoked"] = tokens_revoked
    record_audit(
        subject_type=SUBJECT_TYPE,
        subject_id=user.pk,
        subject_label=user.get_username(),
        region_path=top_region_path(),
        action=action,
        actor=actor or user,
        data=data,
    )


def turn_on(user: User, code: Any, request: HttpRequest | None) -> TOTPDevice:
    """Confirm the authenticator being set up with a code it shows; this session counts as
    verified from now on."""
    device = pending_device(user)
    verify(user, device, code, request)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        # Whoever signed in with the password alone, elsewhere, is signed out.
        tokens = services.end_sign_ins_elsewhere(user, request, reason=ENDED_ON)
        _record(user, AccountsAuditAction.TWO_STEP_ENABLED, request, tokens_revoked=tokens)
    if request is not None and getattr(request.user, "pk", None) == user.pk:
        otp_login(request, device)
    return device


def turn_off(user: User, code: Any, request: HttpRequest | None) -> None:
    """Remove the person's authenticator, with a code it shows now."""
    device = confirmed_device(user)
    if device is None:
        raise InvalidInput(_("Two-step verification is not on."))
    verify(user, device, code, request)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        _record(user, AccountsAuditAction.TWO_STEP_DISABLED, request)


def reset(user: User, *, actor: Any, request: HttpRequest | None = None) -> None:
    """An administrator removes a person's authenticator (a lost phone, maybe in someone
    else's hands): the person's sessions end and personal tokens are revoked; they sign in
    with the password and set it up again."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        tokens = services.end_sign_ins_elsewhere(user, None, reason=ENDED_ON_RESET)
        _record(
            user, AccountsAuditAction.TWO_STEP_RESET, request, actor=actor, tokens_revoked=tokens
        )
