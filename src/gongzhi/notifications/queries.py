from __future__ import annotations

from django.db.models import Q, QuerySet

from gongzhi.accounts.queries import AnyUser, active_memberships
from gongzhi.notifications.models import Notice


def notices_for(user: AnyUser) -> QuerySet[Notice]:
    """Mine, and my units' (a unit's notice is read once by whichever member reads it)."""
    if not user.is_authenticated:
        return Notice.objects.none()
    units = {m.unit_id for m in active_memberships(user)}
    return Notice.objects.filter(Q(recipient=user) | Q(unit_id__in=units)).select_related("case")


def unread_count(user: AnyUser) -> int:
    return notices_for(user).filter(read_at__isnull=True).count()
