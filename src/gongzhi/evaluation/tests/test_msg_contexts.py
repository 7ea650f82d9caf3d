"""English words that evaluation shares with cases and the command centre but means
differently: each place reads its own Chinese (message contexts), and English stays as it
was. A closed indicator system has final results (已结束) where a closed case was handled
to the end (已办结); a system's "last month" ends its period (截止月份) where the command
centre's is the month before this one (上月); an indicator's "position" is its order in the
system (序号) where a ranked subject's is its place (名次)."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import models
from django.utils import translation

from gongzhi.cases.choices import STATE_LABELS
from gongzhi.cases.models import Case
from gongzhi.cases.workflow import State
from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation.models import (
    SYSTEM_STATE_LABELS,
    Assessment,
    Indicator,
    IndicatorSystem,
    RankingEntry,
    RectificationItem,
)
from gongzhi.evaluation.tests.assessment_fixtures import closed_system
from gongzhi.evaluation.workflow import SystemState

# (model, field, English, Chinese): pairs of fields whose English names are the same.
FIELD_NAMES = [
    (IndicatorSystem, "last_month", "last month", "截止月份"),
    (Indicator, "position", "position", "序号"),
    (RankingEntry, "position", "position", "名次"),
    (Assessment, "position", "position", "名次"),
    (IndicatorSystem, "closed_at", "closed at", "结束时间"),
    (Case, "closed_at", "closed at", "办结时间"),
    (RectificationItem, "submitted_at", "submitted at", "报送时间"),
    (Case, "submitted_at", "submitted at", "提出时间"),
]
FIELD_IDS = [f"{model.__name__}.{field}" for model, field, _, _ in FIELD_NAMES]


def field_name(model: type[models.Model], field: str) -> str:
    return str(model._meta.get_field(field).verbose_name)


def chinese_client(username: str) -> Any:
    client = client_for(username)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "zh-hans"
    return client


def state_badges(page: str) -> list[str]:
    return re.findall(r'<span class="badge badge-state"[^>]*>([^<]*)</span>', page)


@pytest.mark.parametrize(("model", "field", "english", "chinese"), FIELD_NAMES, ids=FIELD_IDS)
def test_each_field_reads_its_own_chinese(
    model: type[models.Model], field: str, english: str, chinese: str
):
    with translation.override("zh-hans"):
        assert field_name(model, field) == chinese


@pytest.mark.parametrize(("model", "field", "english", "chinese"), FIELD_NAMES, ids=FIELD_IDS)
def test_the_english_field_names_are_unchanged(
    model: type[models.Model], field: str, english: str, chinese: str
):
    with translation.override("en"):
        assert field_name(model, field) == english


def test_a_closed_system_has_ended_where_a_closed_case_is_handled():
    with translation.override("zh-hans"):
        assert str(SYSTEM_STATE_LABELS[SystemState.CLOSED]) == "已结束"
        assert str(STATE_LABELS[State.CLOSED]) == "已办结"
    with translation.override("en"):
        assert str(SYSTEM_STATE_LABELS[SystemState.CLOSED]) == "Closed"
        assert str(STATE_LABELS[State.CLOSED]) == "Closed"


def test_the_pages_of_a_closed_system_say_it_has_ended(world: World):
    system = closed_system(world)
    client = chinese_client("assessor")
    detail = client.get(f"/evaluation/systems/{system.pk}/").content.decode()
    assert 'data-testid="system-state">已结束</span>' in detail
    listing = client.get("/evaluation/systems/").content.decode()
    assert state_badges(listing) == ["已结束"]


def test_the_pages_of_a_closed_system_stay_english(world: World):
    system = closed_system(world)
    client = client_for("assessor")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    detail = client.get(f"/evaluation/systems/{system.pk}/").content.decode()
    assert 'data-testid="system-state">Closed</span>' in detail
    assert state_badges(client.get("/evaluation/systems/").content.decode()) == ["Closed"]
