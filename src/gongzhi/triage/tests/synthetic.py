"""A tiny labelled data set written for the tests (not the shared data): three first-level
labels, each with its own vocabulary, in short template sentences."""

from __future__ import annotations

import csv
import io
import random
from pathlib import Path

SHARED_DATA = Path(__file__).resolve().parents[4] / ".." / "shared" / "data"
SHARED_TRAIN = SHARED_DATA / "messages" / "train.csv"

TOPICS = {
    "交通运输": ["公交车", "站台", "线路", "红绿灯", "出租车", "停车场", "车站", "司机"],
    "教育文体": ["学校", "老师", "学生", "学费", "幼儿园", "课程", "教室", "校车"],
    "环境保护": ["噪音", "污水", "排放", "垃圾焚烧", "粉尘", "臭味", "河道污染", "油烟"],
}
OPENINGS = ["尊敬的领导：", "您好，", "我想反映：", "请问", "强烈要求"]
PLACES = ["A1区", "A2区", "B3县", "C5区", "东风路", "新华街"]
CLOSINGS = ["希望尽快解决。", "谢谢！", "请有关部门处理。", "盼复。"]


def message(label: str, rng: random.Random) -> str:
    words = rng.sample(TOPICS[label], 3)
    return (
        f"{rng.choice(OPENINGS)}{rng.choice(PLACES)}的{words[0]}问题，"
        f"{words[1]}和{words[2]}一直没有人管，{rng.choice(CLOSINGS)}"
    )


def labelled(per_label: int = 20, seed: int = 7) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    rows = [(message(label, rng), label) for label in TOPICS for _ in range(per_label)]
    rng.shuffle(rows)
    return rows


def to_csv(rows: list[tuple[str, str]], *, users: list[str] | None = None) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["user", "text", "label"])
    for i, (text, label) in enumerate(rows):
        writer.writerow([users[i] if users else "", text, label])
    return out.getvalue().encode()


def write_csv(path: Path, rows: list[tuple[str, str]]) -> Path:
    path.write_bytes(to_csv(rows))
    return path
