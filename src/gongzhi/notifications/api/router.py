"""API: my notices (and my units'), and marking one read."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import Field

from gongzhi.core.errors import NotFound
from gongzhi.notifications import queries, services
from gongzhi.notifications.models import Notice

router = Router(tags=["notifications"])


class NoticeOut(Schema):
    id: int
    kind: str
    kind_label: str
    text: str
    case_id: UUID
    unit_id: int | None
    created_at: datetime
    read_at: datetime | None


class NoticePage(Schema):
    unread_count: int
    items: list[NoticeOut]


class NoticeFilters(Schema):
    unread: bool = False
    limit: int = Field(default=50, ge=1, le=200)


def notice_out(notice: Notice) -> NoticeOut:
    return NoticeOut(
        id=notice.pk,
        kind=notice.kind,
        kind_label=services.describe(notice.kind),
        text=notice.text,
        case_id=notice.case_id,
        unit_id=notice.unit_id,
        created_at=notice.created_at,
        read_at=notice.read_at,
    )


@router.get("/notices", response=NoticePage, summary="My notices, newest first")
def list_notices(request: HttpRequest, filters: Query[NoticeFilters]) -> NoticePage:
    notices = queries.notices_for(request.user)
    if filters.unread:
        notices = notices.filter(read_at__isnull=True)
    return NoticePage(
        unread_count=queries.unread_count(request.user),
        items=[notice_out(n) for n in notices[: filters.limit]],
    )


@router.post("/notices/{notice_id}/read", response=NoticeOut, summary="Mark a notice read")
def read_notice(request: HttpRequest, notice_id: int) -> NoticeOut:
    notice = queries.notices_for(request.user).filter(pk=notice_id).first()
    if notice is None:
        raise NotFound(_("No such notice."))
    return notice_out(services.mark_read(notice, actor=request.user))
