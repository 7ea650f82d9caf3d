from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from gongzhi.notifications.queries import unread_count


def notices(request: HttpRequest) -> dict[str, Any]:
    """The unread count for the bell in the page header (one indexed count per page)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_notices": unread_count(user)}
