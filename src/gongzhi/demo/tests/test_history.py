"""The demo city's year of history: deterministic, shaped as promised, importable once."""

from __future__ import annotations

import collections
import datetime as dt
import io
import itertools
import math
import re

import pytest
from django.core.management import call_command

from gongzhi.cases.choices import CaseKind, Channel, Urgency
from gongzhi.cases.deadlines import SweepReport, sweep_deadlines
from gongzhi.cases.imports import Clock, HistoricalCase, Routes, history_exists
from gongzhi.cases.models import Case, CaseEvent, Category
from gongzhi.core.timeline import verify_chains
from gongzhi.core.working_days import LOCAL, city_calendar
from gongzhi.demo.build import SMALL, build_demo_city
from gongzhi.demo.history import (
    ANONYMOUS,
    CHANNEL_SHARES,
    HISTORY_SEED,
    REJECTED,
    RETURNED,
    SATISFACTION_SHARES,
    TEMPLATES,
    URGENCY_SHARES,
    generate_history,
    import_history,
    load_city,
)

NOW = dt.datetime(2026, 11, 27, 20, 0, tzinfo=LOCAL)
YEAR = 4000  # cases in the shape tests: enough for shares within a percentage point or two


def share(items, predicate) -> float:
    items = list(items)
    return sum(1 for item in items if predicate(item)) / len(items)


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(LOCAL)


@pytest.fixture(scope="module")
def year(django_db_setup, django_db_blocker) -> list[HistoricalCase]:
    """Generated once for the module (it only reads the small demo city). Tests that use it
    ask for ``db`` too, so that they run before transactional tests empty the database."""
    with django_db_blocker.unblock():
        specs = generate_history(YEAR, seed=HISTORY_SEED, now=NOW)
    assert len(specs) == YEAR
    return specs


def near(observed: float, target: float, n: int = YEAR) -> bool:
    """Within three standard deviations of a share drawn ``n`` times."""
    return abs(observed - target) <= 3 * math.sqrt(target * (1 - target) / n)


def test_the_same_seed_and_moment_give_the_same_history(db):
    first = generate_history(300, seed=5, now=NOW)
    assert first == generate_history(300, seed=5, now=NOW)
    assert first == generate_history(300, seed=5, now=NOW, clock=Clock(), routes=Routes())
    other = generate_history(300, seed=6, now=NOW)
    assert [c.title for c in other] != [c.title for c in first]
    later = generate_history(300, seed=5, now=NOW + dt.timedelta(days=1))
    assert [c.submitted_at for c in later] != [c.submitted_at for c in first]
    assert generate_history(0, now=NOW) == []


def test_channels_urgency_and_outcomes_have_the_promised_shares(db, year):
    assert all(type(c.channel) is str and type(c.kind) is str for c in year)
    channels = collections.Counter(c.channel for c in year)
    for channel, target in CHANNEL_SHARES:
        assert near(channels[channel] / YEAR, target), channel
    urgencies = collections.Counter(c.urgency for c in year)
    for urgency, target in URGENCY_SHARES:
        assert near(urgencies[urgency] / YEAR, target), urgency

    def first_action(case):
        return case.steps[0].action if case.steps else ""

    assert near(share(year, lambda c: first_action(c) == "reject"), REJECTED)
    returned = share(year, lambda c: any(s.action == "return" for s in c.steps))
    assert near(returned, RETURNED)
    not_patrol = [c for c in year if c.channel != Channel.GRID_PATROL]
    assert near(share(not_patrol, lambda c: c.is_anonymous), ANONYMOUS, len(not_patrol))
    final_ratings = [
        [s for s in c.steps if s.action == "follow_up"][-1].satisfaction
        for c in year
        if any(s.action == "follow_up" for s in c.steps)
    ]
    assert len(final_ratings) > YEAR * 0.6
    for satisfaction, target in SATISFACTION_SHARES:
        rated = share(final_ratings, lambda r, s=satisfaction: r == s)
        assert near(rated, target, len(final_ratings)), satisfaction
    assert set(CaseKind.values) == {c.kind for c in year}
    assert share(year, lambda c: c.kind == CaseKind.COMPLAINT) < 0.5


def test_places_cover_every_grid_inside_its_box(db, year):
    city = load_city()
    places = {p.region.pk: p for p in city.places}
    assert len(places) == 12  # the small city's grids
    per_place = collections.Counter(c.region_id for c in year)
    assert set(per_place) == set(places)
    assert min(per_place.values()) >= YEAR / len(places) / 4
    for case in year:
        west, south, east, north = places[case.region_id].box
        assert south < case.latitude < north
        assert west < case.longitude < east


def test_times_fill_the_year_with_fewer_cases_at_night_and_on_rest_days(db, year):
    calendar = city_calendar()
    assert all(NOW - dt.timedelta(days=366) < c.submitted_at < NOW for c in year)
    assert [c.submitted_at for c in year] == sorted(c.submitted_at for c in year)
    months = {(local(c.submitted_at).year, local(c.submitted_at).month) for c in year}
    assert len(months) >= 12
    assert share(year, lambda c: local(c.submitted_at).hour < 7) < 0.06
    assert share(year, lambda c: 9 <= local(c.submitted_at).hour < 18) > 0.6
    patrol = [c for c in year if c.channel == Channel.GRID_PATROL]
    assert all(7 <= local(c.submitted_at).hour < 18 for c in patrol)
    days = [local(NOW - dt.timedelta(days=n)).date() for n in range(1, 365)]
    workdays = [d for d in days if calendar.is_workday(d)]
    per_day = collections.Counter(local(c.submitted_at).date() for c in year)
    on_workdays = sum(per_day[d] for d in workdays) / len(workdays)
    on_rest_days = sum(per_day[d] for d in days if d not in workdays) / (len(days) - len(workdays))
    assert 0.5 < on_rest_days / on_workdays < 0.75
    heating = [c for c in year if "暖气" in c.title or "供暖" in c.title]
    assert heating
    assert share(heating, lambda c: local(c.submitted_at).month in (11, 12, 1, 2, 3)) > 0.8


def test_numbers_and_codes(db, year):
    assert all(re.fullmatch(r"H\d{8}-\d{5}", c.number) for c in year)
    for day, group in itertools.groupby(year, key=lambda c: c.number[1:9]):
        cases = list(group)
        assert {local(c.submitted_at).strftime("%Y%m%d") for c in cases} == {day}
        assert [int(c.number[-5:]) for c in cases] == list(range(1, len(cases) + 1))
    codes = [c.tracking_code for c in year]
    assert len(set(codes)) == len(codes)
    assert all(re.fullmatch(r"[2-9A-HJ-NP-Z]{10}", code) for code in codes)


def test_texts_are_filled_in_fictional_and_about_the_place(db, year):
    city = load_city()
    places = {p.region.pk: p for p in city.places}
    for case in year:
        texts = [case.title, case.description, case.address] + [s.text for s in case.steps]
        assert not any("{" in t or "}" in t for t in texts), case.number
        assert 4 <= len(case.title) <= 60
        if case.is_anonymous:
            assert (case.reporter_name, case.reporter_phone) == ("", "")
        else:
            assert re.fullmatch(r"1[3578]\d\*{4}\d{4}", case.reporter_phone)
            assert 2 <= len(case.reporter_name) <= 3
    named = 0
    for case in year:
        place = places[case.region_id]
        names = [place.community, place.street, place.district, *place.roads]
        named += any(name in case.title + case.description for name in names)
    assert named / YEAR > 0.6
    hotline = [c for c in year if c.channel == Channel.HOTLINE]
    assert all(c.description.startswith("来电人反映：") for c in hotline)
    titles = {c.title for c in year}
    assert len(titles) > 400
    used = {c.category_id for c in year}
    paths = dict(Category.objects.filter(pk__in=used).values_list("pk", "path"))
    first_levels = collections.Counter(paths[c.category_id].split("/")[0] for c in year)
    assert first_levels.most_common(1)[0][0] == "城乡建设"
    assert first_levels["城乡建设"] < YEAR * 0.6
    urban = {t.path.split("/")[0] for t in TEMPLATES if t.area != "rural"}
    assert set(first_levels) == urban  # the small city has no counties


def test_urgent_and_dangerous_matters_read_so(db, year):
    dangerous = [c for c in year if c.urgency == Urgency.DANGER]
    danger_paths = {t.path for t in TEMPLATES if t.danger}
    paths = dict(Category.objects.values_list("pk", "path"))
    assert all(paths[c.category_id] in danger_paths for c in dangerous)


@pytest.mark.slow
def test_an_imported_year_is_chained_shaped_and_imported_once(db):
    assert import_history(3000, now=NOW) == 3000
    assert list(verify_chains(CaseEvent)) == []
    cases = Case.objects.filter(number__startswith="H")
    n = cases.count()
    states = collections.Counter(cases.values_list("state", flat=True))
    assert 0.88 < states["closed"] / n < 0.93
    assert 0.02 < states["rejected"] / n < 0.04
    assert 0.04 < (n - states["closed"] - states["rejected"]) / n < 0.09
    rated = list(cases.exclude(satisfaction="").values_list("satisfaction", flat=True))
    for satisfaction, target in SATISFACTION_SHARES:
        assert abs(rated.count(satisfaction) / len(rated) - target) < 0.02
    first_replies: dict[object, bool] = {}
    replies = CaseEvent.objects.filter(action="reply").order_by("seq")
    for case_id, data in replies.values_list("case_id", "data"):
        first_replies.setdefault(case_id, data["on_time"])
    late = share(first_replies.values(), lambda on_time: not on_time)
    assert 0.065 < late < 0.1
    assert 0.05 < cases.filter(return_count__gt=0).count() / n < 0.075
    assert 0.015 < cases.filter(escalation_count__gt=0).count() / n < 0.035
    assert 0.08 < cases.filter(is_supervised=True).count() / n < 0.2
    assert 8 < CaseEvent.objects.count() / n < 10
    assert sweep_deadlines(NOW) == SweepReport()

    events = CaseEvent.objects.count()
    assert import_history(3000, now=NOW + dt.timedelta(days=1)) == 0
    assert (cases.count(), CaseEvent.objects.count()) == (n, events)


def test_the_demo_imports_history_only_when_asked(db):
    assert build_demo_city(SMALL).counts["historical cases"] == 0
    assert not history_exists()
    assert build_demo_city(SMALL, cases=40).counts["historical cases"] == 40
    events = CaseEvent.objects.count()
    assert build_demo_city(SMALL, cases=40).counts["historical cases"] == 40  # not 80
    assert (Case.objects.count(), CaseEvent.objects.count()) == (40, events)


def test_the_demo_command_takes_a_number_of_cases(db, settings):
    settings.GONGZHI_ADMIN_TWO_STEP = True
    out = io.StringIO()
    call_command("demo", "--small", "--cases", "25", stdout=out)
    assert "historical cases 25" in out.getvalue()
    assert Case.objects.filter(number__startswith="H").count() == 25
    # How to look around the back office without an authenticator app.
    assert "GONGZHI_ADMIN_TWO_STEP=0 make run" in out.getvalue()
