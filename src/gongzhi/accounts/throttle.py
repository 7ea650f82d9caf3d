"""Limits on password guessing, for the login page, the API's token login and the admin.

Two fixed allowances over a sliding window, counted in the database (so every server process
sees the same count; Django's default cache is per process):

- per account and address: ``GONGZHI_LOGIN_LIMIT`` failures (default 5 in 15 minutes). Keyed
  on the pair, so a stranger guessing someone's password from elsewhere does not lock the
  owner out of their own computer;
- per address: ``GONGZHI_LOGIN_ADDRESS_LIMIT`` failures (default 50 in 15 minutes), against
  trying one password on many accounts.

Over a limit, logging in is refused with ``login_throttled`` (HTTP 429, ``retry_after`` in
seconds) before the password is checked, until the oldest failure counted leaves the window.
A successful login clears the account's failures from that address. Failures older than a day
are deleted as new ones arrive: addresses are personal data, kept no longer than needed.
The address is ``REMOTE_ADDR``: behind a proxy, the proxy must set it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
from contextvars import ContextVar
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.db.models import Min
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import ngettext

from gongzhi.accounts.models import LoginFailure
from gongzhi.core.errors import DomainError

log = logging.getLogger("gongzhi.accounts.throttle")

DEFAULT_ACCOUNT_LIMIT = (5, 15 * 60)
DEFAULT_ADDRESS_LIMIT = (50, 15 * 60)
KEEP = dt.timedelta(days=1)


class LoginThrottled(DomainError):
    code = "login_throttled"
    status = 429


def _limit(name: str, default: tuple[int, int]) -> tuple[int, int]:
    limit, window = getattr(settings, name, default)
    return max(1, int(limit)), max(1, int(window))


def account_digest(username: str) -> str:
    return hashlib.sha256(username.strip().casefold().encode("utf-8", "replace")).hexdigest()


def address_of(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return str(request.META.get("REMOTE_ADDR", ""))[:45]


def _wait(failures: Any, limit: int, window: int, now: dt.datetime) -> int | None:
    """Seconds until the window holds fewer than ``limit`` failures, or None if it does now."""
    since = now - dt.timedelta(seconds=window)
    recent = failures.filter(failed_at__gt=since).order_by("-failed_at")
    if recent.count() < limit:
        return None
    # The limit-th most recent failure must leave the window before one more try is allowed.
    oldest_counted = recent.values_list("failed_at", flat=True)[limit - 1]
    return max(1, int((oldest_counted - since).total_seconds()) + 1)


def check(username: str, request: HttpRequest | None) -> None:
    """Raise ``LoginThrottled`` if this account, from this address, may not try now."""
    now = timezone.now()
    address = address_of(request)
    limit, window = _limit("GONGZHI_LOGIN_LIMIT", DEFAULT_ACCOUNT_LIMIT)
    waits = [
        _wait(
            LoginFailure.objects.filter(account_digest=account_digest(username), address=address),
            limit,
            window,
            now,
        )
    ]
    if address:
        limit, window = _limit("GONGZHI_LOGIN_ADDRESS_LIMIT", DEFAULT_ADDRESS_LIMIT)
        waits.append(_wait(LoginFailure.objects.filter(address=address), limit, window, now))
    wait = max((w for w in waits if w is not None), default=None)
    if wait is None:
        return
    minutes = max(1, -(-wait // 60))
    raise LoginThrottled(
        ngettext(
            "Too many failed logins: try again in %(minutes)d minute.",
            "Too many failed logins: try again in %(minutes)d minutes.",
            minutes,
        )
        % {"minutes": minutes},
        retry_after=wait,
    )


# Set by the backend for each attempt it sees: True when it refused a throttled one (no
# password was checked). The failure signal authenticate() sends right after then counts no
# failure here, and ``signins`` records a refusal instead of a failure.
_refused: ContextVar[bool] = ContextVar("gongzhi_login_refused", default=False)


def mark_refused(refused: bool) -> None:
    _refused.set(refused)


def was_refused() -> bool:
    """Whether the attempt authenticate() is reporting was refused unchecked."""
    return _refused.get()


def record_failure(username: str, request: HttpRequest | None) -> None:
    now = timezone.now()
    oldest = LoginFailure.objects.aggregate(oldest=Min("failed_at"))["oldest"]
    if oldest is not None and oldest < now - KEEP:
        LoginFailure.objects.filter(failed_at__lt=now - KEEP).delete()
    LoginFailure.objects.create(
        account_digest=account_digest(username), address=address_of(request), failed_at=now
    )


def clear(username: str, request: HttpRequest | None) -> None:
    LoginFailure.objects.filter(
        account_digest=account_digest(username), address=address_of(request)
    ).delete()


def retry_after(error: LoginThrottled) -> str:
    return str(error.details.get("retry_after", 60))


@receiver(user_login_failed, dispatch_uid="gongzhi.accounts.throttle.failed")
def _on_failure(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    username = credentials.get("username")
    if isinstance(username, str) and not was_refused():  # refused: nothing was tried
        record_failure(username, request)
        log.info("failed login from %s", address_of(request) or "-")


@receiver(user_logged_in, dispatch_uid="gongzhi.accounts.throttle.success")
def _on_success(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    clear(user.get_username(), request)
