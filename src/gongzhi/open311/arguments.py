"""Reading Open311 arguments: query strings of the GET methods, the form of POST requests.

Every problem becomes an Open311 error a person can act on (what was wrong, what to send
instead). An empty argument means the same as a missing one (the spec's "optional argument").
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.http import HttpRequest, QueryDict
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from gongzhi.cases.services import MAX_UPLOAD_BYTES
from gongzhi.open311 import queries
from gongzhi.open311.choices import (
    ATTRIBUTE_BY_CODE,
    ATTRIBUTES,
    DEFAULT_RADIUS_M,
    MAX_DESCRIPTION,
    MAX_MEDIA_FILES,
    MAX_RADIUS_M,
    MAX_RESULTS,
    WINDOW_DAYS,
    Datatype,
)
from gongzhi.open311.errors import BadRequest, Invalid, Missing
from gongzhi.open311.queries import Region, RequestFilters
from gongzhi.open311.services import Answer, ServiceRequest
from gongzhi.territory.queries import region_at

WINDOW = dt.timedelta(days=WINDOW_DAYS)
_ATTRIBUTE = re.compile(r"^attribute\[([^\]]{1,50})\](\[\])?$")
_IDEMPOTENCY_KEY = re.compile(r"^[\x21-\x7e]{1,100}$")


def scrub(value: str) -> str:
    """Without NUL characters, which no database column takes (PostgreSQL refuses them)."""
    return value.replace("\x00", "")


def text(params: QueryDict, name: str) -> str:
    return scrub(params.get(name) or "").strip()


def is_number(raw: str, digits: int) -> bool:
    return raw.isascii() and raw.isdigit() and len(raw) <= digits


def jurisdiction(params: QueryDict) -> Region | None:
    """The city the request is about: ``jurisdiction_id`` (a top region's code), needed only
    when the server serves several cities."""
    roots = queries.jurisdictions()
    given = text(params, "jurisdiction_id")
    if given:
        match = next((r for r in roots if r.code == given), None)
        if match is None:
            raise Missing(
                _("jurisdiction_id %(given)s is not served here. Served: %(codes)s.")
                % {"given": given[:50], "codes": ", ".join(r.code for r in roots) or "-"}
            )
        return match
    if len(roots) > 1:
        raise BadRequest(
            _("jurisdiction_id was not provided: this server serves several cities (%(codes)s).")
            % {"codes": ", ".join(r.code for r in roots)}
        )
    return roots[0] if roots else None


def moment(params: QueryDict, name: str) -> dt.datetime | None:
    """A W3C/ISO 8601 date-time (a date alone means its midnight, in the city's time zone)."""
    raw = text(params, name)
    if not raw:
        return None
    problem = BadRequest(
        _(
            "%(name)s must be a date and time in ISO 8601 with a time zone, "
            "e.g. 2026-11-27T09:30:00+08:00 or 2026-11-27T01:30:00Z."
        )
        % {"name": name}
    )
    try:
        value = parse_datetime(raw)
        if value is None:
            day = parse_date(raw)
            if day is None:
                raise problem
            value = dt.datetime.combine(day, dt.time.min)
        if timezone.is_naive(value):
            value = timezone.make_aware(value)
        # In UTC from here on: an offset no database takes (PostgreSQL refuses beyond
        # ±15:59, Python allows ±23:59) reaches no query; out of range: an error now.
        value = value.astimezone(dt.UTC)
        # Leave room for window arithmetic around it.
        if not dt.datetime(2, 1, 1, tzinfo=dt.UTC) < value < dt.datetime(9998, 1, 1, tzinfo=dt.UTC):
            raise problem
    except (ValueError, OverflowError):
        raise problem from None
    return value


def window(
    params: QueryDict, first: str, last: str, *, default_to_recent: bool
) -> tuple[dt.datetime | None, dt.datetime | None]:
    """A time range of at most 90 days; the last 90 days when neither end is given."""
    start, end = moment(params, first), moment(params, last)
    if start is None and end is None:
        if not default_to_recent:
            return None, None
        end = timezone.now()
    if start is None:
        assert end is not None  # noqa: S101
        start = end - WINDOW
    elif end is None:
        end = start + WINDOW
    if start > end:
        raise BadRequest(
            _("%(first)s is after %(last)s: swap them.") % {"first": first, "last": last}
        )
    if end - start > WINDOW:
        raise BadRequest(
            _(
                "The range from %(first)s to %(last)s is longer than %(days)d days. Ask for "
                "at most %(days)d days at a time."
            )
            % {"first": first, "last": last, "days": WINDOW_DAYS}
        )
    return start, end


def number(params: QueryDict, name: str, low: float, high: float) -> float | None:
    raw = text(params, name)
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or not low <= value <= high:
        raise BadRequest(
            _("%(name)s must be a number from %(low)s to %(high)s.")
            % {"name": name, "low": f"{low:g}", "high": f"{high:g}"}
        )
    return value


def whole(params: QueryDict, name: str, default: int, high: int) -> int:
    raw = text(params, name)
    if not raw:
        return default
    if not is_number(raw, 9) or not 1 <= int(raw) <= high:
        raise BadRequest(
            _("%(name)s must be a whole number from 1 to %(high)d.") % {"name": name, "high": high}
        )
    return int(raw)


def point(params: QueryDict) -> tuple[float, float] | None:
    lat = number(params, "lat", -90, 90)
    lng = number(params, "long", -180, 180)
    if (lat is None) != (lng is None):
        raise BadRequest(_("Send lat and long together (WGS-84 degrees), or neither."))
    if lat is None or lng is None:
        return None
    return lat, lng


def listed(params: QueryDict, name: str) -> list[str] | None:
    raw = text(params, name)
    if not raw:
        return None
    return [part.strip() for part in raw.split(",") if part.strip()]


@dataclass(frozen=True)
class Page:
    number: int
    size: int

    @property
    def offset(self) -> int:
        return (self.number - 1) * self.size


def page(params: QueryDict) -> Page:
    return Page(
        whole(params, "page", 1, 1_000_000),
        whole(params, "page_size", MAX_RESULTS, MAX_RESULTS),
    )


def flag(params: QueryDict, name: str) -> bool:
    return text(params, name).lower() in {"true", "1", "yes"}


def request_filters(params: QueryDict) -> RequestFilters:
    """GET requests: service_request_id overrides everything else; otherwise the filters,
    within the last 90 days of requested_datetime unless a window is given."""
    numbers = listed(params, "service_request_id")
    if numbers:
        if len(numbers) > MAX_RESULTS:
            raise BadRequest(
                _("Ask for at most %(count)d service_request_id at a time.")
                % {"count": MAX_RESULTS}
            )
        return RequestFilters(numbers=[n[:20] for n in numbers])
    codes = listed(params, "service_code")
    statuses = listed(params, "status")
    if statuses is not None:
        wrong = sorted({s.lower() for s in statuses} - {"open", "closed"})
        if wrong:
            raise BadRequest(
                _("status must be open, closed or both (open,closed), not %(wrong)s.")
                % {"wrong": ", ".join(w[:20] for w in wrong)}
            )
    updated_from, updated_to = window(
        params, "updated_after", "updated_before", default_to_recent=False
    )
    # A change-set download (updated_after/updated_before) is not also cut to recent requests.
    start, end = window(params, "start_date", "end_date", default_to_recent=updated_from is None)
    box = None
    where = point(params)
    if where is not None:
        radius = number(params, "radius", 1, MAX_RADIUS_M) or DEFAULT_RADIUS_M
        lat, lng = where
        dlat = radius / 111_320
        dlng = radius / (111_320 * max(0.01, math.cos(math.radians(lat))))
        box = (lat - dlat, lng - dlng, lat + dlat, lng + dlng)
    elif text(params, "radius"):
        raise BadRequest(_("radius needs lat and long: the centre of the circle."))
    return RequestFilters(
        category_ids=[int(c) for c in codes if is_number(c, 18)] if codes else None,
        states=queries.states_for(s.lower() for s in statuses) if statuses else None,
        submitted_from=start,
        submitted_to=end,
        updated_from=updated_from,
        updated_to=updated_to,
        box=box,
    )


# --- POST requests ---------------------------------------------------------------------------


def idempotency_key(request: HttpRequest) -> str:
    raw = request.headers.get("Idempotency-Key", "").strip().strip('"')
    if raw and not _IDEMPOTENCY_KEY.match(raw):
        raise BadRequest(
            _("The Idempotency-Key header must be 1 to 100 visible ASCII characters, e.g. a UUID.")
        )
    return raw


def body_hash(request: HttpRequest) -> str:
    """SHA-256 over the form (without the key) and the uploaded files, order-independent."""
    fields = sorted((k, sorted(v)) for k, v in request.POST.lists() if k != "api_key")
    files = []
    for name in sorted(request.FILES):
        for upload in request.FILES.getlist(name):
            digest = hashlib.sha256()
            for chunk in upload.chunks():
                digest.update(chunk)
            upload.seek(0)
            files.append((name, digest.hexdigest()))
    canonical = json.dumps([fields, sorted(files)], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _answers(form: QueryDict) -> tuple[dict[str, Answer], list[str]]:
    given: dict[str, list[str]] = {}
    for key, values in form.lists():
        match = _ATTRIBUTE.match(key)
        if match is not None:
            given.setdefault(match.group(1), []).extend(
                scrub(v).strip() for v in values if scrub(v).strip()
            )
    answers: dict[str, Answer] = {}
    problems: list[str] = []
    for attribute in ATTRIBUTES:
        values = given.get(attribute.code, [])
        if not attribute.variable or not values:
            if attribute.required and attribute.variable:
                problems.append(
                    _("attribute[%(code)s] is required: %(question)s")
                    % {"code": attribute.code, "question": attribute.description}
                )
            continue
        problem = _check(attribute.code, values)
        if problem:
            problems.append(problem)
        elif attribute.datatype == Datatype.MULTIVALUELIST:
            answers[attribute.code] = list(dict.fromkeys(values))
        else:
            answers[attribute.code] = values[-1]
    return answers, problems


def _not_in_list(name: str, wrong: list[str], keys: frozenset[str]) -> str:
    return _("%(name)s: %(wrong)s is not one of %(keys)s.") % {
        "name": name,
        "wrong": ", ".join(w[:30] for w in wrong),
        "keys": ", ".join(sorted(keys)),
    }


def _check(code: str, values: list[str]) -> str:
    """What is wrong with the answer to one attribute ("" when nothing is)."""
    attribute = ATTRIBUTE_BY_CODE[code]
    name = f"attribute[{code}]"
    if attribute.datatype == Datatype.MULTIVALUELIST:
        wrong = [v for v in values if v not in attribute.keys]
        return _not_in_list(name, wrong, attribute.keys) if wrong else ""
    if len(set(values)) > 1:
        return _("%(name)s takes one value, not several.") % {"name": name}
    value = values[-1]
    if attribute.datatype == Datatype.SINGLEVALUELIST:
        return _not_in_list(name, [value], attribute.keys) if value not in attribute.keys else ""
    if attribute.datatype == Datatype.NUMBER:
        try:
            ok = math.isfinite(float(value))
        except ValueError:
            ok = False
        return "" if ok else _("%(name)s must be a number, e.g. 20.") % {"name": name}
    if attribute.datatype == Datatype.DATETIME:
        try:
            moment(as_query({"value": value}), "value")
        except BadRequest:
            return _(
                "%(name)s must be a date and time in ISO 8601, e.g. 2026-11-27T09:30:00+08:00."
            ) % {"name": name}
        return ""
    if attribute.max_length and len(value) > attribute.max_length:
        return _("%(name)s is longer than %(count)d characters.") % {
            "name": name,
            "count": attribute.max_length,
        }
    return ""


def _location(
    form: QueryDict, within: Region, problems: list[str]
) -> tuple[Region | None, float | None, float | None]:
    try:
        where = point(form)
    except BadRequest as error:
        problems.append(error.message)
        return None, None, None
    address_id = text(form, "address_id")
    address = text(form, "address_string")
    if where is not None:
        lat, lng = where
        region = region_at(lat, lng)
        if region is None or not region.path.startswith(within.path):
            problems.append(
                _(
                    "The point lat=%(lat)s, long=%(lng)s is outside %(city)s. Check the order "
                    "(lat is about 31, long about 119 here) and that it is WGS-84."
                )
                % {"lat": f"{lat:g}", "lng": f"{lng:g}", "city": within.name}
            )
            return None, None, None
        return region, lat, lng
    if address_id:
        region = queries.region_with_code(address_id[:15], within)
        if region is None:
            problems.append(
                _(
                    "address_id %(given)s is not a region code of %(city)s. Send the code of a "
                    "community or grid, or send lat and long, or address_string instead."
                )
                % {"given": address_id[:20], "city": within.name}
            )
        return region, None, None
    if address:
        # An address that names no region of the city still arrives: the city's command
        # centre reads it and dispatches it by hand.
        return queries.region_for_address(address, within) or within, None, None
    problems.append(_("Say where the problem is: lat and long, or address_string, or address_id."))
    return None, None, None


def service_request(request: HttpRequest, within: Region) -> ServiceRequest:
    """Every problem with the submission at once (several Open311 errors, all 400)."""
    form = request.POST
    code = text(form, "service_code")
    if not code:
        raise BadRequest(_("service_code was not provided. GET services.xml lists the codes."))
    service = queries.service_with_code(code)
    if service is None:
        raise Missing(
            _("There is no service with service_code %(code)s. GET services.xml lists the codes.")
            % {"code": code[:30]}
        )
    problems: list[str] = []
    region, lat, lng = _location(form, within, problems)
    description = scrub(form.get("description") or "").strip()
    if len(description) > MAX_DESCRIPTION:
        problems.append(
            _("description is %(count)d characters long; the limit is %(limit)d.")
            % {"count": len(description), "limit": MAX_DESCRIPTION}
        )
    answers, attribute_problems = _answers(form)
    problems += attribute_problems
    address = text(form, "address_string")
    if len(address) > 200:
        problems.append(_("address_string is longer than 200 characters."))
    media_url = text(form, "media_url")
    if media_url:
        try:
            URLValidator(schemes=["http", "https"])(media_url)
            if len(media_url) > 1000:
                raise ValidationError("too long")
        except ValidationError:
            problems.append(
                _("media_url must be an http or https URL of at most 1,000 characters.")
            )
    media = [*request.FILES.getlist("media"), *request.FILES.getlist("media[]")]
    if len(media) > MAX_MEDIA_FILES:
        problems.append(_("Send at most %(count)d photos in media.") % {"count": MAX_MEDIA_FILES})
    elif any((f.size or 0) > MAX_UPLOAD_BYTES for f in media):
        problems.append(_("A photo must be between 1 byte and 8 MB."))
    if problems or region is None:
        raise Invalid(problems or [_("Say where the problem is.")])
    return ServiceRequest(
        service=service,
        region=region,
        latitude=lat,
        longitude=lng,
        address=address,
        description=description,
        attributes=answers,
        first_name=text(form, "first_name")[:30],
        last_name=text(form, "last_name")[:30],
        phone=text(form, "phone")[:30],
        media=[f.read() for f in media],
        media_url=media_url,
    )


def as_query(values: Mapping[str, str]) -> QueryDict:
    query = QueryDict(mutable=True)
    for key, value in values.items():
        query[key] = value
    return query
