"""Changes to people that matter for security go into the audit chain, however they are made.

The Django admin's person pages, ``createsuperuser``, ``changepassword`` and the shell all
save ``User`` rows directly, outside ``accounts.services``; model signals catch them here:

- a person created with staff or superuser rights (``person.created``);
- a change of username, password, active, staff, superuser or demo flags (``person.changed``,
  with the fields and, except for the password, the values before and after);
- groups or direct permissions added, removed or cleared (``person.permissions_changed``);
- a person deleted (``person.deleted``).

Residents signing up and profile fields are not recorded here, nor logins (``last_login``):
signing in and out has its own events (``accounts.signins``). The actor is whoever
``acting(user)`` names (the admin wraps its person views in it), else "system" (the command
line). Events go to the top region's audit stream so that city auditors see them;
``person:<id>`` is the stream.
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Iterator
from typing import Any

from django.contrib.auth.models import Group, Permission
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save
from django.dispatch import receiver

from gongzhi.accounts.choices import AccountsAuditAction
from gongzhi.accounts.models import User
from gongzhi.core.audit import record_audit
from gongzhi.territory.models import Region

WATCHED = ("username", "password", "is_active", "is_staff", "is_superuser", "is_demo")
_actor: contextvars.ContextVar[Any] = contextvars.ContextVar("gongzhi_person_actor", default=None)


@contextlib.contextmanager
def acting(user: Any) -> Iterator[None]:
    """Attribute person changes made inside the block to ``user``."""
    token = _actor.set(user)
    try:
        yield
    finally:
        _actor.reset(token)


def top_region_path() -> str:
    """Where audit events about people go: the city, so that city auditors see them."""
    top = Region.objects.filter(parent__isnull=True).order_by("path").values_list("path", flat=True)
    return top.first() or ""


def _record(person: User, action: str, data: dict[str, Any]) -> None:
    actor = _actor.get()
    record_audit(
        subject_type="person",
        subject_id=person.pk,
        subject_label=person.username,
        region_path=top_region_path(),
        action=action,
        actor=actor,
        actor_role="" if getattr(actor, "is_authenticated", False) else "system",
        data=data,
    )


@receiver(pre_save, sender=User, dispatch_uid="gongzhi.accounts.people.before")
def _remember(sender: Any, instance: User, update_fields: Any = None, **kw: Any) -> None:
    if instance._state.adding or (update_fields and not set(update_fields) & set(WATCHED)):
        instance._audit_before = None  # type: ignore[attr-defined]
        return
    instance._audit_before = (  # type: ignore[attr-defined]
        User.objects.filter(pk=instance.pk).values(*WATCHED).first()
    )


@receiver(post_save, sender=User, dispatch_uid="gongzhi.accounts.people.after")
def _after_save(sender: Any, instance: User, created: bool, **kw: Any) -> None:
    if created:
        if instance.is_staff or instance.is_superuser:
            flags = {"is_staff": instance.is_staff, "is_superuser": instance.is_superuser}
            _record(instance, AccountsAuditAction.PERSON_CREATED, flags)
        return
    before = getattr(instance, "_audit_before", None)
    if not before:
        return
    changes: dict[str, Any] = {}
    for name in WATCHED:
        old, new = before[name], getattr(instance, name)
        if old != new:
            changes[name] = "changed" if name == "password" else {"from": old, "to": new}
    if changes:
        _record(instance, AccountsAuditAction.PERSON_CHANGED, changes)


@receiver(post_delete, sender=User, dispatch_uid="gongzhi.accounts.people.deleted")
def _after_delete(sender: Any, instance: User, **kw: Any) -> None:
    _record(instance, AccountsAuditAction.PERSON_DELETED, {})


def _permissions_changed(instance: Any, action: str, model: Any, pk_set: Any) -> None:
    if not isinstance(instance, User) or action not in ("post_add", "post_remove", "post_clear"):
        return
    kind = "groups" if model is Group else "permissions"
    names: list[str] = []
    if pk_set:
        if model is Group:
            names = sorted(Group.objects.filter(pk__in=pk_set).values_list("name", flat=True))
        else:
            names = sorted(
                f"{app}.{code}"
                for app, code in Permission.objects.filter(pk__in=pk_set).values_list(
                    "content_type__app_label", "codename"
                )
            )
    data = {"what": kind, "change": action.removeprefix("post_"), "names": names}
    _record(instance, AccountsAuditAction.PERSON_PERMISSIONS_CHANGED, data)


@receiver(m2m_changed, sender=User.groups.through, dispatch_uid="gongzhi.accounts.people.groups")
def _groups(sender: Any, instance: Any, action: str, model: Any, pk_set: Any, **kw: Any) -> None:
    _permissions_changed(instance, action, model, pk_set)


@receiver(
    m2m_changed,
    sender=User.user_permissions.through,
    dispatch_uid="gongzhi.accounts.people.permissions",
)
def _permissions(
    sender: Any, instance: Any, action: str, model: Any, pk_set: Any, **kw: Any
) -> None:
    _permissions_changed(instance, action, model, pk_set)
