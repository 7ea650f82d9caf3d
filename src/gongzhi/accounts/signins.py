"""Signing in and out goes into the audit log, however it happens.

An administrator investigating a leak must see who signed in when, and from where. Each of
these is one ``core.AuditEvent`` (actions ``AccountsAuditAction.SIGNED_IN`` and the others
below, subject type ``session``), in the city's region like ``accounts.people``'s events:

- signed in: ``django.contrib.auth.login`` ran (``user_logged_in``): the login page, the
  admin's login page, anything else that logs a person in; the actor is the person;
- sign-in failed: a password check failed (``user_login_failed``): the login page, the
  admin, the API's token login;
- sign-in refused: too many failures (``accounts.throttle``), before the password check;
- signed out (``user_logged_out``).

Signing in to the API issues a personal token and logging out of it revokes the token: those
are the token's own events (``personal_token.*``, written by ``accounts.services``). Using a
token or an API key is not recorded (``ApiKey.last_used_at`` notes it): it happens on every
request.

Each event keeps the client's address as ``throttle.address_of`` reads it, the first
``USER_AGENT_LENGTH`` characters of the user agent and the path signed in at. Never the
password, the session key or a token's secret. The name typed at a failed or refused attempt
is kept only as ``throttle.account_digest`` (people type their password into the username
field; a stranger's guesses are no one's business); when it names an account, the event also
names that person (``subject_label`` and ``data["person"]``).

Retention (``prune_sign_ins``, run by a periodic job): addresses and user agents are personal
data, kept no longer than needed, and the Cybersecurity Law (网络安全法, article 21) wants
network logs kept at least six months. So failed and refused attempts, mostly strangers'
guesses, go after ``FAILED_KEEP`` (180 days, ``GONGZHI_FAILED_SIGN_IN_AUDIT_DAYS``), and
sign-ins, sign-outs and personal tokens after ``KEEP`` (365 days,
``GONGZHI_SIGN_IN_AUDIT_DAYS``), so that a leak found at the year's assessment can still be
traced. Audit events are otherwise never deleted, and their chains must stay whole for
``verify-timelines``: so each sign-in event is a stream of its own (``session:<random id>``)
and a personal token's events are its stream (``personal-token:<key id>``), and pruning only
ever removes whole streams.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q
from django.dispatch import receiver
from django.http import HttpRequest
from django.utils import timezone

from gongzhi.accounts import throttle
from gongzhi.accounts.choices import AccountsAuditAction, ApiKeyKind
from gongzhi.accounts.models import ApiKey, User
from gongzhi.accounts.people import top_region_path
from gongzhi.core.audit import record_audit
from gongzhi.core.models import AuditEvent

SESSION = "session"  # the subject type of sign-in events
PERSONAL_TOKEN = "personal-token"  # noqa: S105 (the subject type of a token's events)
SUBJECT_TYPES = (SESSION, PERSONAL_TOKEN)  # every event this module and the tokens write
USER_AGENT_LENGTH = 200
PATH_LENGTH = 200
KEEP = dt.timedelta(days=365)
FAILED_KEEP = dt.timedelta(days=180)
REFUSED = (AccountsAuditAction.SIGN_IN_FAILED, AccountsAuditAction.SIGN_IN_THROTTLED)
PRUNE_BATCH = 500  # streams per DELETE: short transactions, and well within SQLite's limits


def _text(value: object, length: int) -> str:
    """Printable characters only (PostgreSQL's JSON refuses NUL), at most ``length``."""
    return "".join(ch for ch in str(value) if ch.isprintable())[:length]


def client_of(request: HttpRequest | None) -> dict[str, str]:
    """Where a request came from, as audit events keep it."""
    if request is None:
        return {"address": "", "user_agent": ""}
    return {
        "address": throttle.address_of(request),
        "user_agent": _text(request.META.get("HTTP_USER_AGENT", ""), USER_AGENT_LENGTH),
    }


def _record(
    action: str,
    request: HttpRequest | None,
    *,
    actor: Any = None,
    label: str = "",
    data: dict[str, str] | None = None,
) -> AuditEvent:
    path = _text(getattr(request, "path", ""), PATH_LENGTH)
    return record_audit(
        subject_type=SESSION,
        subject_id=uuid.uuid4().hex,  # a stream of its own, to be pruned whole
        subject_label=label,
        region_path=top_region_path(),
        action=action,
        actor=actor,
        data={**client_of(request), "path": path, **(data or {})},
    )


def _record_attempt(action: str, username: str, request: HttpRequest | None) -> AuditEvent:
    """A failed or refused attempt: the name typed only as a digest, and the person it names."""
    person = None
    if "\x00" not in username:  # never an account; and PostgreSQL refuses NUL in a query
        person = User.objects.filter(username=username).only("pk", "username").first()
    data = {"account": throttle.account_digest(username)}
    if person is None:
        return _record(action, request, data=data)
    return _record(action, request, label=person.username, data={**data, "person": str(person.pk)})


def check(username: str, request: HttpRequest | None) -> None:
    """``throttle.check``, recording a refusal: for the login page and the token login,
    which check before authenticating, to say why."""
    try:
        throttle.check(username, request)
    except throttle.LoginThrottled:
        _record_attempt(AccountsAuditAction.SIGN_IN_THROTTLED, username, request)
        raise


@receiver(user_logged_in, dispatch_uid="gongzhi.accounts.signins.signed_in")
def _signed_in(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    _record(AccountsAuditAction.SIGNED_IN, request, actor=user, label=user.get_username())


@receiver(user_login_failed, dispatch_uid="gongzhi.accounts.signins.failed")
def _failed(sender: Any, credentials: dict[str, Any], request: Any = None, **kw: Any) -> None:
    refused = throttle.was_refused()  # the backend refused it unchecked (the admin, ...)
    username = credentials.get("username")
    if isinstance(username, str):
        action = (
            AccountsAuditAction.SIGN_IN_THROTTLED if refused else AccountsAuditAction.SIGN_IN_FAILED
        )
        _record_attempt(action, username, request)


@receiver(user_logged_out, dispatch_uid="gongzhi.accounts.signins.signed_out")
def _signed_out(sender: Any, request: Any, user: Any, **kw: Any) -> None:
    if user is not None and user.is_authenticated:  # logging out while logged out: nothing
        _record(AccountsAuditAction.SIGNED_OUT, request, actor=user, label=user.get_username())


# --- Retention -------------------------------------------------------------------------------


def _keep(name: str, default: dt.timedelta) -> dt.timedelta:
    days = getattr(settings, name, None)
    return default if days is None else dt.timedelta(days=max(1, int(days)))


def prune_sign_ins(now: dt.datetime | None = None) -> int:
    """Delete sign-in events and personal tokens' events past their retention; the number of
    events deleted. For a periodic job: each batch is its own short transaction."""
    now = now or timezone.now()
    failed_before = now - _keep("GONGZHI_FAILED_SIGN_IN_AUDIT_DAYS", FAILED_KEEP)
    before = now - _keep("GONGZHI_SIGN_IN_AUDIT_DAYS", KEEP)
    return (
        _prune_streams(Q(subject_type=SESSION, action__in=REFUSED), failed_before)
        + _prune_streams(Q(subject_type=SESSION) & ~Q(action__in=REFUSED), before)
        + _prune_streams(Q(subject_type=PERSONAL_TOKEN), before)
    )


def _prune_streams(which: Q, before: dt.datetime) -> int:
    """Delete the streams of the events ``which`` selects, whole, once none of their events
    is as recent as ``before`` (a token revoked long after it was issued keeps both)."""
    recent = AuditEvent.objects.filter(stream=OuterRef("stream"), occurred_at__gte=before)
    stale = (
        AuditEvent.objects.filter(which, occurred_at__lt=before)
        .exclude(Exists(recent))
        .order_by()
        .values_list("stream", flat=True)
        .distinct()
    )
    deleted = 0
    while streams := list(stale[:PRUNE_BATCH]):
        with transaction.atomic():
            # The one deletion of audit events: past retention, whole streams. A plain
            # QuerySet, since AuditEvent's own refuses to delete anything.
            count, _ = models.QuerySet(AuditEvent).filter(stream__in=streams).delete()
        deleted += count
    return deleted


# Personal tokens (one per API login) expired or revoked this long ago are deleted: they are
# useless by then, and a person's token rows are personal data. Their issue and revocation
# stay in the audit log, under the token's prefix, for KEEP.
SPENT_TOKEN_KEEP = dt.timedelta(days=30)


def prune_personal_tokens(now: dt.datetime | None = None) -> int:
    """Delete personal tokens that expired or were revoked over 30 days ago; how many."""
    before = (now or timezone.now()) - SPENT_TOKEN_KEEP
    spent = ApiKey.objects.filter(kind=ApiKeyKind.PERSONAL).filter(
        Q(expires_at__lt=before) | Q(revoked_at__lt=before)
    )
    count, _ = spent.delete()
    return count
