from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gongzhi.accounts.queries import active_memberships, is_staff_member


def acting_as(request: HttpRequest) -> dict[str, Any]:
    """The memberships the signed-in person acts in, for the page header."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"my_memberships": active_memberships(user), "is_staff_member": is_staff_member(user)}
