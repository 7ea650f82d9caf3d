"""Pages about me, API keys and the audit log. Thin: access, call the service, render."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from gongzhi.accounts import policies, services
from gongzhi.accounts.choices import Capability
from gongzhi.accounts.forms import ApiKeyForm, AuditFilterForm, LoginForm, ReasonForm
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


class LoginView(auth_views.LoginView):
    """Django's login page, answering 429 with Retry-After while logins are throttled."""

    form_class = LoginForm
    template_name = "accounts/login.html"
    redirect_authenticated_user = True

    def form_invalid(self, form: LoginForm) -> HttpResponse:  # type: ignore[override]
        response = super().form_invalid(form)
        if form.throttled is not None:
            response.status_code = 429
            response["Retry-After"] = retry_after(form.throttled)
        return response


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
    return render(
        request, "accounts/profile.html", {"is_staff_member": is_staff_member(request.user)}
    )
