"""Is a new message probably the same matter as an earlier one? Pure Python, no database.

Residents report the same matter more than once: the same person re-posts it, neighbours
each write about the same building site, a follow-up comes a week later. At submission the
finder (``queries.duplicate_candidates``) offers staff the open cases that are probably the
same matter, to link or merge; this module scores one pair and ranks candidates.

``same_matter_score(a, b)`` combines three parts, each between 0 and 1:

- **text**: the cosine of the two texts' character-bigram vectors, sublinear term
  frequencies (1 + ln tf) without IDF (so a pair's score needs no corpus), over the title
  and the description normalised as ``text.normalise`` does, with everything but letters
  and digits removed.
- **place**: the mean of what is known of both: the closeness of their map points (1 at the
  same point, 0 at ``NEAR_METRES`` = 1 km or more), or, without both points, of their region
  paths (shared levels over the deeper path's levels: the same grid 1, the same community
  0.8, only the same street 0.6 in a city > district > street > community > grid tree); and
  the overlap of the place names in their texts (names of districts, streets, roads,
  compounds, villages ...: shared names over the smaller set). Nothing known: 0.5.
- **time**: ``0.5 ** (days apart / HALF_LIFE_DAYS)``, a half-life of 14 days; unknown 0.5.

``score = text x (BASE + PLACE_WEIGHT x place + TIME_WEIGHT x time)`` with 0.5, 0.25 and
0.25: the text is the evidence, and place and time scale it between one half (far apart, long
ago) and all of it (the same spot, the same day). Place and time alone never make a match:
in the live finder every candidate is in the same street and recent, so an additive score
would offer any recent case of the street. A pair at or above ``THRESHOLD`` is probably the
same matter. The form, the weights and the half-life were set by hand after a look at the
labelled pairs (docs/triage.md, "Duplicates"); the threshold was chosen by cross-validation
over them.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache

from gongzhi.triage.text import normalise

BASE = 0.5
PLACE_WEIGHT = 0.25
TIME_WEIGHT = 0.25
HALF_LIFE_DAYS = 14.0
NEAR_METRES = 1000.0
UNKNOWN = 0.5
THRESHOLD = 0.18
# The live finder (queries.duplicate_candidates): open cases of the same street submitted in
# the last WINDOW_DAYS days, the newest CANDIDATE_CAP of them.
WINDOW_DAYS = 30
CANDIDATE_CAP = 500

_NON_WORD = re.compile(r"[\W_]+")
# Place names: a run of 2 to 6 letters or digits ending in a word for a kind of place,
# looked for inside the stretches between function characters and punctuation (so that
# "我们小区" or "在路边" yield nothing and "春华镇金鼎村" yields 春华镇 and 金鼎村).
_PLACE_KINDS = (
    "小区|社区|街道|花园|广场|公园|大道|新城|家园|新村|公寓|大厦|商城|市场|医院|小学|中学|大学"
    "|学校|幼儿园|省|市|区|县|镇|乡|村|路|街|巷|苑|湾"
)
_PLACE = re.compile(r"[^\W_]{2,6}?(?:" + _PLACE_KINDS + ")")
_BREAK = re.compile(
    r"[\W_]|[的在了和与是我你他她们有对把被从到向于及这那该其本个一上下内外旁边门口里就都也还已将为要请求问能会没不很]"
)


@dataclass(frozen=True)
class Message:
    """What the score looks at. ``key`` is the caller's (a case id, a message id)."""

    title: str
    text: str
    posted_at: datetime | None = None
    region_path: str = ""
    latitude: float | None = None
    longitude: float | None = None
    key: str = ""


@dataclass(frozen=True)
class DuplicateScore:
    score: float  # text x (0.5 + 0.25 place + 0.25 time), rounded to 4 decimals
    text: float  # each part in [0, 1], rounded to 4 decimals
    place: float
    time: float
    days_apart: float | None  # None when either time is unknown
    shared_places: tuple[str, ...] = ()  # place names both texts mention, sorted

    @property
    def is_probable(self) -> bool:
        return self.score >= THRESHOLD

    def to_json(self) -> dict[str, object]:
        return {
            "score": self.score,
            "text": self.text,
            "place": self.place,
            "time": self.time,
            "days_apart": self.days_apart,
            "shared_places": list(self.shared_places),
        }


@dataclass(frozen=True)
class Match:
    message: Message
    score: DuplicateScore


@dataclass(frozen=True)
class DuplicateCandidate:
    """An open case that is probably the same matter as the case in hand, and why."""

    case_id: str
    number: str
    title: str
    submitted_at: datetime
    score: DuplicateScore


@dataclass(frozen=True)
class _Features:
    vector: dict[str, float] = field(default_factory=dict)  # unit length
    places: frozenset[str] = frozenset()


def place_names(text: str) -> frozenset[str]:
    """The place names a text mentions (see ``_PLACE``): a heuristic, not a gazetteer."""
    return _place_names(unicodedata.normalize("NFKC", text))


def _place_names(text: str) -> frozenset[str]:
    """``place_names`` of a text already in NFKC."""
    names: set[str] = set()
    for stretch in _BREAK.split(text):
        if len(stretch) >= 3:
            names.update(_PLACE.findall(stretch))
    return frozenset(names)


# 1 + ln(n), the weight of a bigram seen n times, for the counts that occur in practice.
_WEIGHTS = [0.0, *(1.0 + math.log(n) for n in range(1, 64))]


def _bigram_vector(text: str) -> dict[str, float]:
    s = _NON_WORD.sub("", normalise(text))
    grams = Counter(map(str.__add__, s, s[1:])) if len(s) > 1 else Counter(s)
    weights = {g: _WEIGHTS[n] if n < 64 else 1.0 + math.log(n) for g, n in grams.items()}
    norm = math.sqrt(sum(w * w for w in weights.values()))
    return {g: w / norm for g, w in weights.items()} if norm else {}


def _features(m: Message) -> _Features:
    return _text_features(f"{m.title}\n{m.text}")


# The candidates of one street are scored again on every view of a case there: their
# features are kept per process for the texts seen last (about 15 KB each, so this is a
# few MB at most; they depend on the text alone, so they never go stale).
FEATURE_CACHE_SIZE = 1024


@lru_cache(maxsize=FEATURE_CACHE_SIZE)
def _text_features(full: str) -> _Features:
    # NFKC once: both features read the text in that form (normalising twice costs as much as
    # counting the bigrams).
    full = unicodedata.normalize("NFKC", full)
    return _Features(vector=_bigram_vector(full), places=_place_names(full))


def clear_feature_cache() -> None:
    _text_features.cache_clear()


def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
    if len(a) > len(b):
        a, b = b, a
    return min(1.0, sum(w * b.get(g, 0.0) for g, w in a.items()))


def distance_metres(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine, Earth radius 6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    h = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_000.0 * math.asin(min(1.0, math.sqrt(h)))


def region_closeness(a: str, b: str) -> float:
    """Shared levels of two materialised paths ("990100000000/990102000000/") over the
    deeper path's levels."""
    pa, pb = a.strip("/").split("/"), b.strip("/").split("/")
    shared = 0
    for x, y in zip(pa, pb, strict=False):
        if x != y:
            break
        shared += 1
    return shared / max(len(pa), len(pb))


def _place(a: Message, b: Message, fa: _Features, fb: _Features) -> tuple[float, tuple[str, ...]]:
    signals: list[float] = []
    if None not in (a.latitude, a.longitude, b.latitude, b.longitude):
        d = distance_metres(a.latitude, a.longitude, b.latitude, b.longitude)  # type: ignore[arg-type]
        signals.append(max(0.0, 1.0 - d / NEAR_METRES))
    elif a.region_path and b.region_path:
        signals.append(region_closeness(a.region_path, b.region_path))
    shared = fa.places & fb.places
    if fa.places and fb.places:
        signals.append(len(shared) / min(len(fa.places), len(fb.places)))
    place = sum(signals) / len(signals) if signals else UNKNOWN
    return place, tuple(sorted(shared))


def _score(a: Message, b: Message, fa: _Features, fb: _Features) -> DuplicateScore:
    text = _cosine(fa.vector, fb.vector)
    place, shared = _place(a, b, fa, fb)
    if a.posted_at is not None and b.posted_at is not None:
        days = abs((a.posted_at - b.posted_at).total_seconds()) / 86400.0
        time = 0.5 ** (days / HALF_LIFE_DAYS)
    else:
        days, time = None, UNKNOWN
    total = text * (BASE + PLACE_WEIGHT * place + TIME_WEIGHT * time)
    return DuplicateScore(
        score=round(total, 4),
        text=round(text, 4),
        place=round(place, 4),
        time=round(time, 4),
        days_apart=None if days is None else round(days, 2),
        shared_places=shared,
    )


def same_matter_score(a: Message, b: Message) -> DuplicateScore:
    return _score(a, b, _features(a), _features(b))


def score_many(new: Message, candidates: Iterable[Message]) -> list[DuplicateScore]:
    """The score of ``new`` against each candidate, in the candidates' order."""
    fn = _features(new)
    return [_score(new, c, fn, _features(c)) for c in candidates]


def rank_candidates(
    new: Message, candidates: Sequence[Message], top: int = 5, threshold: float = THRESHOLD
) -> list[Match]:
    """Candidates scoring at least ``threshold``, best first (ties: the newer first, then
    by key), at most ``top`` of them."""
    scores = score_many(new, candidates)
    matches = [Match(c, s) for c, s in zip(candidates, scores, strict=True) if s.score >= threshold]
    matches.sort(key=lambda m: m.message.key)
    matches.sort(
        key=lambda m: m.message.posted_at.timestamp() if m.message.posted_at else float("-inf"),
        reverse=True,
    )
    matches.sort(key=lambda m: m.score.score, reverse=True)
    return matches[: max(0, top)]
