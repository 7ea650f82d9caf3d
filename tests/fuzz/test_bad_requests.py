"""Bad input, case by case, over the JSON API, Open311 and the web pages: oversized bodies,
wrong content types, broken UTF-8, NUL bytes, deeply nested JSON, huge integers and SQL
metacharacters. Each answer is a clear 4xx (JSON ``code`` and ``message`` under /api/, the
Open311 error document under /open311/, a page with the message elsewhere) and nothing was
saved; searches treat metacharacters as the text they are.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation

from gongzhi.accounts import signins
from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases.models import Case, CaseAttachment
from gongzhi.cases.tests.test_loop import submit
from gongzhi.core.models import AuditEvent
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World, client_for
from gongzhi.open311.tests.support import client_key, errors, greening_code

TOO_BIG = 3 * 1024 * 1024  # over DATA_UPLOAD_MAX_MEMORY_SIZE (Django's 2.5 MB)


@pytest.fixture(autouse=True)
def _no_rate_limits(settings: Any) -> Any:
    settings.GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (1_000_000, 60)
    settings.GONGZHI_OPEN311_RATE_LIMIT_KEY = (1_000_000, 60)
    cache.clear()
    yield
    cache.clear()


def api(persona: str = "dispatcher") -> Client:
    token = issue_personal_token(None, username=persona, password=DEMO_PASSWORD).token
    return Client(HTTP_AUTHORIZATION=f"Bearer {token}", raise_request_exception=False)


def web(persona: str = "resident") -> Client:
    client = client_for(persona)
    client.raise_request_exception = False
    return client


def api_error(response: Any, status: int, code: str) -> dict[str, Any]:
    """A clear API error: the status, JSON, the code, a message a person can act on."""
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    assert isinstance(body["message"], str)
    assert body["message"].strip()
    return body


def page_error(response: Any, status: int, message: str) -> None:
    """A clear web error: the status and a page that says what went wrong."""
    assert response.status_code == status
    assert response["Content-Type"].startswith("text/html")
    assert message in response.content.decode()


def saved() -> tuple[int, int, int]:
    """Cases, photos and audit events other than sign-ins (the clients sign in on purpose)."""
    audit = AuditEvent.objects.exclude(subject_type__in=signins.SUBJECT_TYPES)
    return Case.objects.count(), CaseAttachment.objects.count(), audit.count()


def new_case_json(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "title": "路灯不亮",
        "description": "小区北门路灯连续一周不亮。",
        "channel": "web",
        "latitude": world.grid_1.centre_lat,
        "longitude": world.grid_1.centre_lng,
        **fields,
    }


def new_case_form(world: World, **fields: Any) -> dict[str, Any]:
    return {
        "title": "路灯不亮",
        "description": "小区北门路灯连续一周不亮。",
        "kind": "report",
        "latitude": str(world.grid_1.centre_lat),
        "longitude": str(world.grid_1.centre_lng),
        **fields,
    }


# --- Oversized bodies ----------------------------------------------------------------------------


def test_an_oversized_json_body_is_413(world: World) -> None:
    before = saved()
    body = json.dumps(new_case_json(world, description="长" * TOO_BIG))
    response = api().post("/api/v1/cases", body, content_type="application/json")
    error = api_error(response, 413, "request_too_large")
    assert "2.5" in error["message"]
    assert saved() == before


def test_an_oversized_form_is_a_readable_413_page(world: World) -> None:
    before = saved()
    response = web().post(
        "/cases/new/",
        "title=x&description=" + "a" * TOO_BIG,
        content_type="application/x-www-form-urlencoded",
    )
    page_error(response, 413, "request_too_large")
    assert "2.5" in response.content.decode()
    assert saved() == before


def test_an_oversized_multipart_form_is_413_too(world: World) -> None:
    before = saved()
    response = web().post("/cases/new/", new_case_form(world, description="a" * TOO_BIG))
    page_error(response, 413, "request_too_large")
    assert saved() == before


def test_too_many_fields_is_a_readable_400_page(world: World) -> None:
    response = web().post(
        "/cases/new/",
        "&".join(f"f{i}=1" for i in range(1200)),
        content_type="application/x-www-form-urlencoded",
    )
    page_error(response, 400, "too_many_fields")


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_an_oversized_open311_request_answers_in_open311(world: World, fmt: str) -> None:
    key = client_key(world)
    before = saved()
    response = Client(raise_request_exception=False).post(
        f"/open311/v2/requests.{fmt}",
        {
            "api_key": key,
            "service_code": greening_code(),
            "description": "a" * TOO_BIG,
        },
    )
    assert response.status_code == 400
    [(code, description)] = errors(response, fmt)
    assert code == 413
    assert "2.5" in description
    assert saved() == before


def test_an_oversized_photo_is_refused_with_a_message(world: World, settings: Any, tmp_path: Any):
    settings.MEDIA_ROOT = tmp_path
    case = submit(world)
    before = saved()
    photo = SimpleUploadedFile("big.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * (9 * 1024 * 1024))
    response = api("resident").post(f"/api/v1/cases/{case.pk}/attachments", {"file": photo})
    api_error(response, 400, "invalid_case")
    photo.seek(0)
    response = web().post("/cases/new/", new_case_form(world, photos=photo))
    assert response.status_code == 400
    assert "8 MB" in response.content.decode()
    assert saved() == before


# --- Wrong content types, broken encodings -------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("application/x-www-form-urlencoded", "title=x&description=y"),
        ("text/xml", "<case><title>x</title></case>"),
        ("text/plain", "just words"),
        (
            "multipart/form-data; boundary=zz",
            "--zz\r\nContent-Disposition: form-data\r\n\r\n--zz--",
        ),
    ],
)
def test_a_body_that_is_not_json_is_415(world: World, content_type: str, body: str) -> None:
    before = saved()
    response = api().post("/api/v1/cases", body, content_type=content_type)
    api_error(response, 415, "unsupported_media_type")
    assert saved() == before


@pytest.mark.parametrize(
    "body",
    [
        b'{"title": "\xff\xfe", "description": "x"}',  # not UTF-8
        b'{"title": "x", "description": "y"',  # cut short
        b'{"title": "x", "latitude": NaN}',  # not JSON
        b"[" * 100_000 + b"]" * 100_000,  # nested past Python's recursion limit
        b'{"title": ' + b"9" * 5000 + b"}",  # an integer Python will not parse
    ],
    ids=["not utf-8", "cut short", "NaN", "deep nesting", "5000 digits"],
)
def test_json_that_cannot_be_read_is_400(world: World, body: bytes) -> None:
    before = saved()
    response = api().post("/api/v1/cases", body, content_type="application/json")
    api_error(response, 400, "invalid_input")
    assert saved() == before


def test_json_nested_deeper_than_any_schema_is_400(world: World) -> None:
    nested: Any = "x"
    for _ in range(40):
        nested = {"a": nested}
    response = api().post(
        "/api/v1/cases", json.dumps(new_case_json(world, address=nested)), "application/json"
    )
    body = api_error(response, 400, "invalid_input")
    assert "32" in body["message"]


def test_broken_utf8_in_a_form_is_read_as_replacement_characters(world: World) -> None:
    """Django decodes form bodies with errors="replace": no error, and nothing worse than
    U+FFFD is stored."""
    response = web().post(
        "/cases/new/",
        b"title=%FF%FE&description=\xff\xfe&kind=help"
        + f"&latitude={world.grid_1.centre_lat}&longitude={world.grid_1.centre_lng}".encode(),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 302
    case = Case.objects.latest("submitted_at")
    assert case.title == "\ufffd\ufffd"
    assert len(case.description) == 2  # raw bytes: two characters, whatever Django made of them


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/api/v1/cases?q=%FF%FE", 200),
        ("/api/v1/regions?q=%ED%A0%80", 200),
        ("/api/v1/evaluation/figures?from=%FF", 400),
    ],
)
def test_broken_utf8_in_an_api_query_string(world: World, url: str, status: int) -> None:
    response = api().get(url)
    assert response.status_code == status
    if status == 400:
        api_error(response, status, "invalid_input")


@pytest.mark.parametrize(
    ("url", "status"),
    [
        ("/units/?q=%FF", 200),
        ("/evaluation/rectifications/?state=%FF", 200),
        ("/cases/mine/?code=%FF%FE", 404),  # no case has that tracking code: said on the page
    ],
)
def test_broken_utf8_in_a_page_query_string(world: World, url: str, status: int) -> None:
    response = web("dispatcher").get(url)
    assert response.status_code == status
    if status == 404:
        assert 'class="errorlist"' in response.content.decode()


def test_broken_utf8_in_an_open311_query_string(world: World) -> None:
    response = Client().get("/open311/v2/requests.json?status=%FF")
    assert response.status_code == 400
    [(code, description)] = errors(response, "json")
    assert code == 400
    assert "status" in description


# --- NUL bytes -----------------------------------------------------------------------------------


def test_nul_in_a_json_body_is_422_naming_the_field(world: World) -> None:
    before = saved()
    response = api().post(
        "/api/v1/cases", json.dumps(new_case_json(world, title="a\x00b")), "application/json"
    )
    body = api_error(response, 422, "invalid_input")
    [problem] = body["details"]["fields"]
    assert problem["field"] == "title"
    assert problem["message"]
    assert saved() == before


@pytest.mark.parametrize(
    "url", ["/api/v1/cases?q=%00", "/api/v1/units?q=a%00b", "/api/v1/regions?q=%00&limit=5"]
)
def test_nul_in_an_api_query_string_is_422(world: World, url: str) -> None:
    body = api_error(api().get(url), 422, "invalid_input")
    assert body["details"]["fields"][0]["field"].startswith("query.")


def test_nul_in_an_api_path_or_token_is_an_ordinary_miss(world: World) -> None:
    api_error(api("resident").get("/api/v1/cases/track/AB%00CD"), 404, "not_found")
    anonymous = Client(HTTP_AUTHORIZATION="Bearer gz_ab\x00cd_ef", raise_request_exception=False)
    api_error(anonymous.get("/api/v1/cases"), 401, "not_authenticated")


def test_nul_in_a_web_form_is_a_form_error(world: World) -> None:
    before = saved()
    response = web().post("/cases/new/", new_case_form(world, title="a\x00b"))
    assert response.status_code == 400
    assert 'id="id_title_error"' in response.content.decode()
    assert saved() == before


def test_nul_in_a_page_search_finds_nothing_more(world: World) -> None:
    response = web("dispatcher").get("/units/?q=%E5%8D%8E%00")  # 华 + NUL
    assert response.status_code == 200


def test_nul_in_open311_input_is_no_server_error(world: World) -> None:
    client = Client(raise_request_exception=False)
    response = client.post(
        "/open311/v2/requests.json",
        {
            "api_key": client_key(world),
            "service_code": greening_code(),
            "lat": world.grid_1.centre_lat,
            "long": world.grid_1.centre_lng,
            "description": "a\x00b",
        },
    )
    assert response.status_code in (200, 201, 400)
    for url in [
        "/open311/v2/requests.json?service_request_id=%00",
        "/open311/v2/requests/a%00.json",
        "/open311/v2/tokens/%00.json",
        "/open311/v2/services.json?jurisdiction_id=%00",
    ]:
        assert client.get(url).status_code in (200, 400, 404), url


# --- Huge integers -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/cases?unit_id=" + "9" * 30,
        "/api/v1/cases?category_id=-" + "9" * 30,
        "/api/v1/cases?offset=" + "9" * 5000,
        "/api/v1/regions?parent_id=" + "9" * 20,
        "/api/v1/units?region_id=" + "9" * 30,
        "/api/v1/evaluation/rankings?region=" + "9" * 30,
    ],
)
def test_an_integer_past_64_bits_in_a_query_is_422(world: World, url: str) -> None:
    api_error(api().get(url), 422, "invalid_input")


def test_an_integer_past_64_bits_in_a_body_is_422(world: World) -> None:
    response = api().post(
        "/api/v1/cases", json.dumps(new_case_json(world, category_id=10**30)), "application/json"
    )
    body = api_error(response, 422, "invalid_input")
    assert body["details"]["fields"][0]["field"] == "category_id"


@pytest.mark.parametrize(
    "url",
    [
        f"/api/v1/cases?offset={2**63 - 1}",
        f"/api/v1/regions?offset={2**63 - 1}&limit=1000",
        f"/api/v1/units?offset={2**63 - 2}",
    ],
)
def test_the_largest_offset_is_an_empty_page(world: World, url: str) -> None:
    response = api().get(url)
    assert response.status_code == 200
    assert response.json()["items"] == []


@pytest.mark.parametrize(
    "url",
    [
        "/regions/" + "9" * 30 + "/",
        "/evaluation/rankings/" + "9" * 30 + "/",
        "/cases/" + "f" * 32 + "/",
    ],
)
def test_a_huge_id_in_a_path_is_not_found(world: World, url: str) -> None:
    response = web("dispatcher").get(url)
    assert response.status_code == 404
    assert re.search(r"<h1>[^<]+</h1>\s*<p>[^<\s][^<]*</p>", response.content.decode())


def test_a_huge_id_in_an_api_path_is_not_found(world: World) -> None:
    api_error(api().get("/api/v1/regions/" + "9" * 30), 404, "not_found")
    api_error(api().get("/api/v1/evaluation/rankings/" + "9" * 5000), 422, "invalid_input")


@pytest.mark.parametrize("system", ["9" * 30, "²", "١٢", "-1", "1e5"])
def test_an_odd_number_in_a_page_filter_is_ignored(world: World, system: str) -> None:
    response = web("assessor").get("/evaluation/rectifications/", {"system": system})
    assert response.status_code == 200


def test_a_region_boundary_nested_too_deeply_is_a_form_error(world: World) -> None:
    before = world.grid_1.boundary
    response = web("city_admin").post(
        f"/regions/{world.grid_1.pk}/edit/",
        {"name": "网格", "boundary": "[" * 100_000 + "]" * 100_000},
    )
    assert response.status_code == 200
    assert 'class="errorlist"' in response.content.decode()
    world.grid_1.refresh_from_db()
    assert world.grid_1.boundary == before


# --- Unknown paths and methods under /api/ -------------------------------------------------------


def test_an_unknown_api_path_is_404_in_json(world: World) -> None:
    api_error(Client().get("/api/v1/no-such-thing"), 404, "not_found")


def test_a_method_an_endpoint_does_not_offer_is_405_in_json(world: World) -> None:
    response = api().put("/api/v1/cases", "{}", content_type="application/json")
    body = api_error(response, 405, "method_not_allowed")
    assert sorted(body["details"]["allowed"]) == ["GET", "POST"]
    assert response["Allow"] == ", ".join(body["details"]["allowed"])


# --- SQL metacharacters: searches do not widen ---------------------------------------------------

TITLES = {
    "percent": "完成率100%的小区",
    "underscore": "编号A_1的井盖",
    "backslash": "路径C:\\temp的告示",
    "quote": "居民说' OR 1=1 --也没用",
    "plain": "普通的路灯问题",
}


@pytest.fixture
def titled(world: World) -> dict[str, str]:
    numbers = {}
    for key, title in TITLES.items():
        case = submit(world)
        Case.objects.filter(pk=case.pk).update(title=title)
        numbers[key] = case.number
    return numbers


@pytest.mark.parametrize(
    ("q", "found"),
    [
        ("%", {"percent"}),
        ("_", {"underscore"}),
        ("\\", {"backslash"}),
        ("' OR 1=1 --", {"quote"}),
        ("'", {"quote"}),
        ("%%", set()),
        ("A%1", set()),
        ("A_1", {"underscore"}),
        ("路%问题", set()),
        ("路灯", {"plain"}),
    ],
)
def test_metacharacters_in_a_case_search_find_only_that_text(
    titled: dict[str, str], q: str, found: set[str]
) -> None:
    response = api().get("/api/v1/cases", {"q": q, "limit": "500"})
    assert response.status_code == 200
    numbers = {item["number"] for item in response.json()["items"]}
    assert numbers & set(titled.values()) == {titled[k] for k in found}


@pytest.mark.parametrize("q", ["%", "_", "\\", "' OR 1=1 --", "华%", "%华"])
def test_metacharacters_in_region_and_unit_searches_match_nothing(world: World, q: str) -> None:
    client = api("city_admin")
    assert client.get("/api/v1/regions", {"q": q}).json()["count"] == 0
    assert client.get("/api/v1/units", {"q": q}).json()["count"] == 0
    page = web("city_admin").get("/units/", {"q": q})
    assert page.status_code == 200
    assert page.context["page"].paginator.count == 0


def test_a_literal_search_still_finds(world: World) -> None:
    client = api("city_admin")
    assert client.get("/api/v1/units", {"q": "华东湾"}).json()["count"] >= 1
    assert web("city_admin").get("/units/", {"q": "华东湾"}).context["page"].paginator.count >= 1


# --- Headers every page sends --------------------------------------------------------------------


def test_security_headers(world: World) -> None:
    """No Content-Security-Policy yet (settings.py has none); once one is added, its
    script-src must not allow inline script (app.js needs none: it says so)."""
    response = web("dispatcher").get("/")
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    policy = response.headers.get("Content-Security-Policy")
    if policy is not None:
        assert "'unsafe-inline'" not in policy.split("script-src", 1)[-1].split(";", 1)[0]


# --- Forms without a valid CSRF token ------------------------------------------------------------


def test_a_form_without_its_csrf_token_is_a_readable_403_page(world: World) -> None:
    from gongzhi.accounts.models import User

    client = Client(enforce_csrf_checks=True)
    client.force_login(User.objects.get(username="resident"))
    before = saved()
    response = client.post("/cases/new/", new_case_form(world))
    page_error(response, 403, "该表单未被接受")
    page = response.content.decode()
    assert "重新加载页面" in page
    assert "style=" not in page  # nothing the Content-Security-Policy would block
    assert "<style" not in page
    assert "default-src 'self'" in response["Content-Security-Policy"]
    assert saved() == before
    with translation.override("en"):
        english = client.post(
            "/cases/new/", new_case_form(world), headers={"Accept-Language": "en"}
        )
    page_error(english, 403, "This form was not accepted")
