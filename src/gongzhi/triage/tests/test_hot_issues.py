"""Hot issues: places, clusters and heat on messages written here, the live query on cases
submitted in the small demo city, the command, and a slice of the shared data."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import random

import pytest
from django.core.management import call_command
from django.utils import timezone

from gongzhi.cases import services
from gongzhi.cases.choices import CaseKind, Channel
from gongzhi.cases.services import NewCase
from gongzhi.demo.testing import World
from gongzhi.triage import hot_issues as h
from gongzhi.triage.queries import hot_issues_in
from gongzhi.triage.tests.synthetic import SHARED_DATA

SHARED_HOT = SHARED_DATA / "hot_issues" / "messages_with_votes.csv"
D = dt.datetime
M = h.Message

MESSAGES = [
    M(
        "n1",
        "春晓花园旁边的工地每天晚上施工到凌晨，噪音很大，影响休息。",
        D(2024, 5, 1, 22),
        title="春晓花园工地夜间施工噪音扰民",
        likes=3,
        author="u1",
    ),
    M(
        "n2",
        "春晓花园隔壁工地夜里还在施工打桩，吵得孩子睡不着。",
        D(2024, 5, 2, 23),
        title="春晓花园附近工地夜间施工噪音",
        likes=5,
        author="u2",
    ),
    M(
        "n3",
        "东湖路春晓花园北侧工地晚上施工噪音扰民，请城管查处。",
        D(2024, 5, 4, 21),
        title="投诉春晓花园工地夜间施工噪音",
        dislikes=2,
        author="u3",
    ),
    M(
        "n4",
        "春晓花园工地夜间施工噪音还是很大，投诉后没有改善。",
        D(2024, 5, 6, 22),
        title="春晓花园工地夜间施工噪音仍未解决",
        likes=1,
        author="u1",
    ),
    M(
        "r1",
        "新华路上有好几个大坑，下雨天积水，骑电动车很危险。",
        D(2024, 5, 3, 9),
        title="新华路路面坑洼积水",
        likes=2,
        author="u4",
    ),
    M(
        "r2",
        "新华路的坑洼路面一直没修，昨天又有人摔倒了。",
        D(2024, 5, 5, 10),
        title="新华路坑洼路面何时修复",
        likes=4,
        author="u5",
    ),
    M(
        "s1",
        "图书馆周末开放时间太短，希望延长到晚上九点。",
        D(2024, 5, 4, 15),
        title="建议延长图书馆周末开放时间",
        likes=7,
        author="u6",
    ),
    # The same matter as n1-n4, but three months later: outside the time window.
    M(
        "n5",
        "春晓花园工地夜间施工噪音很大，晚上无法入睡。",
        D(2024, 8, 20, 22),
        title="春晓花园工地夜间施工噪音",
        author="u7",
    ),
]
NOW = D(2024, 5, 7)


def test_places_and_administrative_names():
    assert h.places("A市A3区东湖路春晓花园3栋楼下每天晚上施工噪音很大") == ["东湖路", "春晓花园"]
    assert h.admin_places("A市A3区东湖路春晓花园3栋楼下") == ["A市", "A3区"]
    # An estate is named without 小区; a street office is a place too.
    assert h.places("我住在A5区桂香街道青松小区，小区门口的路灯坏了") == ["桂香街道", "青松"]
    assert h.places("建议在新华路和民主街路口增设红绿灯") == ["新华路", "民主街"]
    assert h.places("A市的公交车太挤了") == []
    assert h.same_place({"绿地海外滩"}, {"海外滩"})
    assert not h.same_place({"新华路"}, {"华路"})


def test_clusters_ranked_by_heat():
    clusters = h.hot_issues(MESSAGES, now=NOW)

    assert [c.ids for c in clusters] == [
        ("n1", "n2", "n3", "n4"),
        ("r1", "r2"),
        ("s1",),
        ("n5",),
    ]
    noise, road = clusters[0], clusters[1]
    assert noise.label == "春晓花园 工地 施工 春晓"
    assert noise.places == ("春晓花园", "东湖路")
    assert (noise.first_at, noise.last_at) == (D(2024, 5, 1, 22), D(2024, 5, 6, 22))
    assert noise.span_days == 5.0
    assert (noise.likes, noise.dislikes) == (9, 2)
    # 3 posters (u1 twice), votes 9 + 2/2 = 10, 4 messages in the last 7 days and none in
    # the 21 before, 4 messages over a span under a week.
    assert noise.heat == h.Heat(
        heat=7.473,
        posters=3,
        votes=10.0,
        recent=4,
        earlier=0,
        growth=1.6094,
        pace=4.0,
        parts={"posters": 2.7726, "votes": 2.3979, "growth": 1.6094, "pace": 0.6931},
    )
    assert road.label == "新华路 新华路 坑洼 路面"
    assert road.heat.heat == 5.5883
    # n5: nothing in the last 28 days, no likes: one poster is all its heat.
    assert clusters[3].heat.parts == {"posters": 1.3863, "votes": 0.0, "growth": 0.0, "pace": 0.0}


def test_min_size_top_and_growth():
    assert [c.ids for c in h.hot_issues(MESSAGES, now=NOW, min_size=2)] == [
        ("n1", "n2", "n3", "n4"),
        ("r1", "r2"),
    ]
    assert len(h.hot_issues(MESSAGES, now=NOW, top=1)) == 1
    # Seen a fortnight later, the noise cluster is cooling: 0 recent, 4 earlier.
    later = h.hot_issues(MESSAGES, now=D(2024, 5, 20), min_size=2)[0]
    assert (later.heat.recent, later.heat.earlier, later.heat.growth) == (0, 4, -0.8473)
    assert h.hot_issues([], now=NOW) == []


def test_deterministic_whatever_the_order():
    first = h.hot_issues(MESSAGES, now=NOW)
    shuffled = list(MESSAGES)
    random.Random(3).shuffle(shuffled)
    assert h.hot_issues(shuffled, now=NOW) == first
    assert h.hot_issues(list(reversed(MESSAGES)), now=NOW) == first


def _csv(messages: list[h.Message]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["message_id", "user", "title", "posted_at", "detail", "dislikes", "likes"])
    for m in messages:
        w.writerow(
            [
                m.id,
                m.author,
                m.title,
                m.posted_at.strftime("%Y/%m/%d %H:%M:%S"),
                m.text,
                m.dislikes,
                m.likes,
            ]
        )
    return out.getvalue()


def test_the_command(tmp_path):
    path = tmp_path / "votes.csv"
    path.write_text(_csv(MESSAGES[:7]), encoding="utf-8")
    out = io.StringIO()
    call_command("triage", "hot-issues", "--data", str(path), "--top", "2", "--json", stdout=out)
    report = json.loads(out.getvalue())
    assert report["data"]["rows"] == 7
    assert report["now"] == "2024-05-06T22:00:00"
    assert [c["ids"] for c in report["clusters"]] == [["n1", "n2", "n3", "n4"], ["r1", "r2"]]
    assert report["clusters"][0]["messages"] == 4
    assert report["clusters"][0]["likes"] == 9
    assert report["clusters"][0]["span_days"] == 5.0
    out = io.StringIO()
    call_command("triage", "hot-issues", "--data", str(path), "--min-size", "2", stdout=out)
    lines = out.getvalue().splitlines()
    assert len(lines) == 3
    assert "4 messages, 3 posters, 9 likes" in lines[1]
    assert "ids: n1 n2 n3 n4" in lines[1]


def _submit(world: World, title: str, description: str, at: dt.datetime, region=None):
    new = NewCase(
        title=title,
        description=description,
        kind=CaseKind.COMPLAINT,
        channel=Channel.WEB,
        region=region or world.grid_1,
    )
    return services.submit_case(new, actor=world.persona("resident"), submitted_at=at)


@pytest.mark.django_db
def test_hot_issues_in_a_region(world: World, django_assert_num_queries):
    now = timezone.now()
    noise = [
        _submit(world, m.title, m.text, now - dt.timedelta(days=6 - i))
        for i, m in enumerate(MESSAGES[:4])
    ]
    road = [
        _submit(world, m.title, m.text, now - dt.timedelta(hours=60 - 24 * i))
        for i, m in enumerate(MESSAGES[4:6])
    ]
    _submit(world, MESSAGES[6].title, MESSAGES[6].text, now - dt.timedelta(days=1))
    # The same matter long ago, and in another district: neither counts.
    _submit(world, MESSAGES[0].title, MESSAGES[0].text, now - dt.timedelta(days=40))
    _submit(
        world,
        MESSAGES[1].title,
        MESSAGES[1].text,
        now - dt.timedelta(days=1),
        region=world.street_of_district_2,
    )

    with django_assert_num_queries(1):
        issues = hot_issues_in(world.district_1.path, now)

    assert [[c.id for c in issue.cases] for issue in issues] == [
        [c.id for c in noise],
        [c.id for c in road],
    ]
    first = issues[0]
    assert first.label == "春晓花园 工地 施工 春晓"
    assert first.places[:2] == ("春晓花园", world.community_1.path)
    assert (first.case_count, first.poster_count) == (4, 1)  # one resident submitted all
    assert (first.recent_count, first.earlier_count) == (4, 0)
    assert first.cases[0].number == noise[0].number
    assert first.cases[0].title == MESSAGES[0].title
    assert first.heat == round(sum(first.heat_parts.values()), 4)

    # Bounded: only the newest `cap` cases are read.
    assert [len(i.cases) for i in hot_issues_in(world.district_1.path, now, cap=3)] == [2]
    # Nothing in another subtree's window.
    assert hot_issues_in(world.district_2.path, now, days=0) == []


@pytest.mark.skipif(not SHARED_HOT.exists(), reason=f"shared data missing: {SHARED_HOT}")
def test_a_slice_of_the_shared_data():
    with SHARED_HOT.open(encoding="utf-8-sig") as f:
        rows = list(csv.DictReader(f))[:400]
    messages = h.read_messages(rows)
    clusters = h.hot_issues(messages, top=None)
    assert sorted(i for c in clusters for i in c.ids) == sorted(m.id for m in messages)
    heats = [c.heat.heat for c in clusters]
    assert heats == sorted(heats, reverse=True)
    assert h.hot_issues(list(reversed(messages)), top=None) == clusters


@pytest.mark.django_db
def test_snapshots_of_the_city_and_districts_serve_every_region(
    world: World, django_assert_num_queries
):
    from gongzhi.triage.models import HotIssueSnapshot
    from gongzhi.triage.queries import hot_issues_for
    from gongzhi.triage.services import refresh_hot_issues

    now = timezone.now()
    noise = [
        _submit(world, m.title, m.text, now - dt.timedelta(days=6 - i))
        for i, m in enumerate(MESSAGES[:4])
    ]
    # The city and its 2 districts in the small demo city.
    assert refresh_hot_issues(now) == 3
    assert HotIssueSnapshot.objects.count() == 3
    assert refresh_hot_issues(now) == 3  # idempotent: still one snapshot per region
    assert HotIssueSnapshot.objects.count() == 3

    with django_assert_num_queries(1):
        street = hot_issues_for(world.street_1.path)
    assert [[c["id"] for c in i.cases] for i in street] == [[str(c.id) for c in noise]]
    assert street[0].label == "春晓花园 工地 施工 春晓"
    assert street[0].computed_at == now
    assert street[0].case_count == 4
    # The other district: no case of the cluster there.
    assert hot_issues_for(world.street_of_district_2.path) == []
    # No snapshot at all: nothing, not an error.
    HotIssueSnapshot.objects.all().delete()
    assert hot_issues_for(world.grid_1.path) == []
