"""What triage offers the case pages through the hooks in cases.proposals: probable
duplicates beside the merge form, and how well an answer explains itself."""

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


def test_staff_see_how_well_the_answer_explains_itself(world: World):
    from gongzhi.cases import services

    case = submit(world)
    dispatcher, officer = world.persona("dispatcher"), world.persona("street_officer")
    case = services.dispatch_case(services.register_case(case, actor=dispatcher), actor=dispatcher)
    case = services.sign_for_case(case, actor=officer)
    services.reply_to_case(
        case,
        actor=officer,
        reply="根据《城市市容和环境卫生管理条例》，街道环卫所已于3日内清运垃圾，今后每天巡查。",
    )
    page = client_for("dispatcher").get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="reply-judgement"' in page
    api = client_for("dispatcher").get(f"/api/v1/cases/{case.pk}").json()["reply_judgement"]
    assert (api["is_explainable"], api["cues"], api["demands"], api["answered"]) == (
        True,
        {"rule": True, "time": True, "actor": True, "result": True},
        1,
        1,
    )
    assert client_for("resident").get(f"/api/v1/cases/{case.pk}").json()["reply_judgement"] is None
    # The resident who raised it reads the answer, not the staff's judgement of it.
    mine = client_for("resident").get(f"/cases/{case.pk}/").content.decode()
    assert 'data-testid="case-reply"' in mine
    assert 'data-testid="reply-judgement"' not in mine


def test_the_judge_of_replies_through_the_hook():
    from gongzhi.cases.proposals import ReplyJudgement, judge_reply

    matter = (
        "小区门口垃圾堆放多日无人清运\n春山街道华东湾社区3号楼门口的垃圾已经堆了三天，请尽快处理。"
    )
    good = judge_reply(
        matter, "根据《城市市容和环境卫生管理条例》，街道环卫所已于3日内清运垃圾，今后每天巡查。"
    )
    assert good is not None
    assert (good.is_explainable, good.cues, good.demands, good.answered) == (
        True,
        {"rule": True, "time": True, "actor": True, "result": True},
        1,
        1,
    )
    empty = judge_reply(matter, "您好，来信已收悉，感谢您的支持。")
    assert empty == ReplyJudgement(
        score=0.0,
        is_explainable=False,
        cues={"rule": False, "time": False, "actor": False, "result": False},
        demands=1,
        answered=0,
        relevance=0.0,
    )
    assert judge_reply(matter, "   ") is None
