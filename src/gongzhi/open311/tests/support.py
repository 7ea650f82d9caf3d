"""Helpers for the Open311 tests: a client key, calls in either format, parsed answers."""

from __future__ import annotations

import json
from typing import Any
from xml.etree import ElementTree

from django.test import Client

from gongzhi.accounts.services import issue_api_key, system_actor
from gongzhi.cases import services as case_services
from gongzhi.cases.tests.images import JPEG as JPEG  # the suite's photos, re-exported
from gongzhi.cases.tests.images import PNG as PNG
from gongzhi.cases.tests.test_loop import GREENING
from gongzhi.demo.testing import World
from gongzhi.open311.queries import Case, Category

BASE = "/open311/v2"
FORMATS = ["xml", "json"]


def client_key(world: World, name: str = "Test client") -> str:
    return issue_api_key(unit=world.command_centre, name=name, actor=system_actor()).token


def greening_code() -> str:
    return str(Category.objects.get(path=GREENING).pk)


def parse(response: Any, fmt: str) -> Any:
    """The body as Python data: JSON as is; XML as an Element."""
    if fmt == "json":
        assert response["Content-Type"] == "application/json; charset=utf-8"
        return json.loads(response.content.decode("utf-8"))
    assert response["Content-Type"] == "text/xml; charset=utf-8"
    assert response.content.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    return ElementTree.fromstring(response.content)  # noqa: S314 (our own answer)


def rows(response: Any, fmt: str, root: str, item: str) -> list[dict[str, Any]]:
    """A list document in either format as a list of dicts of its simple fields (strings
    in XML; JSON keeps its types)."""
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list)
        return body
    assert body.tag == root
    assert all(child.tag == item for child in body)
    return [{field.tag: field.text for field in child} for child in body]


def errors(response: Any, fmt: str) -> list[tuple[int, str]]:
    body = parse(response, fmt)
    if fmt == "json":
        assert isinstance(body, list)
        assert all(set(e) == {"code", "description"} for e in body)
        return [(e["code"], e["description"]) for e in body]
    assert body.tag == "errors"
    found = []
    for error in body:
        assert error.tag == "error"
        assert [f.tag for f in error] == ["code", "description"]
        found.append((int(error.findtext("code")), error.findtext("description")))
    return found


def post_request(
    client: Client,
    key: str | None,
    fmt: str = "json",
    headers: Any = None,
    **fields: Any,
) -> Any:
    data = dict(fields)
    if key is not None:
        data.setdefault("api_key", key)
    return client.post(f"{BASE}/requests.{fmt}", data, headers=headers or {})


def at_grid_1(world: World) -> dict[str, Any]:
    return {"lat": str(world.grid_1.centre_lat), "long": str(world.grid_1.centre_lng)}


def submitted(client: Client, world: World, key: str, **fields: Any) -> Case:
    """A case raised through Open311 (JSON), found by its number."""
    body = {"service_code": greening_code(), **at_grid_1(world), **fields}
    response = post_request(client, key, "json", **body)
    assert response.status_code == 200, response.content
    number = json.loads(response.content)[0]["service_request_id"]
    return Case.objects.get(number=number)


def take_to_closed(world: World, case: Case) -> Case:
    case = case_services.register_case(case, actor=world.persona("dispatcher"))
    case = case_services.dispatch_case(case, actor=world.persona("dispatcher"))
    case = case_services.sign_for_case(case, actor=world.persona("street_officer"))
    case = case_services.reply_to_case(
        case,
        actor=world.persona("street_officer"),
        reply="已清运完毕，林小雨请放心，电话13800138000。",
    )
    case = case_services.verify_case(case, actor=world.persona("grid_worker"), resolved=True)
    return case_services.close_case(case, actor=world.persona("dispatcher"))
