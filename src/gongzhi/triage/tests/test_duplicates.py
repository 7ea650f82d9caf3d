"""The duplicate finder: the score of a pair, ranking, the live finder over open cases, and
its figures on the labelled pairs (docs/triage.md, "Duplicates")."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from unittest import mock
from zoneinfo import ZoneInfo

import pytest

from gongzhi.cases import services
from gongzhi.cases.choices import CaseKind, Channel
from gongzhi.cases.models import Case, Category
from gongzhi.cases.services import NewCase
from gongzhi.demo.testing import World
from gongzhi.territory.models import Region
from gongzhi.triage import duplicates
from gongzhi.triage.duplicate_evaluation import best_threshold, evaluate_pairs, parse_posted_at
from gongzhi.triage.duplicates import (
    THRESHOLD,
    Message,
    place_names,
    rank_candidates,
    region_closeness,
    same_matter_score,
)
from gongzhi.triage.queries import duplicate_candidates

LOCAL = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 6, 10, 10, 15, tzinfo=LOCAL)
GREENING = "城乡建设/城市建设和市政管理/园林绿化环卫"
REPO = Path(__file__).resolve().parents[4]
SHARED_DATA = REPO / ".." / "shared" / "data"
PAIRS = Path(duplicates.__file__).parent / "data" / "duplicate_pairs.csv"

# Hand-written messages (not from the shared data).
DRAIN = (
    "春山路菜市场门口下水道堵塞",
    "春山路菜市场门口的下水道堵了三天，污水漫到人行道上，气味很大，请尽快疏通。",
)
DRAIN_AGAIN = (
    "春山路菜市场下水道又堵了",
    "菜市场门口下水道堵塞，污水流到人行道，臭味很重，希望派人疏通。",
)
FITNESS = ("小区健身器材损坏", "华东湾社区的健身器材有两个坏了，螺丝松动，老人小孩用着不安全。")


def day(n: float) -> dt.datetime:
    return NOW + dt.timedelta(days=n)


def test_each_part_by_hand():
    # Bigrams 甲乙 乙丙 against 甲乙 乙丁: one of two shared, tf 1 each: cosine 1/2.
    # No place known: 0.5. Seven days apart, half-life 14: 0.5 ** 0.5 = 0.70711.
    # Score: 0.5 x (0.5 + 0.25 x 0.5 + 0.25 x 0.70711) = 0.40089.
    a = Message("甲乙丙", "", posted_at=day(0))
    b = Message("甲乙丁", "", posted_at=day(7))
    s = same_matter_score(a, b)
    assert (s.text, s.place, s.time, s.days_apart) == (0.5, 0.5, 0.7071, 7.0)
    assert s.score == 0.4009
    assert s.shared_places == ()


def test_features_are_kept_per_text_and_scores_do_not_change():
    """A view again of a case scores its street's candidates from the per-process cache."""
    new = Message(*DRAIN, posted_at=day(0))
    pool = [Message(*DRAIN_AGAIN, posted_at=day(1)), Message(*FITNESS, posted_at=day(2))]
    duplicates.clear_feature_cache()
    cold = duplicates.score_many(new, pool)
    assert duplicates._text_features.cache_info().misses == 3
    warm = duplicates.score_many(new, pool)
    assert duplicates._text_features.cache_info().hits == 3
    assert warm == cold
    duplicates.clear_feature_cache()
    assert duplicates._text_features.cache_info().currsize == 0


def test_identical_text_same_point_same_time_scores_one():
    a = Message(*DRAIN, posted_at=day(0), latitude=30.0, longitude=120.0)
    s = same_matter_score(a, a)
    assert (s.score, s.text, s.place, s.time, s.days_apart) == (1.0, 1.0, 1.0, 1.0, 0.0)
    assert s.shared_places == ("春山路",)
    assert s.is_probable


def test_a_repeated_report_and_another_matter():
    first = Message(*DRAIN, posted_at=day(0))
    again = Message(*DRAIN_AGAIN, posted_at=day(2))
    other = Message(*FITNESS, posted_at=day(2))
    same = same_matter_score(first, again)
    # Both name 春山路 and nothing else in common: place 1; 0.5 ** (2/14) = 0.90572.
    assert (same.score, same.text, same.place, same.time) == (0.6339, 0.6492, 1.0, 0.9057)
    assert same.shared_places == ("春山路",)
    assert same.is_probable
    # No bigram in common: nothing, however close in place and time.
    different = same_matter_score(first, other)
    assert (different.score, different.text, different.place, different.time) == (
        0.0,
        0.0,
        0.0,
        0.9057,
    )
    assert not different.is_probable


def test_place_from_points_and_from_region_paths():
    # 0.0045 degrees of latitude is 500 m: closeness 1 - 500/1000.
    a = Message("甲乙丙", "", latitude=30.0, longitude=120.0)
    b = Message("甲乙丙", "", latitude=30.0045, longitude=120.0)
    assert same_matter_score(a, b).place == 0.4996
    assert same_matter_score(a, b).score == 0.7499  # 1 x (0.5 + 0.25 x 0.4996 + 0.25 x 0.5)
    grid = "990100000000/990102000000/990102001000/990102001001/990102001001001/"
    other_grid = "990100000000/990102000000/990102001000/990102001002/990102001002001/"
    other_district = "990100000000/990103000000/990103001000/"
    assert region_closeness(grid, grid) == 1.0
    assert region_closeness(grid, other_grid) == 0.6
    assert region_closeness(grid, other_district) == 0.2
    c = Message("甲乙丙", "", region_path=grid)
    d = Message("甲乙丙", "", region_path=other_grid)
    assert same_matter_score(c, d).place == 0.6
    # Points win over paths when both messages have them.
    e = Message("甲乙丙", "", region_path=grid, latitude=30.0, longitude=120.0)
    f = Message("甲乙丙", "", region_path=other_district, latitude=30.0, longitude=120.0)
    assert same_matter_score(e, f).place == 1.0


def test_place_names():
    assert place_names("春华镇金鼎村的水泥路，我们小区门口") == frozenset(
        {"春华镇", "金鼎村", "水泥路"}
    )
    assert place_names("") == frozenset()


def test_rank_candidates_keeps_those_at_or_above_the_threshold_best_first():
    new = Message(*DRAIN_AGAIN, posted_at=day(3), key="new")
    older = Message(*DRAIN, posted_at=day(0), key="older")
    newer = Message(*DRAIN, posted_at=day(1), key="newer")
    twin = Message(*DRAIN, posted_at=day(1), key="twin")
    other = Message(*FITNESS, posted_at=day(3), key="other")
    ranked = rank_candidates(new, [older, other, twin, newer])
    assert [(m.message.key, m.score.score) for m in ranked] == [
        ("newer", 0.6339),
        ("twin", 0.6339),
        ("older", 0.6268),
    ]
    assert [m.message.key for m in rank_candidates(new, [older, newer, twin], top=1)] == ["newer"]
    # At the threshold is in, a hair below is out.
    assert [m.message.key for m in rank_candidates(new, [older], threshold=0.6268)] == ["older"]
    assert rank_candidates(new, [older], threshold=0.62681) == []
    assert rank_candidates(new, [other]) == []
    assert THRESHOLD == 0.18


def test_best_threshold_and_dates():
    assert best_threshold([0.1, 0.2, 0.4, 0.9], [0, 0, 1, 1]) == pytest.approx(0.3)
    assert parse_posted_at("2019/2/28 11:25:05") == dt.datetime(2019, 2, 28, 11, 25, 5)  # noqa: DTZ001
    assert parse_posted_at("2017-06-08 17:31:20") == dt.datetime(2017, 6, 8, 17, 31, 20)  # noqa: DTZ001
    assert parse_posted_at("") is None


# --- The live finder ------------------------------------------------------------------------


def submit(world: World, text: tuple[str, str], region: Region, when: dt.datetime) -> Case:
    new = NewCase(
        title=text[0],
        description=text[1],
        kind=CaseKind.COMPLAINT,
        channel=Channel.WEB,
        region=region,
        category=Category.objects.get(path=GREENING),
        reporter_name="林小雨",
        reporter_phone="13800138000",
    )
    with mock.patch("django.utils.timezone.now", return_value=when):
        return services.submit_case(new, actor=world.persona("resident"))


def test_the_finder_offers_open_cases_of_the_same_street(world: World, django_assert_num_queries):
    original = submit(world, DRAIN, world.grid_1, day(-3))
    submit(world, FITNESS, world.grid_1, day(-1))  # another matter
    submit(world, DRAIN, world.street_of_district_2, day(-1))  # another street
    submit(world, DRAIN, world.grid_1, day(-31))  # too old
    rejected = submit(world, DRAIN, world.grid_1, day(-2))
    merged = submit(world, DRAIN, world.grid_1, day(-2))
    dispatcher = world.persona("dispatcher")
    with mock.patch("django.utils.timezone.now", return_value=day(-1)):
        services.reject_case(rejected, actor=dispatcher, reason="不属于受理范围")
        services.merge_case(merged, into=original, actor=dispatcher)
    new = submit(world, DRAIN_AGAIN, world.grid_1, NOW)

    with django_assert_num_queries(1):
        found = duplicate_candidates(new, now=NOW)

    assert [(c.case_id, c.number, c.title) for c in found] == [
        (str(original.pk), original.number, DRAIN[0])
    ]
    s = found[0].score
    assert found[0].submitted_at == day(-3)
    # Same grid (1.0) and the shared 春山路 (1.0); three days apart: 0.5 ** (3/14) = 0.86196.
    assert (s.score, s.text, s.place, s.time, s.days_apart) == (0.6268, 0.6492, 1.0, 0.862, 3.0)
    # Seen from the original, the new case is the candidate, with the same score.
    seen = duplicate_candidates(original, now=NOW)
    assert [(c.case_id, c.score) for c in seen] == [(str(new.pk), s)]
    assert duplicate_candidates(new, now=NOW, top=0) == []


def test_the_finder_looks_only_at_the_last_thirty_days(world: World):
    original = submit(world, DRAIN, world.grid_1, day(-3))
    new = submit(world, DRAIN_AGAIN, world.grid_1, NOW)
    assert [c.case_id for c in duplicate_candidates(new, now=day(26))] == [str(original.pk)]
    assert duplicate_candidates(new, now=day(28)) == []


# --- The figures in docs/triage.md ----------------------------------------------------------


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_DATA.exists(), reason="needs ../shared/data")
def test_figures_on_the_labelled_pairs():
    report = evaluate_pairs(PAIRS, SHARED_DATA)
    assert report["pairs"]["rows"] == 306
    assert report["pairs"]["positive"] == 190
    shipped = report["finder"]["shipped"]
    assert (shipped["threshold"], shipped["tp"], shipped["fp"], shipped["fn"]) == (
        0.18,
        173,
        22,
        17,
    )
    assert [round(shipped[k], 3) for k in ("precision", "recall", "f1")] == [0.887, 0.911, 0.899]
    cv = report["finder"]["cv"]
    assert [round(cv[k]["mean"], 3) for k in ("precision", "recall", "f1")] == [0.843, 0.935, 0.884]
    assert [round(cv[k]["std"], 3) for k in ("precision", "recall", "f1")] == [0.056, 0.055, 0.028]
    assert round(cv["median_threshold"], 3) == 0.177
    base = report["baseline_shingle_jaccard"]
    assert [round(base["cv"][k]["mean"], 3) for k in ("precision", "recall", "f1")] == [
        0.848,
        0.951,
        0.896,
    ]
    at_half = base["at_near_duplicate_threshold"]
    assert (round(at_half["precision"], 3), round(at_half["recall"], 3)) == (0.979, 0.247)


def test_the_command_prints_the_figures(tmp_path: Path):
    import json

    from django.core.management import call_command

    texts = [DRAIN, DRAIN_AGAIN, FITNESS, DRAIN_AGAIN, DRAIN, DRAIN_AGAIN, FITNESS, DRAIN]
    (tmp_path / "board.csv").write_text(
        "message_id,title,posted_at,detail\n"
        + "".join(f"{i},{t[0]},2026/6/{i} 9:00:00,{t[1]}\n" for i, t in enumerate(texts, 1)),
        encoding="utf-8",
    )
    pairs = tmp_path / "pairs.csv"
    pairs.write_text(
        "file,id_a,id_b,label,reason\n"
        "board.csv,1,2,1,same drain\n"
        "board.csv,3,4,0,other matter\n"
        "board.csv,5,6,1,same drain\n"
        "board.csv,7,8,0,other matter\n",
        encoding="utf-8",
    )
    out = io.StringIO()
    call_command(
        "triage", "duplicates", "--pairs", str(pairs), "--data-dir", str(tmp_path),
        "--folds", "2", "--repeats", "1", "--json", stdout=out,
    )  # fmt: skip
    report = json.loads(out.getvalue())
    assert report["pairs"]["rows"] == 4
    assert (report["pairs"]["positive"], report["pairs"]["groups"]) == (2, 4)
    shipped = report["finder"]["shipped"]
    assert (shipped["tp"], shipped["fp"], shipped["fn"], shipped["f1"]) == (2, 0, 0, 1.0)
