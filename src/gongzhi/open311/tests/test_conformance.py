"""Conformance with GeoReport v2 (shared/design/OPEN311.md), every endpoint in both formats.

Given the small demo city, when a client calls each method in XML and in JSON, then the
documents have the spec's roots, elements and types, and every error has the spec's format
and status (400, 403, 404).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from urllib.parse import quote

import pytest
from django.test import Client
from django.utils import timezone

from gongzhi.cases import services as case_services
from gongzhi.cases.choices import CaseKind, Channel
from gongzhi.cases.intake import Processed, process_queue
from gongzhi.cases.services import NewCase
from gongzhi.cases.tests.test_loop import GREENING, submit
from gongzhi.demo.testing import World
from gongzhi.open311.choices import ATTRIBUTES, Datatype
from gongzhi.open311.queries import ApiKey, Case, Category, services
from gongzhi.open311.tests.support import (
    BASE,
    FORMATS,
    at_grid_1,
    client_key,
    errors,
    greening_code,
    parse,
    post_request,
    rows,
    submitted,
    take_to_closed,
)


@pytest.fixture
def client() -> Client:
    """English errors, so that tests can name what they say (Chinese is tested apart)."""
    return Client(headers={"Accept-Language": "en"})


W3C = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(Z|[+-]\d\d:\d\d)$")
REQUEST_FIELDS = [
    "service_request_id",
    "status",
    "status_notes",
    "service_name",
    "service_code",
    "description",
    "agency_responsible",
    "service_notice",
    "requested_datetime",
    "updated_datetime",
    "expected_datetime",
    "address",
    "address_id",
    "zipcode",
    "lat",
    "long",
    "media_url",
]


# --- 2 Service discovery ---------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_discovery_lists_the_endpoint_in_both_formats(client: Client, world: World, fmt: str):
    response = client.get(f"{BASE}/discovery.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "discovery"
        assert [e.tag for e in body] == ["changeset", "contact", "key_service", "endpoints"]
        endpoint = body.find("endpoints/endpoint")
        assert endpoint is not None
        assert endpoint.findtext("specification") == "http://wiki.open311.org/GeoReport_v2"
        assert endpoint.findtext("url") == "http://testserver/open311/v2"
        assert endpoint.findtext("type") == "production"
        assert [f.text for f in endpoint.findall("formats/format")] == [
            "text/xml",
            "application/json",
        ]
        assert body.findtext("contact")
        assert body.findtext("key_service")
    else:
        assert set(body) == {"changeset", "contact", "key_service", "endpoints"}
        [endpoint] = body["endpoints"]
        assert endpoint == {
            "specification": "http://wiki.open311.org/GeoReport_v2",
            "url": "http://testserver/open311/v2",
            "changeset": body["changeset"],
            "type": "production",
            "formats": ["text/xml", "application/json"],
        }


# --- 3.1 GET services ------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_services_are_the_leaf_categories(client: Client, world: World, fmt: str):
    response = client.get(f"{BASE}/services.{fmt}")
    assert response.status_code == 200
    found = rows(response, fmt, "services", "service")
    leaves = Category.objects.filter(is_active=True, children__isnull=True)
    assert len(found) == leaves.count() > 400
    greening = next(s for s in found if s["service_code"] == greening_code())
    expected_metadata = True if fmt == "json" else "true"
    assert greening == {
        "service_code": greening_code(),
        "service_name": "园林绿化环卫",
        "description": "城乡建设 > 城市建设和市政管理 > 园林绿化环卫",
        "metadata": expected_metadata,
        "type": "realtime",
        "keywords": "城市建设和市政管理",
        "group": "城乡建设",
    }
    # Codes are strings and unique; names are unique (shared leaf names get their parent's).
    assert all(isinstance(s["service_code"], str) for s in found)
    assert len({s["service_code"] for s in found}) == len(found)
    assert len({s["service_name"] for s in found}) == len(found)


def test_an_inactive_category_is_no_service(client: Client, world: World):
    Category.objects.filter(path=GREENING).update(is_active=False)
    found = rows(client.get(f"{BASE}/services.json"), "json", "services", "service")
    assert greening_code() not in {s["service_code"] for s in found}
    assert client.get(f"{BASE}/services/{greening_code()}.json").status_code == 404


# --- 3.2 GET services/{code} -----------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_service_definition_has_attributes_of_every_datatype(
    client: Client, world: World, fmt: str
):
    response = client.get(f"{BASE}/services/{greening_code()}.{fmt}")
    assert response.status_code == 200
    body = parse(response, fmt)
    if fmt == "xml":
        assert body.tag == "service_definition"
        assert body.findtext("service_code") == greening_code()
        attributes = []
        for element in body.findall("attributes/attribute"):
            fields = [e.tag for e in element]
            assert fields[:7] == [
                "variable",
                "code",
                "datatype",
                "required",
                "datatype_description",
                "order",
                "description",
            ]
            values = [
                {"key": v.findtext("key"), "name": v.findtext("name")}
                for v in element.findall("values/value")
            ]
            attributes.append(
                {
                    "variable": element.findtext("variable") == "true",
                    "code": element.findtext("code"),
                    "datatype": element.findtext("datatype"),
                    "required": element.findtext("required") == "true",
                    "order": int(element.findtext("order") or 0),
                    "values": values,
                }
            )
    else:
        assert set(body) == {"service_code", "attributes"}
        assert body["service_code"] == greening_code()
        attributes = body["attributes"]
        for attribute in attributes:
            assert isinstance(attribute["variable"], bool)
            assert isinstance(attribute["required"], bool)
            assert isinstance(attribute["order"], int)
            attribute.setdefault("values", [])
    assert {a["datatype"] for a in attributes} == {d.value for d in Datatype}
    orders = [a["order"] for a in attributes]
    assert len(set(orders)) == len(orders)
    assert all(o > 0 for o in orders)
    assert [a["code"] for a in attributes] == [a.code for a in ATTRIBUTES]
    notice = next(a for a in attributes if a["code"] == "emergency_notice")
    assert notice["variable"] is False
    affects = next(a for a in attributes if a["code"] == "affects")
    assert affects["datatype"] == "multivaluelist"
    assert {v["key"] for v in affects["values"]} >= {"children", "traffic"}
    kind = next(a for a in attributes if a["code"] == "kind")
    assert {v["key"] for v in kind["values"]} == {
        "report",
        "hazard",
        "complaint",
        "help",
        "consultation",
        "suggestion",
    }
    for attribute in attributes:
        has_values = attribute["datatype"] in {"singlevaluelist", "multivaluelist"}
        assert bool(attribute["values"]) == has_values


@pytest.mark.parametrize("fmt", FORMATS)
@pytest.mark.parametrize("code", ["999999", "abc", "0"])
def test_an_unknown_service_code_is_404(client: Client, world: World, fmt: str, code: str):
    response = client.get(f"{BASE}/services/{code}.{fmt}")
    assert response.status_code == 404
    [(error_code, description)] = errors(response, fmt)
    assert error_code == 404
    assert "services.xml" in description


def test_a_category_with_children_is_no_service(client: Client, world: World):
    parent = Category.objects.get(path="城乡建设")
    assert client.get(f"{BASE}/services/{parent.pk}.json").status_code == 404


# --- 3.3 POST requests -----------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_returns_the_service_request_id(client: Client, world: World, fmt: str):
    key = client_key(world)
    response = post_request(
        client,
        key,
        fmt,
        service_code=greening_code(),
        description="垃圾没人清运",
        **at_grid_1(world),
    )
    assert response.status_code == 200
    [answer] = rows(response, fmt, "service_requests", "request")
    case = Case.objects.get(number=answer["service_request_id"])
    assert set(answer) == {"service_request_id", "service_notice", "account_id"}
    assert case.number in answer["service_notice"]
    assert answer["account_id"] is None
    assert (case.channel, case.state, case.category.path) == ("open311", "submitted", GREENING)


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_without_a_key_is_403(client: Client, world: World, fmt: str):
    before = Case.objects.count()
    response = post_request(client, None, fmt, service_code=greening_code(), **at_grid_1(world))
    assert response.status_code == 403
    [(code, description)] = errors(response, fmt)
    assert code == 403
    assert "api_key" in description
    assert Case.objects.count() == before


@pytest.mark.parametrize("raw", ["gz_nope_nope", "not-a-key", "gz_" + "a" * 12 + "_" + "b" * 40])
def test_post_with_a_wrong_key_is_403(client: Client, world: World, raw: str):
    before = Case.objects.count()
    response = post_request(client, raw, "xml", service_code=greening_code(), **at_grid_1(world))
    assert response.status_code == 403
    assert errors(response, "xml")[0][0] == 403
    assert Case.objects.count() == before


def test_post_with_a_revoked_key_is_403(client: Client, world: World):
    key = client_key(world)
    ApiKey.objects.filter(prefix=key.split("_")[1]).update(revoked_at=timezone.now())
    before = Case.objects.count()
    response = post_request(client, key, "json", service_code=greening_code(), **at_grid_1(world))
    assert response.status_code == 403
    assert Case.objects.count() == before


def test_a_personal_token_is_not_an_open311_key(client: Client, world: World):
    from gongzhi.accounts.services import issue_personal_token
    from gongzhi.demo.build import DEMO_PASSWORD

    token = issue_personal_token(None, username="resident", password=DEMO_PASSWORD).token
    response = post_request(client, token, "json", service_code=greening_code(), **at_grid_1(world))
    assert response.status_code == 403


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_without_a_service_code_is_400(client: Client, world: World, fmt: str):
    response = post_request(client, client_key(world), fmt, **at_grid_1(world))
    assert response.status_code == 400
    [(code, description)] = errors(response, fmt)
    assert code == 400
    assert "service_code" in description


@pytest.mark.parametrize("fmt", FORMATS)
def test_post_with_an_unknown_service_code_is_404(client: Client, world: World, fmt: str):
    response = post_request(
        client, client_key(world), fmt, service_code="999999", **at_grid_1(world)
    )
    assert response.status_code == 404
    assert errors(response, fmt)[0][0] == 404


def test_post_with_an_unknown_jurisdiction_is_404(client: Client, world: World):
    response = post_request(
        client,
        client_key(world),
        "json",
        jurisdiction_id="sfgov.org",
        service_code=greening_code(),
        **at_grid_1(world),
    )
    assert response.status_code == 404
    assert "990100000000" in errors(response, "json")[0][1]


def test_post_with_our_jurisdiction_is_accepted(client: Client, world: World):
    response = post_request(
        client,
        client_key(world),
        "json",
        jurisdiction_id=world.city.code,
        service_code=greening_code(),
        **at_grid_1(world),
    )
    assert response.status_code == 200


def test_post_reports_every_problem_at_once(client: Client, world: World):
    before = Case.objects.count()
    response = post_request(
        client,
        client_key(world),
        "json",
        service_code=greening_code(),
        lat="31.2",
        description="长" * 4001,
        **{"attribute[urgency]": "whenever", "attribute[people_affected]": "many"},
    )
    assert response.status_code == 400
    found = errors(response, "json")
    assert [code for code, _text in found] == [400, 400, 400, 400]
    text = " ".join(d for _c, d in found)
    for fragment in ["lat and long", "4001", "attribute[urgency]", "attribute[people_affected]"]:
        assert fragment in text
    assert Case.objects.count() == before


# --- 3.4 GET tokens/{token} ------------------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_batch_mode_returns_a_token_that_resolves(client: Client, world: World, settings, fmt):
    settings.GONGZHI_OPEN311_SERVICE_TYPE = "batch"
    services_list = rows(client.get(f"{BASE}/services.json"), "json", "services", "service")
    assert {s["type"] for s in services_list} == {"batch"}
    response = post_request(
        client, client_key(world), fmt, service_code=greening_code(), **at_grid_1(world)
    )
    [answer] = rows(response, fmt, "service_requests", "request")
    assert set(answer) == {"token"}
    token = answer["token"]
    # Accepted into the intake queue: the token answers without an id until the case exists.
    response = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert response.status_code == 200
    [waiting] = rows(response, fmt, "service_requests", "request")
    assert waiting == {"service_request_id": None, "token": token}
    assert not Case.objects.filter(channel="open311").exists()
    assert process_queue() == Processed(registered=1)
    response = client.get(f"{BASE}/tokens/{token}.{fmt}")
    assert response.status_code == 200
    [found] = rows(response, fmt, "service_requests", "request")
    case = Case.objects.get(channel="open311")
    assert found == {"service_request_id": case.number, "token": token}


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_token_is_404(client: Client, world: World, fmt: str):
    response = client.get(f"{BASE}/tokens/no-such-token.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt)[0][0] == 404


# --- 3.5 GET requests ------------------------------------------------------------------------


@pytest.fixture
def some_cases(client: Client, world: World) -> dict[str, Case]:
    key = client_key(world)
    fresh = submitted(client, world, key, description="路边垃圾桶满了")
    closed = take_to_closed(world, submit(world))
    old = case_services.submit_case(
        NewCase(
            title="旧诉求",
            description="一百天前的事",
            channel=Channel.WEB,
            kind=CaseKind.REPORT,
            region=world.grid_1,
            category=Category.objects.get(path=GREENING),
        ),
        actor=world.persona("resident"),
        submitted_at=timezone.now() - dt.timedelta(days=100),
    )
    return {"fresh": fresh, "closed": closed, "old": old}


@pytest.mark.parametrize("fmt", FORMATS)
def test_requests_have_the_spec_fields(client: Client, some_cases, fmt: str):
    response = client.get(f"{BASE}/requests.{fmt}")
    assert response.status_code == 200
    found = rows(response, fmt, "service_requests", "request")
    numbers = [r["service_request_id"] for r in found]
    # The last 90 days by default, newest first.
    assert numbers == [some_cases["closed"].number, some_cases["fresh"].number]
    for row in found:
        assert list(row) == REQUEST_FIELDS
        assert row["status"] in {"open", "closed"}
        assert W3C.match(row["requested_datetime"])
        assert W3C.match(row["updated_datetime"])
    closed = found[0]
    case = some_cases["closed"]
    assert closed["status"] == "closed"
    assert closed["status_notes"] == "Closed"
    assert closed["agency_responsible"] == "春山街道办事处"
    assert closed["service_code"] == greening_code()
    assert closed["service_name"] == "园林绿化环卫"
    assert closed["updated_datetime"] == timezone.localtime(case.closed_at).isoformat(
        timespec="seconds"
    )
    fresh = found[1]
    assert fresh["status"] == "open"
    assert fresh["agency_responsible"] is None
    assert W3C.match(fresh["expected_datetime"])
    assert fresh["address"] == "明湖区春山街道华东湾社区"
    if fmt == "json":
        assert isinstance(fresh["lat"], float)
        assert isinstance(fresh["service_request_id"], str)


@pytest.mark.parametrize("fmt", FORMATS)
def test_one_request_by_id(client: Client, some_cases, fmt: str):
    number = some_cases["fresh"].number
    response = client.get(f"{BASE}/requests/{number}.{fmt}")
    assert response.status_code == 200
    [found] = rows(response, fmt, "service_requests", "request")
    assert found["service_request_id"] == number
    assert list(found) == REQUEST_FIELDS


@pytest.mark.parametrize("fmt", FORMATS)
def test_an_unknown_request_is_404(client: Client, world: World, fmt: str):
    response = client.get(f"{BASE}/requests/20000101-00001.{fmt}")
    assert response.status_code == 404
    assert errors(response, fmt)[0][0] == 404


def ids(client: Client, query: str) -> list[str]:
    response = client.get(f"{BASE}/requests.json?{query}")
    assert response.status_code == 200, response.content
    return [r["service_request_id"] for r in rows(response, "json", "", "")]


def test_service_request_id_overrides_every_other_argument(client: Client, some_cases):
    old, fresh = some_cases["old"].number, some_cases["fresh"].number
    query = f"service_request_id={old},{fresh}&status=closed&start_date=2020-01-01T00:00:00Z"
    assert ids(client, query) == [fresh, old]


def test_filters_by_service_code_and_status(client: Client, some_cases):
    closed, fresh = some_cases["closed"].number, some_cases["fresh"].number
    assert ids(client, "status=open") == [fresh]
    assert ids(client, "status=closed") == [closed]
    assert ids(client, "status=open,closed") == [closed, fresh]
    assert ids(client, f"service_code={greening_code()}") == [closed, fresh]
    assert ids(client, "service_code=1,2,x") == []


def test_start_and_end_date_filter_requested_datetime(client: Client, some_cases):
    old = some_cases["old"]
    start = (old.submitted_at - dt.timedelta(days=1)).isoformat()
    end = (old.submitted_at + dt.timedelta(days=1)).isoformat()
    query = f"start_date={start.replace('+', '%2B')}&end_date={end.replace('+', '%2B')}"
    assert ids(client, query) == [old.number]
    # A start date alone: the 90 days from then.
    assert ids(client, f"start_date={start.replace('+', '%2B')}") == [old.number]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("start_date=2026-01-01T00:00:00Z&end_date=2026-06-01T00:00:00Z", "90"),
        ("start_date=2026-06-01T00:00:00Z&end_date=2026-01-01T00:00:00Z", "swap"),
        ("start_date=yesterday", "ISO 8601"),
        ("status=pending", "open, closed"),
        ("lat=31.3", "lat and long"),
        ("lat=91&long=118", "lat"),
        ("radius=100", "radius"),
        ("page=0", "page"),
        ("page_size=1001", "page_size"),
        ("updated_after=2026-13-01", "updated_after"),
    ],
)
@pytest.mark.parametrize("fmt", FORMATS)
def test_wrong_arguments_are_400(client: Client, world: World, query, fragment, fmt):
    response = client.get(f"{BASE}/requests.{fmt}?{query}")
    assert response.status_code == 400
    [(code, description)] = errors(response, fmt)
    assert code == 400
    assert fragment in description


def test_an_empty_argument_is_the_same_as_none(client: Client, some_cases):
    everything = ids(client, "")
    empty = "status=&service_code=&start_date=&end_date=&service_request_id=&lat=&long="
    assert ids(client, empty + "&page=&page_size=&extensions=&jurisdiction_id=") == everything


def test_at_most_1000_results_then_pages(client: Client, world: World, some_cases):
    assert ids(client, "page_size=1") == [some_cases["closed"].number]
    assert ids(client, "page_size=1&page=2") == [some_cases["fresh"].number]
    assert ids(client, "page_size=1&page=3") == []
    assert ids(client, "page_size=1000") == ids(client, "")


def test_updated_after_and_before_download_changes(client: Client, some_cases):
    closed, fresh = some_cases["closed"], some_cases["fresh"]
    assert fresh.updated_at < closed.updated_at
    after = closed.updated_at.isoformat().replace("+", "%2B")
    assert ids(client, f"updated_after={after}") == [closed.number]
    before = (closed.updated_at - dt.timedelta(microseconds=1)).isoformat().replace("+", "%2B")
    assert ids(client, f"updated_before={before}") == [fresh.number]


def test_a_point_and_radius_find_nearby_open_requests(client: Client, world: World, some_cases):
    fresh = some_cases["fresh"]
    near = f"lat={world.grid_1.centre_lat}&long={world.grid_1.centre_lng}"
    assert ids(client, f"{near}&radius=200&status=open") == [fresh.number]
    far = f"lat={world.grid_1.centre_lat + 0.05}&long={world.grid_1.centre_lng}"
    assert ids(client, f"{far}&radius=200") == []
    assert ids(client, f"{far}") == []  # 750 m by default


@pytest.mark.parametrize("fmt", FORMATS)
def test_extensions_add_the_public_history(client: Client, world: World, some_cases, fmt):
    number = some_cases["closed"].number
    response = client.get(f"{BASE}/requests/{number}.{fmt}?extensions=true")
    body = parse(response, fmt)
    if fmt == "json":
        [request] = body
        notes = request["notes"]
        attributes = request["attributes"]
        extended = request["extended_attributes"]
    else:
        request = body.find("request")
        notes = [{n.tag: n.text for n in note} for note in request.findall("notes/note")]
        attributes = [{a.tag: a.text for a in x} for x in request.findall("attributes/attribute")]
        extended = {e.tag: e.text for e in request.find("extended_attributes")}
    assert [n["type"] for n in notes] == [
        "submitted",
        "register",
        "dispatch",
        "sign_for",
        "reply",
        "verify",
        "close",
    ]
    assert all(W3C.match(n["datetime"]) for n in notes)
    assert notes[2]["description"].endswith("春山街道办事处")
    reply = notes[4]["description"]
    assert "138****8000" in reply
    assert "13800138000" not in reply
    assert "林小雨" not in reply
    assert [a["code"] for a in attributes] == ["kind", "urgency"]
    assert extended["channel"] == "web"
    assert extended["state"] == "closed"


# --- Errors ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "expected"),
    [("en", "service_code was not provided"), ("zh-CN,zh;q=0.9", "未提供 service_code")],
)
def test_errors_speak_the_clients_language(client: Client, world: World, language, expected):
    response = post_request(
        client, client_key(world), "json", headers={"Accept-Language": language}, lat="31.3"
    )
    assert response.status_code == 400
    assert expected in errors(response, "json")[0][1]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_wrong_method_is_400(client: Client, world: World, fmt: str):
    response = client.delete(f"{BASE}/requests.{fmt}")
    assert response.status_code == 400
    assert errors(response, fmt) == [(405, errors(response, fmt)[0][1])]
    assert client.post(f"{BASE}/services.{fmt}").status_code == 400


@pytest.mark.parametrize(("path", "fmt"), [("nothing.json", "json"), ("requests", "xml")])
def test_an_unknown_resource_is_an_open311_404(client: Client, world: World, path, fmt):
    response = client.get(f"{BASE}/{path}")
    assert response.status_code == 404
    assert errors(response, fmt)[0][0] == 404


def test_head_is_get_without_a_body(client: Client, world: World):
    response = client.head(f"{BASE}/services.xml")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/xml; charset=utf-8"


def test_the_openapi_document_describes_the_routes(client: Client, world: World):
    response = client.get(f"{BASE}/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert set(paths) == {
        "/discovery.{format}",
        "/services.{format}",
        "/services/{service_code}.{format}",
        "/requests.{format}",
        "/requests/{service_request_id}.{format}",
        "/tokens/{token}.{format}",
        "/servicerequestupdates.{format}",
    }
    assert len(services()) > 400


# --- FixMyStreet: servicerequestupdates ------------------------------------------------------


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_updates_feed_lists_public_steps(client: Client, world: World, some_cases, fmt):
    closed = some_cases["closed"]
    fresh = some_cases["fresh"]
    case_services.supervise_case(fresh, actor=world.persona("district_leader"), note="内部督办意见")
    response = client.get(f"{BASE}/servicerequestupdates.{fmt}")
    assert response.status_code == 200
    found = rows(response, fmt, "service_request_updates", "request_update")
    mine = [u for u in found if u["service_request_id"] == closed.number]
    assert [u["external_status_code"] for u in mine] == [
        "submitted",
        "registered",
        "dispatched",
        "in_progress",
        "replied",
        "verified",
        "closed",
    ]
    assert [u["status"] for u in mine] == [
        "OPEN",
        "OPEN",
        "INVESTIGATING",
        "IN_PROGRESS",
        "IN_PROGRESS",
        "FIXED",
        "CLOSED",
    ]
    for update in found:
        assert list(update) == [
            "update_id",
            "service_request_id",
            "status",
            "external_status_code",
            "updated_datetime",
            "description",
            "media_url",
        ]
        assert W3C.match(update["updated_datetime"])
    assert len({u["update_id"] for u in found}) == len(found)
    assert "内部督办意见" not in response.content.decode("utf-8")
    # A window before anything happened is empty.
    empty = client.get(f"{BASE}/servicerequestupdates.{fmt}?end_date=2020-01-01T00:00:00Z")
    assert rows(empty, fmt, "service_request_updates", "request_update") == []


def test_the_updates_feed_takes_at_most_90_days(client: Client, world: World):
    response = client.get(
        f"{BASE}/servicerequestupdates.json?start_date=2026-01-01&end_date=2026-05-01"
    )
    assert response.status_code == 400
    assert "90" in errors(response, "json")[0][1]


@pytest.mark.parametrize("offset", ["-18:16", "+23:59", "+15:59"])
def test_any_offset_python_reads_is_no_server_error(client: Client, world: World, offset: str):
    """PostgreSQL refuses offsets beyond ±15:59 (found by schemathesis): times are in UTC
    before any query."""
    end = quote(f"2026-11-27T09:30:00{offset}")
    response = client.get(f"{BASE}/servicerequestupdates.json?end_date={end}")
    assert response.status_code == 200
    assert json.loads(response.content) == []


def test_nul_characters_are_no_server_error(client: Client, world: World):
    """PostgreSQL refuses NUL in text: every argument is scrubbed of it first."""
    key = client_key(world)
    assert client.get(f"{BASE}/requests/2026%00.json").status_code == 404
    assert client.get(f"{BASE}/tokens/a%00b.json").status_code == 404
    assert client.get(f"{BASE}/services/1%00.json").status_code == 404
    query = "service_request_id=%00&service_code=%00&jurisdiction_id=%00"
    assert client.get(f"{BASE}/requests.json?{query}").status_code == 200
    assert post_request(client, "gz_a\x00_b", service_code=greening_code()).status_code == 403
    response = post_request(
        client,
        key,
        service_code=greening_code(),
        description="路灯\x00不亮",
        address_string="华东湾\x00社区",
        **{"attribute[title]": "灯\x00"},
    )
    assert response.status_code == 200
    case = Case.objects.get(channel="open311")
    assert (case.title, case.description) == ("灯", "路灯不亮")


@pytest.mark.parametrize("value", ["²", "１２", "9" * 5000])
def test_odd_digits_are_400_not_500(client: Client, world: World, value: str):
    assert client.get(f"{BASE}/requests.json?page={value}").status_code == 400
    assert client.get(f"{BASE}/requests.json?service_code={value}").status_code == 200
    assert client.get(f"{BASE}/services/{value}.json").status_code == 404


def test_the_query_count_does_not_grow_with_the_page(
    client: Client, world: World, django_assert_max_num_queries
):
    key = client_key(world)
    submitted(client, world, key)
    take_to_closed(world, submit(world))

    def count() -> int:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            response = client.get(f"{BASE}/requests.json?extensions=true")
        assert response.status_code == 200
        return len(captured)

    few = count()
    for _ in range(4):
        submitted(client, world, key)
        take_to_closed(world, submit(world))
    assert count() == few
    with django_assert_max_num_queries(8):
        client.get(f"{BASE}/requests.xml?extensions=true")
