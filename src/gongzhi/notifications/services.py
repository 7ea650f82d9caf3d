"""Creating and reading notices. Cases call ``notify_later`` inside their transaction; the
notice is written by a background task after the commit (a failed case action sends nothing)."""

from __future__ import annotations

from uuid import UUID

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from gongzhi.accounts.models import User
from gongzhi.accounts.queries import AnyUser
from gongzhi.notifications.choices import NoticeKind
from gongzhi.notifications.models import Notice

TEXTS = {
    NoticeKind.DISPATCHED: "案件 {number}「{title}」已派至本单位，请及时签收。",
    NoticeKind.RETURNED: "案件 {number}「{title}」被退回，请重新派单。",
    NoticeKind.SUPERVISED: "案件 {number}「{title}」已被督办，请加快办理。",
    NoticeKind.OVERDUE: "案件 {number}「{title}」已超期。",
    NoticeKind.REPLIED: "您反映的问题 {number} 已有答复。",
    NoticeKind.CLOSED: "您反映的问题 {number} 已办结，请评价。",
}


@task()
def send_notice_task(case_id: str, kind: str, unit_id: int | None, user_id: str | None) -> int:
    """Idempotent per (case, kind, recipient, version of the text): re-running adds nothing."""
    from gongzhi.cases.models import Case

    case = Case.objects.filter(pk=case_id).first()
    if case is None:
        return 0
    text = TEXTS[NoticeKind(kind)].format(number=case.number, title=case.title[:40])
    recipients = Notice.objects.filter(case=case, kind=kind, read_at__isnull=True, text=text)
    recipients = recipients.filter(unit_id=unit_id) if unit_id else recipients.filter(unit=None)
    person = UUID(user_id) if user_id else None
    recipients = recipients.filter(recipient_id=person)
    if recipients.exists():
        return 0
    Notice.objects.create(case=case, kind=kind, unit_id=unit_id, recipient_id=person, text=text)
    return 1


def notify_later(
    case_id: object, kind: NoticeKind, *, unit_id: int | None = None, user_id: object = None
) -> None:
    """Schedule a notice for after the current transaction commits."""
    if unit_id is None and user_id is None:
        return
    args = (str(case_id), kind.value, unit_id, str(user_id) if user_id else None)
    transaction.on_commit(lambda: send_notice_task.enqueue(*args))


def mark_read(notice: Notice, *, actor: AnyUser) -> Notice:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.read_by = actor if isinstance(actor, User) else None
        notice.save(update_fields=["read_at", "read_by"])
    return notice


def describe(kind: str) -> str:
    return str(NoticeKind(kind).label) or _("Notice")
