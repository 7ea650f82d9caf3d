"""The Django admin's site: one way in (the project's login page, with its second step), and
a verified code required when ``GONGZHI_ADMIN_TWO_STEP`` is on (``accounts.two_step``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from gongzhi.accounts import two_step
from gongzhi.core.errors import PermissionDenied


class AdminSite(admin.AdminSite):
    site_header = "共治 gongzhi"
    site_title = "共治 gongzhi"

    def has_permission(self, request: HttpRequest) -> bool:
        if not super().has_permission(request):
            return False
        return not two_step.required_for(request.user) or two_step.is_verified(request)

    @method_decorator(never_cache)
    @login_not_required
    def login(self, request: HttpRequest, extra_context: Any = None) -> HttpResponse:
        """Where the admin sends whoever it does not let in: to the project's login page, to
        set two-step verification up, or to sign in again with a code. The admin's own login
        form is never shown (it would sign in without the second step)."""
        user = request.user
        target = request.GET.get("next") or reverse("admin:index")
        if not user.is_authenticated:
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(_("The admin is for administrators."))
        if two_step.is_on(user):  # signed in before it was turned on, or reset and set again
            logout(request)
            messages.info(request, _("Sign in again with a code from your authenticator app."))
            return redirect(f"{reverse('accounts:login')}?{urlencode({'next': target})}")
        messages.info(request, _("The admin asks for two-step verification: turn it on first."))
        return redirect(f"{reverse('accounts:two-step')}?{urlencode({'next': target})}")
