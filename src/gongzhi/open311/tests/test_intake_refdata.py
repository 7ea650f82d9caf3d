"""Open311 intake reads services (categories), the city and the region tree from memory
(``core.refdata``), sees every change to them at once, and takes a fixed number of queries."""

from __future__ import annotations

import json

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gongzhi.accounts.services import system_actor
from gongzhi.cases.services import import_categories
from gongzhi.core import refdata
from gongzhi.demo.testing import World
from gongzhi.open311.queries import Case, Category
from gongzhi.open311.tests.support import (
    at_grid_1,
    client_key,
    errors,
    greening_code,
    post_request,
    rows,
)

BASE = "/open311/v2"
NEW_LEAF = ("城乡建设", "城市建设和市政管理", "共享单车乱停放")


def codes(client: Client) -> set[str]:
    found = rows(client.get(f"{BASE}/services.json"), "json", "services", "service")
    return {s["service_code"] for s in found}


def test_a_new_service_is_offered_and_taken_at_once(client: Client, world: World) -> None:
    key = client_key(world)
    before = codes(client)
    assert import_categories([NEW_LEAF], actor=system_actor()) == 1
    code = str(Category.objects.get(path="/".join(NEW_LEAF)).pk)
    assert codes(client) == before | {code}
    response = post_request(client, key, "json", service_code=code, **at_grid_1(world))
    assert response.status_code == 200, response.content
    number = json.loads(response.content)[0]["service_request_id"]
    assert Case.objects.get(number=number).category.path == "/".join(NEW_LEAF)


def test_a_service_switched_off_elsewhere_is_refused_at_once(client: Client, world: World) -> None:
    key = client_key(world)
    code = greening_code()
    assert (
        post_request(client, key, "json", service_code=code, **at_grid_1(world)).status_code == 200
    )
    cases = Case.objects.count()
    Category.objects.filter(pk=int(code)).update(is_active=False)  # the admin, another process
    response = post_request(client, key, "json", service_code=code, **at_grid_1(world))
    assert response.status_code == 404
    assert errors(response, "json") == [
        (404, f"没有 service_code 为 {code} 的服务。GET services.xml 可列出所有代码。")
    ]
    assert Case.objects.count() == cases
    assert code not in codes(client)


def test_a_submission_takes_eleven_statements_and_reads_no_reference_data(
    client: Client, world: World
) -> None:
    key = client_key(world)
    body = {"service_code": greening_code(), **at_grid_1(world)}
    assert post_request(client, key, "json", **body).status_code == 200  # caches filled
    with CaptureQueriesContext(connection) as captured:
        response = post_request(client, key, "json", **body)
    assert response.status_code == 200
    statements = [q["sql"] for q in captured.captured_queries]
    # The key; the reference data version; the adapter's transaction (a savepoint inside the
    # test's) around the case's (the day's number, the case, its first event, with no
    # previous event to read) and the submission row; then the version again for the
    # answer's time limit (the request wrote, so it is read afresh).
    assert [s.split()[0] for s in statements] == [
        "SELECT",  # accounts_apikey
        "SELECT",  # core_refdata_version
        "SAVEPOINT",
        "SAVEPOINT",
        "UPDATE",  # cases_casenumbercounter
        "INSERT",  # cases_case
        "INSERT",  # cases_caseevent
        "RELEASE",
        "INSERT",  # open311_submission
        "RELEASE",
        "SELECT",  # core_refdata_version
    ]
    assert refdata.TABLE in statements[1]
    assert refdata.TABLE in statements[-1]
    assert not [s for s in statements[1:] for t in refdata.watched_tables() if f'"{t}"' in s]
