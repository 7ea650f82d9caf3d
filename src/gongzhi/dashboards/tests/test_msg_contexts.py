"""The command centre's "last month" is the month before this one (上月), not the end of an
indicator system's period (截止月份, evaluation's message context "end of period")."""

from __future__ import annotations

import re
from typing import Any
from unittest import mock

import pytest

from gongzhi.demo.testing import World, client_for
from gongzhi.evaluation.tallies import rebuild_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases


@pytest.fixture
def tallied(world: World) -> Any:
    """The fixed cases of March 2026 and earlier, seen at ``NOW`` (in April)."""
    load_cases(world)
    rebuild_tallies(NOW)
    with mock.patch("django.utils.timezone.now", return_value=NOW):
        yield world


def cases_beside_last_month(language: str) -> str:
    client = client_for("district_leader")
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    page = client.get("/command/").content.decode()
    indicators = page.split('data-testid="indicators"')[1].split("</dl>")[0]
    found = re.search(r'<dd class="small muted">([^<]*)</dd></div>\s*$', indicators)
    assert found is not None
    return found.group(1)


def test_the_command_centre_compares_with_the_month_before(tallied: World):
    assert cases_beside_last_month("zh-hans") == "上月 4"


def test_the_english_command_centre_is_unchanged(tallied: World):
    assert cases_beside_last_month("en") == "last month 4"
