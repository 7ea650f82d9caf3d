"""Notices pages: everyone sees only their own and their units' notices."""

from __future__ import annotations

from typing import Any

import pytest

from gongzhi.cases import services
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World, client_for
from gongzhi.notifications.models import Notice

COVERED_VIEWS = {"list", "read"}
PERSONAS = [
    None,
    "resident",
    "grid_worker",
    "dispatcher",
    "street_officer",
    "handler",
    "district_leader",
    "city_admin",
    "auditor",
    "mediator",
    "assessor",
]


def dispatched_notice(world: World, capture: Any) -> Notice:
    dispatcher = world.persona("dispatcher")
    with capture(execute=True):
        services.dispatch_case(
            services.register_case(submit(world), actor=dispatcher), actor=dispatcher
        )
    return Notice.objects.get()


@pytest.mark.parametrize("persona", PERSONAS)
def test_notice_list(persona, world: World, django_capture_on_commit_callbacks):
    notice = dispatched_notice(world, django_capture_on_commit_callbacks)
    response = client_for(persona).get("/notices/")
    if persona is None:
        assert response.status_code == 302
        return
    assert response.status_code == 200
    shown = notice.text in response.content.decode()
    assert shown == (persona == "street_officer")


@pytest.mark.parametrize("persona", PERSONAS)
def test_read_notice(persona, world: World, django_capture_on_commit_callbacks):
    notice = dispatched_notice(world, django_capture_on_commit_callbacks)
    response = client_for(persona).post(f"/notices/{notice.pk}/read/")
    notice.refresh_from_db()
    if persona == "street_officer":
        assert response.status_code == 302
        assert response.headers["Location"] == f"/cases/{notice.case_id}/"
        assert notice.read_by.username == "street_officer"
    else:
        assert response.status_code == (302 if persona is None else 404)
        assert notice.read_at is None


def test_the_bell_counts_unread_notices(world: World, django_capture_on_commit_callbacks):
    dispatched_notice(world, django_capture_on_commit_callbacks)
    page = client_for("street_officer").get("/").content.decode()
    assert 'class="badge badge-count">1</span>' in page
    assert "badge-count" not in client_for("handler").get("/").content.decode()
