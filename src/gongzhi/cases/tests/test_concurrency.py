"""Two people acting on one case at the same moment: exactly one succeeds.

Real concurrent connections need PostgreSQL (SQLite serialises writers); on SQLite the
test checks the same outcome sequentially.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest
from django.db import connection, connections

from gongzhi.cases import services
from gongzhi.cases.models import Case, CaseEvent
from gongzhi.cases.tests.test_loop import submit
from gongzhi.core.errors import DomainError
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.testing import World


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_register_at_once_one_wins(ensure_demo_city: None) -> None:
    world = World.load()
    case = submit(world)
    outcomes: list[Any] = []
    barrier = threading.Barrier(2)

    def act(name: str) -> None:
        try:
            barrier.wait(timeout=10)
            services.register_case(Case.objects.get(pk=case.pk), actor=world.persona(name))
            outcomes.append("ok")
        except DomainError as exc:
            outcomes.append(exc.code)
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=act, args=(n,)) for n in ("dispatcher", "dispatcher")]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        barrier = threading.Barrier(1)
        act("dispatcher")
        act("dispatcher")
    assert sorted(outcomes) == ["invalid_transition", "ok"]
    case.refresh_from_db()
    assert (case.state, case.version) == ("registered", 2)
    assert CaseEvent.objects.filter(case=case).count() == 2
    assert list(verify_chains(CaseEvent)) == []


@pytest.mark.django_db(transaction=True)
def test_sign_and_return_race(ensure_demo_city: None) -> None:
    world = World.load()
    dispatcher = world.persona("dispatcher")
    case = services.dispatch_case(
        services.register_case(submit(world), actor=dispatcher), actor=dispatcher
    )
    results: dict[str, str] = {}
    barrier = threading.Barrier(2 if connection.vendor == "postgresql" else 1)

    def sign() -> None:
        try:
            barrier.wait(timeout=10)
            services.sign_for_case(
                Case.objects.get(pk=case.pk), actor=world.persona("street_officer")
            )
            results["sign"] = "ok"
        except DomainError as exc:
            results["sign"] = exc.code
        finally:
            connections.close_all()

    def give_back() -> None:
        try:
            barrier.wait(timeout=10)
            services.return_case(
                Case.objects.get(pk=case.pk),
                actor=world.persona("street_officer"),
                reason="不属于本单位",
            )
            results["return"] = "ok"
        except DomainError as exc:
            results["return"] = exc.code
        finally:
            connections.close_all()

    if connection.vendor == "postgresql":
        threads = [threading.Thread(target=sign), threading.Thread(target=give_back)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=30)
    else:
        sign()
        give_back()
    assert sorted(results.values()) == ["invalid_transition", "ok"]
    case.refresh_from_db()
    assert case.state == ("in_progress" if results["sign"] == "ok" else "returned")
    assert case.version == 4
