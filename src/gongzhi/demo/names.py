"""Fictional Chinese place names, drawn deterministically from syllables.

Nothing here is a real place: names are combinations of common naming characters, and
the province code 99 does not exist.
"""

from __future__ import annotations

import random

FIRST = (
    "安宝碧长春翠丹东凤福富广桂海和河红鸿华槐惠嘉金锦晋景静康兰乐丽莲临柳龙绿梅明南宁"
    "平埔齐青清庆瑞山尚升胜石顺松泰桃天通桐万望文西溪霞祥新兴秀旭阳杨怡永裕园云泽樟振"
    "中竹"
)
SECOND = (
    "安北滨波昌城川春岛德东泛丰港光海禾河湖华桦畔江金锦景兰林岭柳龙梅门宁浦桥泉山善水"
    "顺塘亭桐湾西溪霞祥新兴星秀阳屿苑源月岳云泽洲庄"
)
COMMUNITY_SUFFIXES = ("苑", "里", "园", "坊", "湾", "府", "庭", "巷", "路", "桥")
CHINESE_NUMERALS = "一二三四五六七八九十"


def numeral(n: int) -> str:
    """1..99 in Chinese numerals: 1 > 一, 10 > 十, 12 > 十二, 25 > 二十五."""
    if n <= 10:
        return CHINESE_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    head = "" if tens == 1 else CHINESE_NUMERALS[tens - 1]
    return head + "十" + (CHINESE_NUMERALS[ones - 1] if ones else "")


class NamePool:
    """Two-character stems, never repeated within one pool."""

    def __init__(self, seed: int) -> None:
        self.random = random.Random(seed)  # noqa: S311 (deterministic demo data, not security)
        self.used: set[str] = set()

    def stem(self, avoid: set[str] | None = None) -> str:
        avoid = avoid or set()
        for _ in range(10_000):
            candidate = self.random.choice(FIRST) + self.random.choice(SECOND)
            if (
                candidate[0] != candidate[1]
                and candidate not in self.used
                and candidate not in avoid
            ):
                self.used.add(candidate)
                return candidate
        raise RuntimeError("name pool exhausted")

    def community(self, rural: bool) -> str:
        stem = self.stem()
        return f"{stem}村" if rural else f"{stem}{self.random.choice(COMMUNITY_SUFFIXES)}社区"
