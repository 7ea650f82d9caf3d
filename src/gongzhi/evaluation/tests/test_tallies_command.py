"""``gongzhi tallies``: once, and the watch loop's housekeeping (hot issues, sign-in pruning)."""

from __future__ import annotations

import time
from io import StringIO
from typing import Any

import pytest
from django.core.management import call_command

from gongzhi.evaluation.management.commands import tallies


class Stop(Exception):
    pass


def test_once_refreshes_and_says_which_months(db: Any) -> None:
    out = StringIO()
    call_command("tallies", stdout=out)
    assert out.getvalue().startswith("refreshed months: ")


def test_the_watch_loop_prunes_sign_ins_once_an_hour(
    db: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[str] = []
    now = [0.0]
    monkeypatch.setattr(tallies, "refresh_tallies", lambda: calls.append("tallies"))
    monkeypatch.setattr(tallies, "mark_overdue_rectifications", lambda: None)
    monkeypatch.setattr(tallies, "refresh_hot_issues", lambda: calls.append("hot"))

    def prune() -> int:
        calls.append("prune")
        return 0

    monkeypatch.setattr(tallies, "prune_sign_ins", prune)
    monkeypatch.setattr(tallies, "prune_personal_tokens", lambda: calls.append("tokens"))
    monkeypatch.setattr(time, "monotonic", lambda: now[0])

    def sleep(seconds: float) -> None:
        if now[0] >= 3600:
            raise Stop
        now[0] += seconds

    monkeypatch.setattr(time, "sleep", sleep)
    with pytest.raises(Stop):
        call_command("tallies", "--watch", "--interval", "1800")
    # At 0 s everything; at 30 minutes hot issues (every 10) but no pruning; at 60 both.
    assert calls == [
        *("tallies", "hot", "prune", "tokens"),
        *("tallies", "hot"),
        *("tallies", "hot", "prune", "tokens"),
    ]
