"""Back office for people, memberships, API keys and the audit log.

The admin is an adapter like any view: it lists through the same scoping and changes
through the same services. Memberships and keys are granted and revoked through
services (actions here), never edited in place; the audit log is read-only. People are
edited with Django's own forms; ``accounts.people`` audits what matters for security.
"""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from gongzhi.accounts import people, services, two_step
from gongzhi.accounts.choices import Capability
from gongzhi.accounts.models import ApiKey, Membership, User
from gongzhi.accounts.policies import api_keys_manageable_by, memberships_manageable_by
from gongzhi.accounts.queries import audit_actions, audit_events_visible_to, audit_labels, scope_of
from gongzhi.core.admin_mixins import ListedWhenViewable
from gongzhi.core.errors import DomainError
from gongzhi.core.models import AuditEvent

SET_BY_ADMINISTRATOR = "password set by an administrator"


class ReadOnlyAdmin(ListedWhenViewable, admin.ModelAdmin):  # type: ignore[type-arg]
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(User)
class PersonAdmin(UserAdmin):  # type: ignore[type-arg]
    list_display = ("username", "display_name", "is_active", "is_demo", "last_login")
    list_filter = ("is_active", "is_demo", "is_staff")
    search_fields = ("username", "display_name")
    fieldsets = (
        *(UserAdmin.fieldsets or ()),
        (_("gongzhi"), {"fields": ("display_name", "phone", "is_demo")}),
    )

    # Every page that saves or deletes people names the actor for their audit events
    # (``accounts.people``: the events come from model signals, whoever saves).
    def changeform_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with people.acting(request.user):
            return super().changeform_view(request, *args, **kwargs)

    def changelist_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with people.acting(request.user):  # the "delete selected" action
            return super().changelist_view(request, *args, **kwargs)

    def delete_view(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        with people.acting(request.user):
            return super().delete_view(request, *args, **kwargs)

    def user_change_password(
        self, request: HttpRequest, id: str, form_url: str = ""
    ) -> HttpResponse:
        with people.acting(request.user):
            response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and response.status_code == 302:  # the password was set
            # Django's session hash ends the person's sessions; their API tokens end here.
            person = self.get_object(request, unquote(id))
            if person is not None:
                services.revoke_personal_tokens(person, request, reason=SET_BY_ADMINISTRATOR)
        return response

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        # Administrators see the people who hold roles inside their scope, not every resident.
        scope = scope_of(request.user, Capability.MANAGE_MEMBERS)
        return qs.filter(scope.q("memberships__region__path")).distinct()


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "unit", "role", "region", "is_active", "created_at")
    list_filter = ("role", "is_active")
    search_fields = ("user__username", "unit__name", "region__name")
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Membership]:
        return memberships_manageable_by(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not scope_of(request.user, Capability.MANAGE_MEMBERS).is_empty

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Needed for actions to show; the change form itself is read-only.
        return obj is None and self.has_view_permission(request)

    @admin.action(description=_("Revoke the selected memberships"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[Membership]) -> None:
        for membership in queryset.filter(is_active=True):
            try:
                services.revoke_membership(membership, actor=request.user, reason="back office")
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)


@admin.register(ApiKey)
class ApiKeyAdmin(ReadOnlyAdmin):
    list_display = ("name", "prefix", "unit", "created_at", "last_used_at", "revoked_at")
    exclude = ("secret_hash",)
    actions = ["revoke_selected"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return api_keys_manageable_by(request.user)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not scope_of(request.user, Capability.MANAGE_API_KEYS).is_empty

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and self.has_view_permission(request)

    @admin.action(description=_("Revoke the selected keys"))
    def revoke_selected(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset.filter(revoked_at__isnull=True):
            try:
                services.revoke_api_key(key, actor=request.user, reason="back office")
            except DomainError as exc:
                self.message_user(request, exc.message, messages.ERROR)


# django-otp's own admin shows and edits each device's secret key; this one only lists
# them and resets a person's (a lost phone), through the service that audits it.
admin.site.unregister(TOTPDevice)


@admin.register(TOTPDevice)
class AuthenticatorAdmin(ReadOnlyAdmin):
    list_display = ("user", "confirmed", "created_at", "last_used_at")
    fields = ("user", "confirmed", "created_at", "last_used_at")
    search_fields = ("user__username",)
    actions = ["reset_selected"]

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return bool(request.user.is_superuser)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return obj is None and self.has_view_permission(request)

    @admin.action(description=_("Reset two-step verification of the selected people"))
    def reset_selected(self, request: HttpRequest, queryset: QuerySet[TOTPDevice]) -> None:
        persons = sorted(
            {device.user for device in queryset.select_related("user")}, key=lambda p: p.username
        )
        for person in persons:
            two_step.reset(person, actor=request.user, request=request)
        names = ", ".join(p.username for p in persons)
        self.message_user(request, _("Reset for %(names)s.") % {"names": names})


class AuditActionFilter(admin.SimpleListFilter):
    """The actions by their names (sign-ins, person changes, ...), not their codes."""

    title = _("action")
    parameter_name = "action"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return audit_actions(audit_events_visible_to(request.user))

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        return queryset.filter(action=self.value()) if self.value() else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "actor",
        "actor_role",
        "action_name",
        "subject_label",
        "client_address",
        "reason",
    )
    list_filter = (AuditActionFilter, "subject_type")
    search_fields = ("subject_label", "stream")

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        return audit_events_visible_to(request.user).select_related("actor")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return not scope_of(request.user, Capability.VIEW_AUDIT).is_empty

    @admin.display(description=_("action"), ordering="action")
    def action_name(self, event: AuditEvent) -> str:
        return audit_labels().get(event.action, event.action)

    @admin.display(description=_("Client address"))
    def client_address(self, event: AuditEvent) -> str:
        """Where a sign-in or a personal token came from (``accounts.signins``)."""
        data = event.data if isinstance(event.data, dict) else {}
        return str(data.get("address") or "—")
