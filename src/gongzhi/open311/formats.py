"""Open311 documents in XML and JSON, and the public view of a case.

JSON is the mechanical mapping of the XML (the spec's "Spark convention"): a list becomes a
top-level array (``[{...}]``), a list inside an element becomes repeated child elements
named by ``ITEM_TAGS`` (``<attributes><attribute>…``), ``None`` an empty element or
``null``, booleans ``true``/``false``. Both are UTF-8. Text that XML 1.0 cannot carry
(control characters) is dropped from both.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree.ElementTree import Element, SubElement, tostring

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone

from gongzhi.cases.choices import EVENT_LABELS, STATE_LABELS, CaseKind, Urgency
from gongzhi.cases.workflow import Action, State, is_open
from gongzhi.core.redaction import mask_name, redact
from gongzhi.open311 import queries
from gongzhi.open311.choices import (
    ATTRIBUTE_BY_CODE,
    ATTRIBUTES,
    COORDINATE_DECIMALS,
    EVENTS_WITH_PUBLIC_TEXT,
    FMS_STATUS,
    Attribute,
    Datatype,
)
from gongzhi.open311.queries import Case, CaseAttachment, CaseEvent, Region, Service

ITEM_TAGS = {
    "services": "service",
    "service_requests": "request",
    "service_request_updates": "request_update",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
    "notes": "note",
    "media_urls": "media_url",
}
CONTENT_TYPES = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
_NOT_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

Document = Sequence[Mapping[str, Any]] | Mapping[str, Any]


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


def _scalar(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def _fill(element: Element, value: Any) -> None:
    if isinstance(value, Mapping):
        for key, inner in value.items():
            _fill(SubElement(element, key), inner)
    elif isinstance(value, list | tuple):
        tag = ITEM_TAGS.get(element.tag, "item")
        for inner in value:
            _fill(SubElement(element, tag), inner)
    elif value is not None:
        element.text = _scalar(value)


def to_xml(root: str, document: Document) -> bytes:
    element = Element(root)
    _fill(element, list(document) if not isinstance(document, Mapping) else document)
    body = tostring(element, encoding="unicode")
    return ('<?xml version="1.0" encoding="utf-8"?>\n' + body).encode("utf-8")


def _json_ready(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _json_ready(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(v) for v in value]
    if isinstance(value, str):
        return clean(value)
    return value


def to_json(document: Document) -> bytes:
    return json.dumps(_json_ready(document), ensure_ascii=False).encode("utf-8")


def respond(fmt: str, root: str, document: Document, *, status: int = 200) -> HttpResponse:
    body = to_xml(root, document) if fmt == "xml" else to_json(document)
    return HttpResponse(body, status=status, content_type=CONTENT_TYPES[fmt])


def errors(fmt: str, problems: Sequence[tuple[int, str]], *, status: int) -> HttpResponse:
    document = [{"code": code, "description": description} for code, description in problems]
    return respond(fmt, "errors", document, status=status)


def w3c(value: dt.datetime | None) -> str | None:
    """ISO 8601 in the city's time zone, with its offset: 2026-11-27T09:30:00+08:00."""
    if value is None:
        return None
    return timezone.localtime(value).isoformat(timespec="seconds")


# --- Services --------------------------------------------------------------------------------


def service_document(service: Service, service_type: str) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "service_name": service.name,
        "description": str(service.category),
        "metadata": True,
        "type": service_type,
        "keywords": service.keywords,
        "group": service.group,
    }


def attribute_document(attribute: Attribute) -> dict[str, Any]:
    document: dict[str, Any] = {
        "variable": attribute.variable,
        "code": attribute.code,
        "datatype": attribute.datatype.value,
        "required": attribute.required,
        "datatype_description": str(attribute.datatype_description),
        "order": attribute.order,
        "description": str(attribute.description),
    }
    if attribute.datatype in {Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST}:
        document["values"] = [{"key": key, "name": str(name)} for key, name in attribute.values]
    return document


def definition_document(service: Service) -> dict[str, Any]:
    return {
        "service_code": service.code,
        "attributes": [attribute_document(a) for a in ATTRIBUTES],
    }


# --- Service requests ------------------------------------------------------------------------


def public_text(case: Case, text: str) -> str:
    """Redacted, and the name the person gave masked wherever it appears."""
    text = redact(text)
    name = case.reporter_name.strip()
    if len(name) >= 2:
        text = text.replace(name, mask_name(name))
    return text


def _address(case: Case) -> str:
    """District, street and community: never the exact address the person gave. (The
    parents come with the case, ``select_related`` three levels up: no query here.)"""
    names = []
    region: Region | None = case.region
    while region is not None and region.level >= 2:
        if region.level <= 4:
            names.append(region.name)
        region = region.parent if region.level > 2 else None
    return "".join(reversed(names)) or case.region.name


def _coordinate(value: float | None) -> float | None:
    return round(value, COORDINATE_DECIMALS) if value is not None else None


def status_of(case: Case) -> str:
    return "open" if is_open(case.state) else "closed"


def photo_url(request: HttpRequest, photo: CaseAttachment) -> str:
    return request.build_absolute_uri(
        reverse("open311:media", kwargs={"photo_id": photo.pk, "extension": photo.extension[1:]})
    )


def note_description(case: Case, event: CaseEvent, last_reply_seq: int | None) -> str:
    label = str(EVENT_LABELS.get(event.action, event.action))
    if event.action == Action.DISPATCH and event.unit_name:
        return f"{label}: {event.unit_name}"
    if event.action in EVENTS_WITH_PUBLIC_TEXT and event.reason:
        return f"{label}: {public_text(case, event.reason)}"
    if event.action == Action.REPLY and event.seq == last_reply_seq and case.reply:
        return f"{label}: {public_text(case, case.reply)}"
    return label


def _notes(case: Case, events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    replies = [e.seq for e in events if e.action == Action.REPLY]
    last_reply = replies[-1] if replies else None
    return [
        {
            "datetime": w3c(e.occurred_at),
            "description": note_description(case, e, last_reply),
            "type": "submitted" if e.action == "submit" else e.action,
        }
        for e in events
    ]


def _case_attributes(case: Case) -> list[dict[str, Any]]:
    kind, urgency = ATTRIBUTE_BY_CODE["kind"], ATTRIBUTE_BY_CODE["urgency"]
    return [
        {
            "code": "kind",
            "name": str(kind.description),
            "value": case.kind,
            "label": str(CaseKind(case.kind).label),
        },
        {
            "code": "urgency",
            "name": str(urgency.description),
            "value": case.urgency,
            "label": str(Urgency(case.urgency).label),
        },
    ]


def request_documents(
    request: HttpRequest, cases: Sequence[Case], *, extensions: bool = False
) -> list[dict[str, Any]]:
    """The public view of each case: redacted text, coarse place, no personal data."""
    ids = [c.pk for c in cases]
    names = queries.service_names(c.category_id for c in cases if c.category_id is not None)
    photos = queries.public_photos(ids)
    events = queries.public_events(ids) if extensions else {}
    documents = []
    for case in cases:
        closed = not is_open(case.state)
        media_urls = [photo_url(request, p) for p in photos.get(case.pk, [])]
        category = case.category
        document: dict[str, Any] = {
            "service_request_id": case.number,
            "status": status_of(case),
            "status_notes": str(STATE_LABELS[State(case.state)]),
            "service_name": (names.get(category.pk) or category.name) if category else None,
            "service_code": str(category.pk) if category else None,
            "description": public_text(case, case.description),
            "agency_responsible": case.unit.name if case.unit else None,
            "service_notice": None,
            "requested_datetime": w3c(case.submitted_at),
            "updated_datetime": w3c(
                case.closed_at if closed and case.closed_at else case.updated_at
            ),
            "expected_datetime": w3c(case.feedback_due_at or case.due_at),
            "address": _address(case),
            "address_id": case.region.code,
            "zipcode": None,
            "lat": _coordinate(case.latitude),
            "long": _coordinate(case.longitude),
            "media_url": media_urls[0] if media_urls else None,
        }
        if extensions:
            document["attributes"] = _case_attributes(case)
            document["extended_attributes"] = {
                "channel": case.channel,
                "state": case.state,
                "fms_status": FMS_STATUS[State(case.state)],
                "media_urls": media_urls,
            }
            document["notes"] = _notes(case, events.get(case.pk, []))
        documents.append(document)
    return documents


def update_documents(case_events: Sequence[CaseEvent]) -> list[dict[str, Any]]:
    """FixMyStreet's servicerequestupdates: one entry per public timeline event."""
    documents = []
    for event in case_events:
        case = event.case
        state = State(event.to_state or case.state)
        last_reply = event.seq if event.action == Action.REPLY and case.replied_at else None
        documents.append(
            {
                "update_id": str(event.pk),
                "service_request_id": case.number,
                "status": FMS_STATUS[state],
                "external_status_code": state.value,
                "updated_datetime": w3c(event.occurred_at),
                "description": note_description(case, event, last_reply),
                "media_url": None,
            }
        )
    return documents
