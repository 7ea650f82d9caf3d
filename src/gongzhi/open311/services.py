"""The adapter's writes: a service request becomes a case, exactly once per Idempotency-Key.

A submission goes through ``cases.services.submit_case`` (channel ``open311``) like any other
intake; photos go through ``cases.services.attach_file``. The adapter keeps one row of its
own per submission (``Submission``): the key that sent it, the client's Idempotency-Key and
a hash of the body, so a retried POST answers the first case instead of creating another.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from gongzhi.accounts.queries import AnyUser, api_keys_of_units
from gongzhi.accounts.services import IssuedKey, issue_api_key, revoke_api_key, system_actor
from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseKind, Channel, Stage, Urgency
from gongzhi.cases.intake import QueuedCase, accept_case, queued_with_source_key
from gongzhi.cases.timelimits import limit_for
from gongzhi.core.errors import DomainError
from gongzhi.core.working_days import DurationUnit
from gongzhi.open311 import media, queries
from gongzhi.open311.choices import ATTRIBUTE_BY_CODE, ATTRIBUTES, CASE_FIELD_ATTRIBUTES
from gongzhi.open311.errors import IDEMPOTENCY_CONFLICT, BadRequest
from gongzhi.open311.models import Submission
from gongzhi.open311.queries import ApiKey, Case, Region, Service, Unit

Answer = str | list[str]
SOURCE = "open311"  # this adapter's name in the intake queue


@dataclass(frozen=True)
class ServiceRequest:
    """A validated POST requests: what ``views`` parsed, ready to become a case."""

    service: Service
    region: Region
    latitude: float | None = None
    longitude: float | None = None
    address: str = ""
    description: str = ""
    attributes: Mapping[str, Answer] = field(default_factory=dict)
    first_name: str = ""
    last_name: str = ""
    phone: str = ""
    media: Sequence[bytes] = ()
    media_url: str = ""


@dataclass(frozen=True)
class Submitted:
    submission: Submission
    replayed: bool = False

    @property
    def case(self) -> Case:
        return self.submission.case


def _person_name(first: str, last: str) -> str:
    first, last = first.strip(), last.strip()
    if first and last and not (first.isascii() or last.isascii()):
        return f"{last}{first}"  # 林 + 小雨
    return " ".join(p for p in (first, last) if p)


def _answer_text(code: str, answer: Answer) -> str:
    attribute = ATTRIBUTE_BY_CODE[code]
    names = dict(attribute.values)
    if isinstance(answer, list):
        return "、".join(str(names.get(a, a)) for a in answer)
    return str(names.get(answer, answer))


def _description(new: ServiceRequest, title: str) -> str:
    """The person's words, then the answers to the service's questions, in the language
    the staff who handle the case read (the site's, not the client's)."""
    lines = [new.description.strip() or title]
    with translation.override(settings.LANGUAGE_CODE):
        answers = [
            f"{a.label}：{_answer_text(a.code, new.attributes[a.code])}"
            for a in ATTRIBUTES
            if a.code in new.attributes and a.code not in CASE_FIELD_ATTRIBUTES
        ]
    if answers:
        lines += ["", *answers]
    return "\n".join(lines)


def _new_case(new: ServiceRequest) -> case_services.NewCase:
    title_answer = new.attributes.get("title")
    title = title_answer.strip() if isinstance(title_answer, str) and title_answer.strip() else ""
    title = title or new.service.name
    kind = new.attributes.get("kind") or CaseKind.REPORT
    urgency = new.attributes.get("urgency") or Urgency.NORMAL
    return case_services.NewCase(
        title=title,
        description=_description(new, title),
        kind=str(kind),
        channel=Channel.OPEN311,
        region=new.region,
        latitude=new.latitude,
        longitude=new.longitude,
        address=new.address,
        category=new.service.category,
        urgency=str(urgency),
        reporter_name=_person_name(new.first_name, new.last_name),
        reporter_phone=new.phone,
    )


def _replay(api_key: ApiKey, idempotency_key: str, body_hash: str) -> Submitted | None:
    previous = queries.submission_with_idempotency_key(api_key, idempotency_key)
    if previous is None:
        return None
    if previous.body_hash != body_hash:
        raise BadRequest(
            _(
                "This Idempotency-Key was already used for a different request (case "
                "%(number)s). Send the same request again to get its answer, or use a new key "
                "for a new request."
            )
            % {"number": previous.case.number},
            body_code=IDEMPOTENCY_CONFLICT,
        )
    return Submitted(previous, replayed=True)


def submit_request(
    new: ServiceRequest,
    *,
    api_key: ApiKey,
    idempotency_key: str = "",
    body_hash: str,
) -> Submitted:
    """Create the case (and attach the photos) unless this key already sent this request."""
    if idempotency_key:
        replay = _replay(api_key, idempotency_key, body_hash)
        if replay is not None:
            return replay
    # Checks, classification, routing and the clock before the transaction: it only writes.
    prepared = case_services.prepare_case(_new_case(new), actor=AnonymousUser())
    try:
        with transaction.atomic():
            case = case_services.submit_prepared(prepared)
            if new.media:
                # The client may not attach as itself (an integration key acts as nobody): the
                # system attaches the photos it sent with the case, before anyone else acts.
                system = system_actor()
                for content in new.media:
                    case_services.attach_file(case, actor=system, content=content)
            submission = Submission.objects.create(
                api_key=api_key,
                case=case,
                token=secrets.token_urlsafe(12),
                idempotency_key=idempotency_key,
                body_hash=body_hash,
                media_url=new.media_url,
                submitted_at=case.submitted_at,
            )
            if new.media_url:
                # Queued in this transaction, not on commit: the fetch commits with the case
                # or rolls back with it, and cannot be lost between the commit and the queue.
                fetch_media_task.enqueue(str(submission.pk))
    except IntegrityError:
        # A concurrent retry with the same key committed first: ours is undone, answer theirs.
        if idempotency_key:
            replay = _replay(api_key, idempotency_key, body_hash)
            if replay is not None:
                return replay
        raise
    return Submitted(submission)


def accept_request(
    new: ServiceRequest,
    *,
    api_key: ApiKey,
    idempotency_key: str = "",
    body_hash: str,
) -> str:
    """Batch mode: accept the request into the intake queue (ADR 0007) and answer its token.
    The case, and this adapter's ``Submission`` with the same token, follow in the background
    (``link_queued_submission``). A retry with the same Idempotency-Key answers the same token."""
    if idempotency_key:
        replay = _replay_token(api_key, idempotency_key, body_hash)
        if replay is not None:
            return replay
    try:
        queued = accept_case(
            _new_case(new),
            actor=AnonymousUser(),
            source=SOURCE,
            source_key=_source_key(api_key, idempotency_key),
            source_data={
                "api_key": str(api_key.pk),
                "idempotency_key": idempotency_key,
                "body_hash": body_hash,
                "media_url": new.media_url,
            },
        )
    except IntegrityError:
        # A concurrent retry with the same key was accepted first: answer its token.
        replay = _replay_token(api_key, idempotency_key, body_hash) if idempotency_key else None
        if replay is None:
            raise
        return replay
    return queued.receipt


def _source_key(api_key: ApiKey, idempotency_key: str) -> str:
    return f"{SOURCE}:{api_key.pk}:{idempotency_key}" if idempotency_key else ""


def _replay_token(api_key: ApiKey, idempotency_key: str, body_hash: str) -> str | None:
    """The token of the request this key already sent with this Idempotency-Key, if any."""
    done = _replay(api_key, idempotency_key, body_hash)
    if done is not None:
        return done.submission.token
    queued = queued_with_source_key(_source_key(api_key, idempotency_key))
    if queued is None:
        return None
    if queued.source_data.get("body_hash") != body_hash:
        raise BadRequest(
            _(
                "This Idempotency-Key was already used for a different request (token "
                "%(token)s). Send the same request again to get its answer, or use a new key "
                "for a new request."
            )
            % {"token": queued.receipt},
            body_code=IDEMPOTENCY_CONFLICT,
        )
    return queued.receipt


def link_queued_submission(queued: QueuedCase, case: Case, **kwargs: object) -> None:
    """The case of a request accepted in batch mode exists now (inside its transaction): keep
    this adapter's row for it, under the token the client already has, and fetch its photo."""
    if queued.source != SOURCE:
        return
    data = queued.source_data
    submission = Submission.objects.create(
        api_key_id=data["api_key"],
        case=case,
        token=queued.receipt,
        idempotency_key=data.get("idempotency_key", ""),
        body_hash=data["body_hash"],
        media_url=data.get("media_url", ""),
        submitted_at=case.submitted_at,
    )
    if submission.media_url:
        fetch_media_task.enqueue(str(submission.pk))


logger = logging.getLogger(__name__)


@task()
def fetch_media_task(submission_id: str) -> bool:
    """Fetch the photo a client named by media_url and attach it (idempotent: once).

    Queued in the submission's transaction, so the worker runs it only after that commit; the
    case may have moved on by then, and one no longer open refuses the photo (logged, nothing
    attached). With the immediate backend (tests) it runs inside that transaction; the
    attachment is written in a savepoint (``attach_fetched_media``)."""
    if not getattr(settings, "GONGZHI_OPEN311_FETCH_MEDIA", True):
        return False
    submission = queries.submission_with_id(submission_id)
    if submission is None or not submission.media_url or submission.media_fetched_at:
        return False
    try:
        content = media.download(submission.media_url)
        return attach_fetched_media(submission, content)
    except (media.RefusedMedia, DomainError) as error:
        # No URL or personal data in the log line: the submission id says which.
        logger.warning("open311 media of submission %s not attached: %s", submission_id, error)
        return False


def attach_fetched_media(submission: Submission, content: bytes) -> bool:
    """Attach the photo fetched from the submission's media_url (once), as the system."""
    with transaction.atomic():
        locked = Submission.objects.select_for_update().select_related("case").get(pk=submission.pk)
        if locked.media_fetched_at is not None:
            return False
        case_services.attach_file(locked.case, actor=system_actor(), content=content)
        locked.media_fetched_at = timezone.now()
        locked.save(update_fields=["media_fetched_at"])
    return True


def service_notice(case: Case) -> str:
    """What the person may expect, from the city's time limits for this case."""
    limit = limit_for(case, Stage.FEEDBACK)
    units = {
        DurationUnit.MINUTES: _("minutes"),
        DurationUnit.HOURS: _("hours"),
        DurationUnit.WORKING_HOURS: _("working hours"),
        DurationUnit.WORKING_DAYS: _("working days"),
    }
    return _(
        "Received as case %(number)s. After it is accepted, the unit that handles it answers "
        "within %(amount)d %(unit)s."
    ) % {"number": case.number, "amount": limit.amount, "unit": units[limit.unit]}


# --- Client keys -----------------------------------------------------------------------------


def reissue_client_key(*, unit: Unit, name: str, actor: AnyUser) -> IssuedKey:
    """Revoke the unit's live keys of this name and issue a new one (only hashes are kept,
    so a lost key cannot be shown again; ``gongzhi demo`` uses this for its demo client)."""
    with transaction.atomic():
        for key in api_keys_of_units([unit.pk]).filter(name=name, revoked_at__isnull=True):
            revoke_api_key(key, actor=actor, reason=_("Replaced by a new key."))
        return issue_api_key(unit=unit, name=name, actor=actor)
