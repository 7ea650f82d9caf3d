"""Probable duplicates on the case page and in the API: the finder's answer, scoped."""

from __future__ import annotations

import json

from gongzhi.cases.proposals import DuplicateProposal, _duplicate_finders
from gongzhi.cases.tests.test_loop import submit
from gongzhi.demo.testing import World, client_for


def test_the_merge_form_offers_the_same_matter_in_the_same_street(world: World):
    first = submit(world)
    second = submit(world)
    page = client_for("dispatcher").get(f"/cases/{second.pk}/duplicates/").content.decode()
    assert f"/cases/{first.pk}/" in page
    assert f'name="into" value="{first.number}"' in page
    data = client_for("dispatcher").get(f"/api/v1/cases/{second.pk}/duplicates").json()
    assert [d["number"] for d in data] == [first.number]
    assert data[0]["text"] == 1.0
    assert data[0]["place"] == 1.0
    assert 0.99 < data[0]["score"] <= 1.0
    detail = client_for("dispatcher").get(f"/cases/{second.pk}/").content.decode()
    assert f'hx-get="/cases/{second.pk}/duplicates/"' in detail


def test_cases_the_person_may_not_see_are_left_out(world: World, monkeypatch):
    case = submit(world)
    invisible = DuplicateProposal(
        case_id="00000000-0000-0000-0000-000000000001",
        number="20260101-00001",
        title="不存在",
        submitted_at=case.submitted_at,
        score=0.9,
        text=0.9,
        place=1.0,
        time=1.0,
    )
    monkeypatch.setattr("gongzhi.cases.proposals._duplicate_finders", [lambda c: [invisible]])
    response = client_for("dispatcher").get(f"/api/v1/cases/{case.pk}/duplicates")
    assert json.loads(response.content) == []
    assert _duplicate_finders  # the real finder is still registered outside this test


def test_no_duplicates_says_so(world: World):
    case = submit(world)
    page = client_for("dispatcher").get(f"/cases/{case.pk}/duplicates/").content.decode()
    assert 'data-testid="no-duplicates"' in page
