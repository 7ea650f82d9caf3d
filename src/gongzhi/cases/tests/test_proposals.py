"""The classifier at intake: a proposal sets the category when it is probable enough, is
kept beside the case either way, and the dispatcher's choice is recorded against it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from gongzhi.cases import services
from gongzhi.cases.choices import CaseKind, Channel
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.cases.proposals import (
    CategoryProposal,
    _proposers,
    propose_category,
    register_proposer,
    unregister_proposer,
)
from gongzhi.cases.services import NewCase
from gongzhi.demo.testing import World
from gongzhi.dispatch.queries import route

TRANSPORT, BUILDING = "交通运输", "城乡建设"


@pytest.fixture
def proposer() -> Iterator[dict[str, Any]]:
    """A stand-in classifier whose answer each test sets; the real one is unhooked."""
    answer: dict[str, Any] = {}

    def fake(text: str) -> CategoryProposal | None:
        answer.setdefault("texts", []).append(text)
        if "proposal" not in answer:
            return None
        found: CategoryProposal = answer["proposal"]
        return found

    saved = list(_proposers)
    _proposers.clear()
    register_proposer(fake)
    yield answer
    unregister_proposer(fake)
    _proposers.extend(saved)


def new_case(world: World, category: Category | None = None) -> NewCase:
    return NewCase(
        title="公交站台顶棚漏雨",
        description="下雨天站台顶棚一直漏水，候车的人都被淋湿。",
        kind=CaseKind.COMPLAINT,
        channel=Channel.HOTLINE,
        region=world.grid_1,
        category=category,
    )


def proposal(confidence: float) -> CategoryProposal:
    return CategoryProposal(
        category_path=TRANSPORT,
        confidence=confidence,
        top3=((TRANSPORT, confidence), (BUILDING, 0.2), ("不存在的分类", 0.05)),
        model_version=7,
    )


def submit_event(case: Case) -> CaseEvent:
    return CaseEvent.objects.get(case=case, seq=1)


def test_a_probable_proposal_sets_the_category_and_the_unit(world: World, proposer, settings):
    settings.GONGZHI_TRIAGE_THRESHOLD = 0.6
    proposer["proposal"] = proposal(0.8)
    case = services.submit_case(new_case(world), actor=world.persona("resident"))
    transport = Category.objects.get(path=TRANSPORT)
    assert proposer["texts"] == ["公交站台顶棚漏雨\n下雨天站台顶棚一直漏水，候车的人都被淋湿。"]
    assert (case.category, case.proposed_category) == (transport, transport)
    assert case.proposed_unit == route(TRANSPORT, world.grid_1).unit
    assert (case.proposal_confidence, case.proposal_model_version) == (0.8, 7)
    assert case.proposal_top3 == [[TRANSPORT, 0.8], [BUILDING, 0.2]]
    assert submit_event(case).data["triage"] == {
        "model": 7,
        "category": TRANSPORT,
        "confidence": 0.8,
        "top3": [[TRANSPORT, 0.8], [BUILDING, 0.2]],
        "applied": True,
    }


def test_an_uncertain_proposal_leaves_the_choice_to_the_dispatcher(
    world: World, proposer, settings
):
    settings.GONGZHI_TRIAGE_THRESHOLD = 0.6
    proposer["proposal"] = proposal(0.45)
    case = services.submit_case(new_case(world), actor=world.persona("resident"))
    assert case.category is None
    assert case.proposed_unit is None
    assert case.proposed_category.path == TRANSPORT
    assert submit_event(case).data["triage"]["applied"] is False
    # The dispatcher chooses another category: recorded against the proposal.
    dispatcher = world.persona("dispatcher")
    registered = services.register_case(
        case, actor=dispatcher, category=Category.objects.get(path=BUILDING)
    )
    event = CaseEvent.objects.get(case=registered, action="register")
    assert event.data["proposal"] == {
        "model": 7,
        "category": TRANSPORT,
        "confidence": 0.45,
        "agreed": False,
    }


def test_the_persons_own_category_is_not_second_guessed(world: World, proposer):
    proposer["proposal"] = proposal(0.99)
    building = Category.objects.get(path=BUILDING)
    case = services.submit_case(new_case(world, building), actor=world.persona("resident"))
    assert "texts" not in proposer
    assert (case.category, case.proposed_category) == (building, None)
    assert "triage" not in submit_event(case).data


def test_no_model_no_proposal(world: World, proposer):
    case = services.submit_case(new_case(world), actor=world.persona("resident"))
    assert (case.category, case.proposed_category, case.proposal_top3) == (None, None, [])
    assert "triage" not in submit_event(case).data


def test_a_failing_classifier_never_stops_intake(world: World, proposer):
    def broken(text: str) -> CategoryProposal | None:
        raise RuntimeError("model file unreadable")

    register_proposer(broken)
    try:
        assert propose_category("路灯不亮") is None
        case = services.submit_case(new_case(world), actor=world.persona("resident"))
    finally:
        unregister_proposer(broken)
    assert case.state == "submitted"
    assert case.category is None


def test_a_proposal_outside_the_tree_is_ignored(world: World, proposer):
    proposer["proposal"] = CategoryProposal("没有这个分类", 0.9, (("没有这个分类", 0.9),), 3)
    case = services.submit_case(new_case(world), actor=world.persona("resident"))
    assert (case.category, case.proposed_category) == (None, None)
