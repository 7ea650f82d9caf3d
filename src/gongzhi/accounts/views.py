"""Pages about me, API keys and the audit log. Thin: access, call the service, render."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, cast

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django.views.i18n import set_language
from django_otp import login as otp_login

from gongzhi.accounts import people, policies, services, throttle, two_step
from gongzhi.accounts.choices import Capability
from gongzhi.accounts.forms import ApiKeyForm, AuditFilterForm, CodeForm, LoginForm, ReasonForm
from gongzhi.accounts.models import User
from gongzhi.accounts.queries import (
    audit_actions,
    audit_events_visible_to,
    audit_labels,
    is_staff_member,
    scope_of,
)
from gongzhi.accounts.throttle import retry_after
from gongzhi.core.errors import DomainError, PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.territory.policies import access_unit, units_visible_to
from gongzhi.territory.queries import scope_roots

# The language switch must work on the login page too.
switch_language = login_not_required(set_language)


PENDING = "gongzhi_two_step_pending"  # the password was right; the code is still to come
PENDING_SECONDS = 300


class LoginView(auth_views.LoginView):
    """Django's login page, answering 429 with Retry-After while logins are throttled. A
    person with two-step verification on is not signed in yet: the code comes next."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = retry_after(form.throttled)
        return response

    def form_valid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        user = form.get_user()
        if not two_step.is_on(user):
            return super().form_valid(form)
        self.request.session[PENDING] = {
            "user": str(user.pk),
            "backend": getattr(user, "backend", ""),
            "since": time.time(),
            "next": self.get_success_url(),
        }
        return redirect("accounts:two-step-login")


def _pending_person(request: HttpRequest) -> tuple[User, dict[str, Any]] | None:
    """Who passed the password step in this browser in the last five minutes."""
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict) or time.time() - pending.get("since", 0) > PENDING_SECONDS:
        return None
    person = User.objects.filter(pk=pending["user"], is_active=True).first()
    return (person, pending) if person is not None else None


@login_not_required
def two_step_login(request: HttpRequest) -> HttpResponse:
    """The second step of signing in: the code from the person's authenticator app."""
    found = _pending_person(request)
    if found is None:
        request.session.pop(PENDING, None)
        messages.info(request, _("Sign in again: the code was not entered within five minutes."))
        return redirect("accounts:login")
    person, pending = found
    form = CodeForm(request.POST or None)
    template = "accounts/two_step_login.html"
    if request.method == "POST" and form.is_valid():
        try:
            device = two_step.second_step(person, form.cleaned_data["code"], request)
        except throttle.LoginThrottled as error:
            form.add_error(None, error.message)
            response = render(request, template, {"form": form}, status=429)
            response["Retry-After"] = retry_after(error)
            return response
        except DomainError as error:
            form.add_error("code", error.message)
            return render(request, template, {"form": form}, status=400)
        request.session.pop(PENDING, None)
        login(request, person, backend=pending.get("backend") or None)
        if device is not None:
            otp_login(request, device)
        return redirect(pending.get("next") or "/")
    return render(request, template, {"form": form})


def home(request: HttpRequest) -> HttpResponse:
    roots = scope_roots(scope_of(request.user, Capability.VIEW_TERRITORY))
    return render(
        request,
        "accounts/home.html",
        {
            "scope_roots": roots,
            "can_view_audit": policies.can_view_audit(request.user),
            "can_manage_api_keys": not scope_of(request.user, Capability.MANAGE_API_KEYS).is_empty,
        },
    )


def _require_key_manager(request: HttpRequest) -> None:
    if scope_of(request.user, Capability.MANAGE_API_KEYS).is_empty:
        raise PermissionDenied(_("Only administrators manage API keys."))


def api_keys(request: HttpRequest) -> HttpResponse:
    _require_key_manager(request)
    manageable = units_visible_to(request.user).filter(
        scope_of(request.user, Capability.MANAGE_API_KEYS).q("region__path")
    )
    choices = [(u.pk, f"{u.name}") for u in manageable.order_by("region__path", "name")[:2000]]
    form = ApiKeyForm(request.POST or None, unit_choices=choices)
    issued_token = None
    if request.method == "POST" and form.is_valid():
        try:
            unit = access_unit(request.user, form.cleaned_data["unit_id"])
            issued = services.issue_api_key(
                unit=unit, name=form.cleaned_data["name"], actor=request.user
            )
        except DomainError as exc:
            form.add_error(None, exc.message)
        else:
            issued_token = issued.token
            messages.success(request, _("Key issued. Copy it now: it is shown only once."))
    keys = policies.api_keys_manageable_by(request.user).order_by("-created_at")[:200]
    return render(
        request,
        "accounts/api_keys.html",
        {"form": form, "keys": keys, "issued_token": issued_token},
    )


@require_POST
def revoke_api_key(request: HttpRequest, key_id: str) -> HttpResponse:
    key = policies.access_api_key(request.user, key_id)
    form = ReasonForm(request.POST)
    if not form.is_valid():  # a reason too long or not text: nothing is revoked
        messages.error(request, " ".join(str(e) for e in form.errors["reason"]))
        return redirect("accounts:api-keys")
    try:
        services.revoke_api_key(key, actor=request.user, reason=form.cleaned_data["reason"])
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Key %(name)s revoked.") % {"name": key.name})
    return redirect("accounts:api-keys")


def audit_log(request: HttpRequest) -> HttpResponse:
    if not policies.can_view_audit(request.user):
        raise PermissionDenied(_("Only auditors and administrators read the audit log."))
    events = audit_events_visible_to(request.user)
    form = AuditFilterForm(request.GET, actions=audit_actions(events))
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    if kind:
        events = events.filter(action=kind)
    events = events.select_related("actor").order_by("-occurred_at", "-pk")
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    labels = audit_labels()
    rows = [
        AuditRow(e, labels.get(e.actor_role, e.actor_role), labels.get(e.action, e.action))
        for e in page
    ]
    context = {"page": page, "rows": rows, "form": form, "kind": kind}
    return render(request, "accounts/audit_log.html", context)


@dataclass(frozen=True)
class AuditRow:
    event: AuditEvent
    role_label: str
    action_label: str


def profile(request: HttpRequest) -> HttpResponse:
    if request.method not in ("GET", "HEAD"):
        return HttpResponseNotAllowed(["GET"])
    context = {
        "is_staff_member": is_staff_member(request.user),
        "two_step_on": two_step.is_on(request.user),
        "tokens": policies.own_personal_tokens(request.user),
    }
    return render(request, "accounts/profile.html", context)


@require_POST
def revoke_own_token(request: HttpRequest, key_id: str) -> HttpResponse:
    """Sign out of the API somewhere: revoke one of one's own personal tokens."""
    key = policies.access_own_personal_token(request.user, key_id)
    try:
        services.revoke_api_key(
            key, actor=request.user, reason=REVOKED_ON_ACCOUNT_PAGE, request=request
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Signed out of the API: token %(prefix)s revoked.") % {"prefix": key.prefix}
        )
    return redirect("accounts:profile")


REVOKED_ON_ACCOUNT_PAGE = "revoked on the account page"


class PasswordChangeView(auth_views.PasswordChangeView):
    """Django's own form (old password, new twice, the password validators). A new password
    keeps this session, signs the person out everywhere else and revokes their personal
    tokens; the change is audited as a person change (``accounts.people``)."""

    template_name = "accounts/password_change.html"
    success_url = reverse_lazy("accounts:profile")

    def form_valid(self, form: Any) -> HttpResponse:
        person = cast(User, self.request.user)
        with people.acting(person):
            response = super().form_valid(form)
        services.end_sign_ins_elsewhere(person, self.request, reason=PASSWORD_CHANGED)
        messages.success(self.request, _("Password changed. You are signed out everywhere else."))
        return response


PASSWORD_CHANGED = "password changed"  # noqa: S105 (the reason on the tokens it revokes)


@never_cache  # the key being set up, and backup codes: never kept by a browser or proxy
def two_step_settings(request: HttpRequest) -> HttpResponse:
    """Turn two-step verification on (scan, then confirm with a code), make new backup codes,
    or turn it off; each with a code. Backup codes are shown on the answer, once."""
    person = cast(User, request.user)
    device = two_step.confirmed_device(person)
    form = CodeForm(request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        action = "on" if device is None else request.POST.get("action", "off")
        try:
            if action == "on":
                codes = two_step.turn_on(person, code, request)
            elif action == "codes":
                codes = two_step.replace_backup_codes(person, code, request)
            else:
                two_step.turn_off(person, code, request)
        except DomainError as error:
            form.add_error("code", error.message)
            status = 400
        else:
            if action == "off":
                messages.success(request, _("Two-step verification is off."))
                return redirect("accounts:profile")
            if action == "on":
                messages.success(request, _("Two-step verification is on."))
            shown = {"codes": codes, "next": _safe_next(request) or reverse("accounts:profile")}
            return render(request, "accounts/two_step_codes.html", shown)
    context: dict[str, Any] = {"form": form, "on": device is not None, "next": _safe_next(request)}
    if device is None:
        pending = two_step.pending_device(person)
        context |= {"qr": two_step.qr_svg(pending), "key": two_step.key_for_typing(pending)}
    else:
        context["codes_left"] = two_step.backup_codes_left(person)
    return render(request, "accounts/two_step.html", context, status=status)


def _safe_next(request: HttpRequest) -> str:
    """The page to go back to after setting it up (the admin sends people here), if local."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    allowed = url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return target if allowed else ""
