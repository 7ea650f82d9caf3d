"""Monthly rankings: computed from the tallies, frozen when published, corrected by version."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import translation

from gongzhi.cases.models import Case
from gongzhi.core.errors import Conflict, InvalidInput, PermissionDenied
from gongzhi.core.models import AuditEvent
from gongzhi.demo.testing import World
from gongzhi.evaluation import policies, services
from gongzhi.evaluation.indicators import Figures, Scheme
from gongzhi.evaluation.models import Ranking, RankingEntry, ScoreScheme
from gongzhi.evaluation.tallies import refresh_tallies
from gongzhi.evaluation.tests.fixtures import NOW, load_cases

MARCH = dt.date(2026, 3, 1)


@pytest.fixture
def cases(world: World) -> World:
    load_cases(world)
    return world


def entries(ranking: Ranking) -> list[tuple[object, ...]]:
    # Ranked first, then the unranked (NULL positions sort differently on SQLite and PG).
    found = sorted(ranking.entries.all(), key=lambda e: (e.position is None, e.position, e.name))
    return [(e.position, e.name, e.score, e.grade, e.listed) for e in found]


def test_a_city_ranking_of_streets_is_frozen_when_published(cases: World):
    assessor = cases.persona("assessor")
    ranking = services.publish_ranking(
        cases.city, month=MARCH, subject="street", actor=assessor, now=NOW
    )
    others = [
        e.name
        for e in ranking.entries.all()
        if e.region_id not in (cases.street_1.pk, cases.street_of_district_2.pk)
    ]
    assert entries(ranking) == [
        (1, cases.street_of_district_2.name, Decimal("96.00"), "A", "red"),
        (2, cases.street_1.name, Decimal("80.50"), "B", "black"),
        (None, others[0], None, "", ""),
    ]
    first = ranking.entries.get(region=cases.street_1)
    assert first.figures["indicators"]["response_rate"] == 0.5
    assert first.figures["counts"]["submitted_count"] == 4
    assert ranking.scheme["satisfaction_weight"] == "40"
    # A later change to a case does not rewrite what was published.
    Case.objects.filter(number="H20260309-00002").update(satisfaction="satisfied")
    services.publish_ranking  # noqa: B018 - nothing recomputes a published ranking
    assert entries(Ranking.objects.get(pk=ranking.pk))[1][2] == Decimal("80.50")
    audit = AuditEvent.objects.get(stream=f"ranking:{ranking.pk}")
    assert (audit.action, audit.data) == ("ranking.published", {"version": 1, "entries": 3})


def test_publishing_again_needs_a_reason_and_keeps_the_first_version(cases: World):
    admin = cases.persona("assessor")
    first = services.publish_ranking(
        cases.city, month=MARCH, subject="street", actor=admin, now=NOW
    )
    with pytest.raises(Conflict) as denied:
        services.publish_ranking(cases.city, month=MARCH, subject="street", actor=admin, now=NOW)
    assert denied.value.code == "already_published"
    assert Ranking.objects.count() == 1
    Case.objects.filter(number="H20260309-00002").update(
        satisfaction="satisfied", updated_at=NOW + dt.timedelta(minutes=1)
    )
    later = NOW + dt.timedelta(minutes=2)
    refresh_tallies(later)  # what the tallies watcher does every minute
    second = services.publish_ranking(
        cases.city,
        month=MARCH,
        subject="street",
        actor=admin,
        now=later,
        correction_reason="回访结果更正",
    )
    first.refresh_from_db()
    assert (first.is_current, second.is_current, second.version) == (False, True, 2)
    # Satisfaction of street 1: (1 + 1) / 2 = 1.0, score 5 + 37.5 + 40 = 82.5
    assert second.entries.get(region=cases.street_1).score == Decimal("82.50")
    assert first.entries.get(region=cases.street_1).score == Decimal("80.50")
    assert list(policies.public_rankings()) == [second]


def test_units_are_ranked_on_what_they_received(cases: World):
    leader = cases.persona("district_leader")
    ranking = services.publish_ranking(
        cases.district_1, month=MARCH, subject="unit", actor=leader, now=NOW
    )
    unit = Case.objects.get(number="H20260309-00001").unit
    assert entries(ranking) == [(1, unit.name, Decimal("80.50"), "B", "")]


def test_who_may_publish(cases: World):
    for persona in ("dispatcher", "city_admin", "handler", "resident", "auditor"):
        with pytest.raises(PermissionDenied):
            services.publish_ranking(
                cases.district_1,
                month=MARCH,
                subject="street",
                actor=cases.persona(persona),
                now=NOW,
            )
    with pytest.raises(PermissionDenied):  # a district leader does not rank the city
        services.publish_ranking(
            cases.city,
            month=MARCH,
            subject="street",
            actor=cases.persona("district_leader"),
            now=NOW,
        )
    assert Ranking.objects.count() == 0


def test_only_ended_months_and_known_subjects(cases: World):
    leader = cases.persona("district_leader")
    with pytest.raises(InvalidInput):
        services.publish_ranking(
            cases.district_1, month=dt.date(2026, 4, 1), subject="street", actor=leader, now=NOW
        )
    with pytest.raises(InvalidInput):
        services.publish_ranking(
            cases.district_1, month=MARCH, subject="people", actor=leader, now=NOW
        )
    with pytest.raises(InvalidInput):
        services.publish_ranking(
            cases.street_1,
            month=MARCH,
            subject="street",
            actor=cases.persona("assessor"),
            now=NOW,
        )
    assert RankingEntry.objects.count() == 0


def test_a_scheme_is_validated_audited_and_used(cases: World):
    admin = cases.persona("city_admin")
    with translation.override("en"), pytest.raises(InvalidInput) as bad:
        services.set_score_scheme(cases.district_1, actor=admin, grade_a="50", grade_b="75")
    assert bad.value.message == "Grade thresholds must fall from A to D."
    with pytest.raises(InvalidInput):
        services.set_score_scheme(cases.district_1, actor=admin, response_weight="abc")
    with pytest.raises(InvalidInput):
        services.set_score_scheme(cases.district_1, actor=admin, colour="red")
    # Nothing is rounded or cut silently: a column keeps two places, a count none.
    with translation.override("en"), pytest.raises(InvalidInput) as bad:
        services.set_score_scheme(cases.district_1, actor=admin, response_weight="33.335")
    assert (bad.value.message, bad.value.details) == (
        "Weight of the response rate may have at most 2 decimal places.",
        {"field": "response_weight"},
    )
    with translation.override("en"), pytest.raises(InvalidInput) as bad:
        services.set_score_scheme(cases.district_1, actor=admin, list_size="2.5")
    assert bad.value.message == "Places on the red and black lists must be a whole number."
    with pytest.raises(PermissionDenied):
        services.set_score_scheme(
            cases.district_1, actor=cases.persona("district_leader"), list_size=1
        )
    assert ScoreScheme.objects.count() == 0
    services.set_score_scheme(
        cases.district_1,
        actor=admin,
        response_weight="20",
        resolution_weight="40",
        basically_satisfied_value="0.8",
        partly_resolved_value="0",
    )
    ranking = services.publish_ranking(
        cases.district_1,
        month=MARCH,
        subject="street",
        actor=cases.persona("district_leader"),
        now=NOW,
    )
    # As in test_figures: 20 % x 0.5 + 40 % x 0.5 + 40 % x 0.9
    assert ranking.entries.get(region=cases.street_1).score == Decimal("66.00")
    assert AuditEvent.objects.filter(action="score_scheme.set").count() == 1


def _scored(name: str, tenths: int) -> tuple[None, None, str, Figures]:
    """A subject whose three rates are all tenths/10, so its score is tenths x 10."""
    return (
        None,
        None,
        name,
        Figures.of(
            {
                "submitted_count": 10,
                "response_due_count": 10,
                "responded_on_time_count": tenths,
                "rated_count": 10,
                "resolved_count": tenths,
                "satisfied_count": tenths,
            }
        ),
    )


def test_ties_at_the_edge_of_a_list_come_in_whole():
    entries = services.rank(
        [
            _scored("甲", 10),
            _scored("乙", 10),
            _scored("丙", 10),
            _scored("丁", 9),
            _scored("戊", 8),
        ],
        Scheme(list_size=3),
    )
    assert [(e.name, e.position, e.score, e.listed) for e in entries] == [
        ("丙", 1, Decimal("100.00"), "red"),
        ("乙", 1, Decimal("100.00"), "red"),
        ("甲", 1, Decimal("100.00"), "red"),
        ("丁", 4, Decimal("90.00"), "black"),
        ("戊", 5, Decimal("80.00"), "black"),
    ]


def test_when_everyone_ties_nobody_is_listed():
    entries = services.rank([_scored(n, 10) for n in "甲乙丙丁"], Scheme(list_size=3))
    assert {(e.position, e.listed) for e in entries} == {(1, "")}
