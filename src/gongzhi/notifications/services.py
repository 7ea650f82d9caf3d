"""Creating and reading notices. Cases call ``notify_later`` inside their transaction, which
queues the notice's task in that same transaction (a transactional outbox: the task row is in
the same database, so it commits with the case's change or rolls back with it). The worker
writes the notice once the commit has made the task visible; a failed case action sends
nothing, and a crash or a lost connection right after the commit loses no notice."""

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
    """Idempotent per (case, kind, recipient, version of the text): re-running adds nothing.

    The worker runs it after the case's commit, reading the case as it is then (it may have
    moved on; the text only uses its number and title). With the immediate backend (tests) it
    runs inside the case's transaction and sees the uncommitted change; the savepoint keeps a
    database error in here (which that backend records and swallows) from leaving the case's
    transaction aborted on PostgreSQL."""
    from gongzhi.cases.models import Case

    with transaction.atomic():
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
    """Queue a notice in the caller's transaction; the worker writes it after the commit.

    Enqueued now, not in ``on_commit``: a task queued after the commit is lost for good if
    the process dies or the connection drops in between, and the client may be told that
    nothing was saved when the change was. Queued inside, the task row commits or rolls back
    with the change, and no worker can claim it before the commit (uncommitted rows are
    invisible to its connection)."""
    if unit_id is None and user_id is None:
        return
    send_notice_task.enqueue(str(case_id), kind.value, unit_id, str(user_id) if user_id else None)


def mark_read(notice: Notice, *, actor: AnyUser) -> Notice:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        notice.read_by = actor if isinstance(actor, User) else None
        notice.save(update_fields=["read_at", "read_by"])
    return notice


def describe(kind: str) -> str:
    return str(NoticeKind(kind).label) or _("Notice")
