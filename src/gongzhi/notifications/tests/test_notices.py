from __future__ import annotations

import json

import pytest
from django.test import Client

from gongzhi.accounts.services import issue_personal_token
from gongzhi.cases import services
from gongzhi.cases.errors import InvalidTransition
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.build import DEMO_PASSWORD
from gongzhi.demo.testing import World
from gongzhi.notifications.models import Notice


def client_as(username: str) -> Client:
    token = issue_personal_token(None, username=username, password=DEMO_PASSWORD).token
    return Client(headers={"Authorization": f"Bearer {token}"})


def test_notices_follow_the_case(world: World):
    dispatcher, officer = world.persona("dispatcher"), world.persona("street_officer")
    case = services.register_case(submit(world), actor=dispatcher)
    case = services.dispatch_case(case, actor=dispatcher)
    notice = Notice.objects.get()
    assert (notice.kind, notice.unit.name, notice.recipient) == (
        "dispatched",
        "春山街道办事处",
        None,
    )
    case = services.sign_for_case(case, actor=officer)
    case = services.supervise_case(case, actor=world.persona("district_leader"), note="加快")
    case = services.reply_to_case(case, actor=officer, reply="已处理完毕，谢谢。")
    kinds = sorted(Notice.objects.values_list("kind", flat=True))
    assert kinds == ["dispatched", "replied", "supervised"]
    replied = Notice.objects.get(kind="replied")
    assert replied.recipient == world.persona("resident")
    assert replied.text == f"您反映的问题 {case.number} 已有答复。"


def test_a_failed_action_sends_nothing(world: World):
    case = submit(world)
    with pytest.raises(InvalidTransition):
        services.dispatch_case(case, actor=world.persona("dispatcher"))  # not registered yet
    assert Notice.objects.count() == 0


def test_unit_notices_through_the_api(world: World):
    dispatcher = world.persona("dispatcher")
    services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    officer = client_as("street_officer")
    page = officer.get("/api/v1/notices").json()
    assert page["unread_count"] == 1
    notice = page["items"][0]
    assert notice["kind"] == "dispatched"
    assert notice["text"].endswith("已派至本单位，请及时签收。")
    assert client_as("handler").get("/api/v1/notices").json() == {"unread_count": 0, "items": []}
    denied = client_as("handler").post(f"/api/v1/notices/{notice['id']}/read")
    assert (denied.status_code, denied.json()["code"]) == (404, "not_found")
    read = officer.post(f"/api/v1/notices/{notice['id']}/read")
    assert read.status_code == 200
    assert read.json()["read_at"] is not None
    assert officer.get("/api/v1/notices?unread=true").json() == {"unread_count": 0, "items": []}
    assert json.loads(officer.get("/api/v1/notices").content)["items"][0]["id"] == notice["id"]
