from __future__ import annotations

import json

import pytest
from django.test import Client

from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World


def post(client: Client, url: str, body: object, **headers: str):
    return client.post(url, json.dumps(body), content_type="application/json", headers=headers)


def login(username: str) -> Client:
    response = post(
        Client(), "/api/v1/auth/token", {"username": username, "password": DEMO_PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["token"].startswith("gz_")
    return Client(headers={"Authorization": f"Bearer {body['token']}"})


def test_token_login_and_me(world: World):
    me = login("street_officer").get("/api/v1/me").json()
    assert me["kind"] == "person"
    assert me["username"] == "street_officer"
    assert me["display_name"] == "赵海峰"
    assert me["is_staff_member"] is True
    assert [(m["role"], m["region_code"]) for m in me["memberships"]] == [
        ("handler", "990102001000")
    ]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"username": "street_officer", "password": "wrong"}, 401, "invalid_credentials"),
        ({"username": "nobody", "password": DEMO_PASSWORD}, 401, "invalid_credentials"),
        ({"username": "street_officer"}, 422, "invalid_input"),
        ({"username": "", "password": "x"}, 422, "invalid_input"),
        ({"username": ["a"], "password": "x"}, 422, "invalid_input"),
    ],
)
def test_token_login_errors_are_clear(db, body, status, code):
    response = post(Client(), "/api/v1/auth/token", body)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert response.json()["message"]


def test_broken_json_is_a_clear_400_or_422(db):
    response = Client().post("/api/v1/auth/token", b"{not json", content_type="application/json")
    assert response.status_code in {400, 422}
    assert response.json()["code"] in {"invalid_input", "http_400"}


def test_region_list_is_scoped_and_counted(world: World):
    counts = {
        name: login(name).get("/api/v1/regions?limit=1000").json()["count"]
        for name in ["resident", "grid_worker", "street_officer", "district_leader", "dispatcher"]
    }
    # Small city: city 1, districts 2, streets 3, communities 6, grids 12.
    assert counts == {
        "resident": 0,
        "grid_worker": 1,
        "street_officer": 1 + 2 + 4,
        "district_leader": 1 + 2 + 4 + 8,
        "dispatcher": 24,
    }


def test_region_detail_shows_only_visible_ancestors(world: World):
    body = login("street_officer").get(f"/api/v1/regions/{world.grid_1.pk}").json()
    assert [a["code"] for a in body["ancestors"]] == ["990102001000", "990102001001"]
    assert body["code"] == "990102001001001"
    assert body["level"] == 5
    assert body["can_edit"] is False
    assert body["boundary"]["type"] == "Polygon"


def test_patch_region_validates_and_records(world: World):
    client = login("city_admin")
    url = f"/api/v1/regions/{world.grid_1.pk}"
    bad = client.patch(
        url, json.dumps({"boundary": {"type": "Point"}}), content_type="application/json"
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == "invalid_boundary"
    world.grid_1.refresh_from_db()
    assert world.grid_1.boundary is not None
    assert world.grid_1.boundary["type"] == "Polygon"

    good = client.patch(
        url,
        json.dumps({"name": "  第一网格（新）  ", "reason": "调整"}),
        content_type="application/json",
    )
    assert good.status_code == 200
    assert good.json()["name"] == "第一网格（新）"


def test_grant_membership_errors(world: World):
    client = login("city_admin")
    url = f"/api/v1/units/{world.committee_1.pk}/memberships"
    unknown_role = post(
        client, url, {"username": "resident", "role": "king", "region_id": world.grid_1.pk}
    )
    assert (unknown_role.status_code, unknown_role.json()["code"]) == (400, "invalid_membership")
    outside = post(
        client,
        url,
        {"username": "resident", "role": "grid_worker", "region_id": world.district_2.pk},
    )
    assert (outside.status_code, outside.json()["code"]) == (400, "invalid_membership")
    nobody = post(
        client, url, {"username": "nobody", "role": "grid_worker", "region_id": world.grid_1.pk}
    )
    assert (nobody.status_code, nobody.json()["code"]) == (404, "not_found")
    ok = post(
        client, url, {"username": "resident", "role": "grid_worker", "region_id": world.grid_1.pk}
    )
    assert ok.status_code == 201
    assert ok.json()["region_code"] == "990102001001001"
    again = post(
        client, url, {"username": "resident", "role": "grid_worker", "region_id": world.grid_1.pk}
    )
    assert again.json()["id"] == ok.json()["id"]  # granting twice is harmless
    revoke_url = f"/api/v1/memberships/{ok.json()['id']}/revoke"
    assert post(client, revoke_url, {"reason": "调岗"}).status_code == 200
    twice = post(client, revoke_url, {"reason": "调岗"})
    assert (twice.status_code, twice.json()["code"]) == (409, "already_revoked")


def test_issue_key_shows_token_once(world: World):
    client = login("city_admin")
    issued = post(
        client, "/api/v1/api-keys", {"unit_id": world.command_centre.pk, "name": "区热线"}
    )
    assert issued.status_code == 201
    token = issued.json()["token"]
    listed = client.get("/api/v1/api-keys").json()
    assert [k["name"] for k in listed] == ["区热线"]
    assert "token" not in listed[0]
    assert (
        Client(headers={"Authorization": f"Bearer {token}"}).get("/api/v1/me").json()["kind"]
        == "integration"
    )


def test_openapi_schema_is_served(db):
    response = Client().get("/api/v1/openapi.json")
    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/auth/token" in paths
    assert "/api/v1/regions/{region_id}" in paths
