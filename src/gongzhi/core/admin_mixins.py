"""What the project's admins share."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest


class ListedWhenViewable:
    """Django lists a model on the admin's index only for those with Django permissions on
    its app; the project's admins decide who may see a model by scope (``has_view_permission``),
    so an administrator without Django permissions saw an empty index. The index follows the
    view permission instead."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        view: Any = getattr(self, "has_view_permission")  # noqa: B009 (a mixin: typed on use)
        return bool(view(request))
