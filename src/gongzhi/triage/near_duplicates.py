"""Near-duplicate messages: residents re-post a message with a few words changed.

Two texts are near-duplicates when the Jaccard similarity of their sets of 5-character
shingles (of the text with punctuation and spaces removed, see ``text.squeeze``) is at least
``THRESHOLD``. Finding the pairs compares candidates only: a MinHash signature of 72 hashes
cut into 24 bands of 3 proposes every pair that agrees on a whole band (a pair at Jaccard 0.5
is proposed with probability 0.96, at 0.7 with 0.9999, at 0.2 with 0.18), then the exact
Jaccard of the shingle sets decides. Everything is deterministic: the hashes are CRC-32 and
a fixed seed, not Python's salted ``hash``.

``groups`` joins near-duplicates and messages of the same user into one group, so a
cross-validation can keep each group on one side of every split.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from gongzhi.triage.text import squeeze

SHINGLE = 5
THRESHOLD = 0.5
BANDS = 24
ROWS = 3
_PRIME = 4_294_967_311  # the first prime above 2**32
_rng = np.random.default_rng(20200401)
_A = _rng.integers(1, 2**31, size=BANDS * ROWS, dtype=np.uint64)
_B = _rng.integers(0, _PRIME, size=BANDS * ROWS, dtype=np.uint64)


def shingles(text: str) -> frozenset[int]:
    s = squeeze(text)
    if len(s) <= SHINGLE:
        return frozenset({zlib.crc32(s.encode())}) if s else frozenset()
    return frozenset(zlib.crc32(s[i : i + SHINGLE].encode()) for i in range(len(s) - SHINGLE + 1))


def jaccard(a: frozenset[int], b: frozenset[int]) -> float:
    if not a or not b:
        return 0.0
    inter = len(a & b)
    return inter / (len(a) + len(b) - inter)


def _signature(sh: frozenset[int]) -> np.ndarray:
    x = np.fromiter(sh, dtype=np.uint64, count=len(sh))
    # (a*x + b) mod p with a < 2**31 and x < 2**32: no overflow in 64 bits.
    return ((np.outer(_A, x) + _B[:, None]) % _PRIME).min(axis=1)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Pair:
    first: int
    second: int
    similarity: float


def near_duplicate_pairs(texts: Sequence[str], threshold: float = THRESHOLD) -> list[Pair]:
    """Every pair (i < j) of near-duplicate texts, ordered by (i, j)."""
    sets = [shingles(t) for t in texts]
    buckets: dict[tuple[int, bytes], list[int]] = defaultdict(list)
    for i, sh in enumerate(sets):
        if not sh:
            continue
        sig = _signature(sh)
        for band in range(BANDS):
            buckets[(band, sig[band * ROWS : (band + 1) * ROWS].tobytes())].append(i)
    candidates: set[tuple[int, int]] = set()
    for members in buckets.values():
        if len(members) > 1:
            candidates.update(
                (members[a], members[b])
                for a in range(len(members))
                for b in range(a + 1, len(members))
            )
    pairs = []
    for i, j in sorted(candidates):
        similarity = jaccard(sets[i], sets[j])
        if similarity >= threshold:
            pairs.append(Pair(i, j, round(similarity, 4)))
    return pairs


@dataclass(frozen=True)
class Grouping:
    groups: list[int]  # a group number per message, numbered in order of first appearance
    pairs: list[Pair]  # the near-duplicate pairs found
    same_user_messages: int  # messages whose user posted at least one other message

    @property
    def group_count(self) -> int:
        return len(set(self.groups))

    @property
    def largest_group(self) -> int:
        sizes: dict[int, int] = defaultdict(int)
        for g in self.groups:
            sizes[g] += 1
        return max(sizes.values(), default=0)


def groups(texts: Sequence[str], users: Sequence[str] | None = None) -> Grouping:
    """Join near-duplicates, and messages of one (non-empty) user, into groups."""
    parent = list(range(len(texts)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def union(i: int, j: int) -> None:
        ri, rj = find(i), find(j)
        if ri != rj:
            parent[max(ri, rj)] = min(ri, rj)

    pairs = near_duplicate_pairs(texts)
    for p in pairs:
        union(p.first, p.second)
    first_of_user: dict[str, int] = {}
    counts: dict[str, int] = defaultdict(int)
    for i, user in enumerate(users or ()):
        if not user:
            continue
        counts[user] += 1
        if user in first_of_user:
            union(first_of_user[user], i)
        else:
            first_of_user[user] = i
    numbers: dict[int, int] = {}
    result = [numbers.setdefault(find(i), len(numbers)) for i in range(len(texts))]
    same_user = sum(n for n in counts.values() if n > 1)
    return Grouping(groups=result, pairs=pairs, same_user_messages=same_user)
