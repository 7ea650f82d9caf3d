"""Features from the category tree: which first-level categories the names in a message
belong to.

The project ships a three-level category tree (``cases/data/categories.csv``: level1,
level2, level3). Its second- and third-level names ("物业服务", "出租车管理", "公共汽车",
"景区管理" ...) are the words residents use for the matter they raise. For each name in a
message, the first-level categories it sits under get one count each; the block's value
for a message is that vector of counts over the first-level categories, scaled to unit
length (and then by the block's weight). It tells the learner "this message names things
the tree files under 城乡建设" even for names too rare in the training messages for their
character n-grams to have learnt a weight.

Names are the level-2 and level-3 names, normalised as messages are (``text.normalise``),
and also their parts split at "、" and "和" ("城市建设和市政管理": also "城市建设" and
"市政管理"); names shorter than two characters and "其他" are left out. A name counts once
per message however often it occurs.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import numpy as np

from gongzhi.triage.text import normalise

DEFAULT_TREE = Path(__file__).resolve().parent.parent / "cases" / "data" / "categories.csv"
"""The category tree the project ships (and seeds as its default tree)."""

_SKIP = {"其他"}
_SPLIT = ("、", "和")


def names_from_rows(rows: Iterable[Mapping[str, str]]) -> tuple[list[str], dict[str, list[int]]]:
    """(first-level names, sorted; {name: indices of the first-level names it sits under})."""
    rows = list(rows)
    groups = sorted({(r.get("level1") or "").strip() for r in rows} - {""})
    index = {g: i for i, g in enumerate(groups)}
    names: dict[str, set[int]] = {}
    for r in rows:
        level1 = (r.get("level1") or "").strip()
        if level1 not in index:
            continue
        for level in ("level2", "level3"):
            full = (r.get(level) or "").strip()
            parts = [full]
            for sep in _SPLIT:
                parts = [p for part in parts for p in part.split(sep)]
            for part in {full, *parts}:
                name = normalise(part)
                if len(name) >= 2 and name not in _SKIP:
                    names.setdefault(name, set()).add(index[level1])
    return groups, {n: sorted(g) for n, g in sorted(names.items())}


def read_tree(path: str | Path = DEFAULT_TREE) -> tuple[list[str], dict[str, list[int]]]:
    """The names of a category tree file (UTF-8 CSV with level1, level2, level3 columns)."""
    content = Path(path).read_bytes().decode("utf-8-sig")
    return names_from_rows(csv.DictReader(io.StringIO(content, newline="")))


def name_hits(texts: Sequence[str], names: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """(row, name index) of every name contained in every text, each pair once, sorted.

    One ``str.find`` scan per name over the batch joined by NUL (which no name contains),
    so a batch costs about as much as one message; a name whose first two characters occur
    nowhere in the batch is not scanned for (most names, for one message)."""
    joined = "\0".join(texts)
    starts = np.cumsum([0] + [len(t) + 1 for t in texts[:-1]], dtype=np.int64)
    pairs = {joined[i : i + 2] for i in range(len(joined) - 1)} if len(joined) < 4096 else None
    positions: list[int] = []
    columns: list[int] = []
    for j, name in enumerate(names):
        if pairs is not None and name[:2] not in pairs:
            continue
        pos = joined.find(name)
        while pos != -1:
            positions.append(pos)
            columns.append(j)
            pos = joined.find(name, pos + 1)
    if not positions:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rows = np.searchsorted(starts, np.asarray(positions, dtype=np.int64), side="right") - 1
    cells = np.unique(rows * len(names) + np.asarray(columns, dtype=np.int64))
    return cells // len(names), cells % len(names)
