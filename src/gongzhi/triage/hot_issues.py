"""Hot issues: clusters of related messages (same matter, same place, close in time), ranked
by heat. Pure: no Django models; ``queries.hot_issues_in`` feeds it cases, the ``triage
hot-issues`` command feeds it a CSV file.

Places. The shared data anonymises cities and districts (A市, A3区, K9县); streets, estates,
roads, schools ... keep their names. ``places`` cuts the anonymised administrative names out
with a regular expression, splits the rest with jieba (dictionary only), and takes as a
place each place word (路, 街道, 小区, 花园, 苑, 村, 学校, 医院 ... see ``_SUFFIXES``) with
the name-like words just before it (at most three words and eight characters, stopping at
punctuation, function words and another place word): "联丰路", "景蓉华苑", "魅力之城小区".
A building ("G2栋") stands for its estate (the name before it). Live, the case's community
(or grid) region path is a place too.

Clustering. A message's words are jieba's words of its title (counted twice) and detail,
without function words and one-character words, plus its places as whole words; TF-IDF of
those (1 + ln tf, smooth idf, unit rows). Two messages are linked when they are posted at
most ``window_days`` apart and their cosine, plus ``PLACE_BONUS`` when they share a place or
minus ``PLACE_PENALTY`` when both name places and share none, is at least
``link_threshold``. Links are taken strongest first (ties by position) and join two
clusters only if the cosine of the clusters' centroids is at least ``merge_threshold``: a
centroid-linkage agglomeration restricted to the links, so a chain of weak links cannot
join unrelated matters. Similarities are computed in blocks of rows, so memory stays
bounded. Same input, same clusters: no randomness, no dependence on dict or set order.

Heat (``heat_of``), of a cluster of n messages from p distinct posters, with L likes, D
dislikes, first and last message t0 and t1, at the time ``now``::

    heat = 2·ln(1 + p)                          how many people raise it
         + ln(1 + L + D/2)                      how many people reacted to it
         + ln((r + 1) / (e·7/21 + 1))           growth: r messages in the 7 days up to now,
                                                e in the 21 days before (0 when both are 0)
         + 0.5·ln(n / max(1, (t1 − t0)/7 days)) pace: messages a week over its span

Each part is returned with the heat, so a page can show why a cluster ranks where it does.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import numpy as np
from scipy import sparse  # type: ignore[import-untyped]

from gongzhi.triage.text import _jieba

WINDOW_DAYS = 30
LINK_THRESHOLD = 0.4
MERGE_THRESHOLD = 0.3
PLACE_BONUS = 0.1
PLACE_PENALTY = 0.1
MIN_SIZE = 1
RECENT_DAYS = 7
BASELINE_DAYS = 21
TITLE_WEIGHT = 2  # a title's words count this many times
MAX_CHARS = 1000  # of a body read (a longer tail adds time, not matter)
BLOCK = 512  # rows of the similarity matrix computed at once

# Anonymised administrative names: A市, A3区, K9县 (and 西地省, the province).
_ADMIN = re.compile(r"[A-Z]\d{0,2}[市区县]|西地省|经开区|高新区")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_CJK_RUN = re.compile(r"[\u4e00-\u9fff]+")
_NAME_TOKEN = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]+")
_SPACE = re.compile(r"\s+")


def _set(words: str) -> frozenset[str]:
    return frozenset(words.split())


# A place word ends a place name.
_SUFFIXES = _set(
    "路 街 大道 巷 街道 社区 村 镇 乡 小区 花园 苑 园 家园 新城 城 广场 大厦 公寓 山庄 公馆 "
    "湾 府 庭 郡 学校 小学 中学 大学 学院 幼儿园 医院 卫生院 公园 市场 车站 高铁站 地铁站 "
    "桥 大桥 隧道 立交 商场 工业园 产业园"
)
# A building stands for its estate: "米兰春天G2栋" is 米兰春天.
_BUILDINGS = _set("栋 幢 单元 号楼 期")
# An estate is named without these: 丽发新城小区 and 丽发新城社区 are 丽发新城.
_ESTATE_WORDS = ("小区", "社区")
_PHASE = re.compile(r"[一二三四五六七八九十\d]+期")
# Words that end a name when read backwards from a place word.
_STOP = _set(
    "的 在 和 与 及 到 从 对 是 有 了 把 被 由 距 旁 近 靠 沿 经 过 至 往 向 于 为 将 就 都 也 "
    "还 又 而 或 但 我 你 他 她 它 们 该 此 本 这 那 各 每 某 其 个 条 号 处 里 内 外 上 下 "
    "前 后 中 等 住 系 即 现 以 位于 坐落 座落在 坐落在 地处 位置 关于 反映 请问 请 咨询 "
    "投诉 举报 建议 "
    "要求 希望 问题 情况 附近 周边 一带 所在 整个 这条 这个 那个 我们 我家 我们的 居住 住在 "
    "距离 门口 对面 旁边 一个 一些 道路 马路 公路 小 新 老 大 目前 现在 今年 去年 明年 最近 近期 "
    "当时 以前 之前 以后 今天 昨天 每天 晚上 早上 夜间 夜里 白天 周末 平时"
)
# Not places on their own: a place word with one of these (or nothing) before it.
_GENERIC = _set("马 道 公 街 小 大 新 老 城 乡 农 村 市 区 县 省 本 该 此")

# Words too common to say what a message is about.
_STOPWORDS = _set(
    "问题 反映 希望 领导 你好 您好 请问 相关 部门 我们 现在 已经 没有 一个 这个 那个 因为 "
    "所以 但是 可以 什么 如何 怎么 为什么 是否 还是 而且 如果 就是 自己 他们 这些 那些 进行 "
    "要求 情况 尊敬 谢谢 感谢 请求 恳请 关注 解决 处理 有关 政府 目前 至今 一直 不是 这样 "
    "时候 这里 那里 一下 出现 存在 严重 非常 很多 以及 对于 由于 造成 导致 影响 不能 能够 "
    "需要 应该 希望 建议 咨询 投诉 举报 市民 居民 业主 百姓 老百姓 群众 网友"
)


def _clean(text: str) -> str:
    return _SPACE.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def admin_places(text: str) -> list[str]:
    """The anonymised administrative names in a text, in order, each once: ["A市", "A3区"]."""
    return list(dict.fromkeys(_ADMIN.findall(_clean(text))))


def _tags() -> dict[str, str]:
    """jieba's part-of-speech tag of each dictionary word (read once, from the same shipped
    dictionary as the tokeniser)."""
    global _word_tags
    if _word_tags is None:
        import jieba.posseg  # type: ignore[import-untyped]

        _word_tags = dict(jieba.posseg.POSTokenizer(_jieba()).word_tag_tab)
    return _word_tags


_word_tags: dict[str, str] | None = None


def _tokens(text: str) -> list[str]:
    """jieba's tokens (dictionary only) of a text with its anonymised administrative names
    replaced by a comma, punctuation kept (it ends place names)."""
    return list(_jieba().lcut(_ADMIN.sub("，", _clean(text)), HMM=False))


_NAME_ENDING_TAGS = _set("v d p c r u m q f y e o z l i")


def _ends_name(word: str, tags: dict[str, str]) -> bool:
    """Does this word, read backwards from a place word, end the place's name?"""
    if word in _STOP or word in _SUFFIXES or not _NAME_TOKEN.fullmatch(word):
        return True
    tag = tags.get(word, "")
    if len(word) == 1:
        # Unknown names fall apart into single characters: only function words stop.
        return word != "之" and tag[:1] in {"p", "c", "u", "r", "d", "m", "q", "y", "e"}
    if tag.startswith("ns") and any(word.endswith(x) for x in _SUFFIXES):
        return True  # a place of its own ("东湖路" before "春晓花园")
    # Time words (t) may name a place ("春晓花园"); the common ones are in _STOP.
    return tag[:1] in _NAME_ENDING_TAGS or tag in {"a", "ad"}


def places_of_tokens(tokens: Sequence[str]) -> list[str]:
    tags = _tags()
    found: dict[str, None] = {}
    k = 0
    while k < len(tokens):
        token = tokens[k]
        is_building = token in _BUILDINGS
        # A place name jieba knows whole ("新华路", "东湖路": tagged ns, ending in a place word).
        is_known = (
            len(token) >= 3
            and tags.get(token, "").startswith("ns")
            and any(token.endswith(x) for x in _SUFFIXES)
        )
        if token not in _SUFFIXES and not is_building and not is_known:
            k += 1
            continue
        # Place words in a row ("新城" "小区") end one name.
        end = k + 1
        while not is_building and end < len(tokens) and tokens[end] in _SUFFIXES:
            end += 1
        prefix: list[str] = []
        j = k - 1
        while j >= 0 and len(prefix) < 3:
            word = tokens[j]
            if _PHASE.fullmatch(word):  # "海外滩" "二期" "小区": the phase is no part of it
                j -= 1
                continue
            if _ends_name(word, tags) or sum(map(len, prefix)) + len(word) > 8:
                break
            prefix.insert(0, word)
            j -= 1
        suffix = ""
        if is_building:
            # The estate before the building's number: "米兰春天" "G2" "栋".
            while prefix and not _CJK.search(prefix[-1]):
                prefix.pop()
            name = "".join(prefix)
        else:
            # Numbers do not start a name ("3号路口" is no place), nor do verbs ("建学校").
            while prefix and prefix[0].isdigit():
                prefix.pop(0)
            if len(prefix) == 1 and tags.get(prefix[0], "")[:1] == "v":
                prefix = []
            suffix = "".join(tokens[k:end])
            for generic in _ESTATE_WORDS:  # 丽发新城小区, 丽发新城社区: 丽发新城
                if suffix.endswith(generic) and len(suffix) > len(generic):
                    suffix = suffix[: -len(generic)]
                    break
            else:
                if suffix in _ESTATE_WORDS:
                    suffix = ""
            name = "".join(prefix) + suffix
            if not is_known and (not prefix or "".join(prefix) in _GENERIC):
                name = ""
        if len(_CJK.findall(name)) >= 2 + (0 if is_building or not suffix else 1):
            found.setdefault(name.lower(), None)
        k = end
    return list(found)


def places(text: str) -> list[str]:
    """Streets, estates, roads, schools ... named in a text, in order of first mention, each
    once (without the anonymised city and district names, see ``admin_places``)."""
    return places_of_tokens(_tokens(text))


def words_of_tokens(tokens: Sequence[str]) -> list[str]:
    """The content words: jieba's words of two characters or more, without function words
    and numbers; a run of single characters (a name jieba does not know, "车" "贷") counts as
    one word ("车贷")."""
    tags = _tags()
    out: list[str] = []
    run: list[str] = []
    for token in [*tokens, "，"]:
        if len(token) == 1 and _CJK.fullmatch(token) and not _ends_name(token, tags):
            run.append(token)
            continue
        if len(run) > 1:
            out.append("".join(run))
        run = []
        word = token.lower()
        if (
            len(word) > 1
            and word not in _STOPWORDS
            and _NAME_TOKEN.fullmatch(word)
            and not word.isdigit()
        ):
            out.append(word)
    return out


@dataclass(frozen=True)
class Message:
    id: str
    text: str  # the body (detail)
    posted_at: datetime
    title: str = ""
    place: str = ""  # a place known without reading the text (a case's community path)
    likes: int = 0
    dislikes: int = 0
    author: str = ""  # who posted it, to count people rather than messages ("": unknown)


@dataclass(frozen=True)
class Heat:
    heat: float
    posters: int
    votes: float  # likes + dislikes / 2
    recent: int  # messages in the RECENT_DAYS up to now
    earlier: int  # messages in the BASELINE_DAYS before those
    growth: float  # ln((recent + 1) / (earlier · RECENT_DAYS / BASELINE_DAYS + 1))
    pace: float  # messages a week over the cluster's span (at least one week)
    parts: dict[str, float] = field(default_factory=dict)  # each term of the heat


@dataclass(frozen=True)
class Cluster:
    ids: tuple[str, ...]  # members, oldest first
    label: str  # top keywords and the main place
    keywords: tuple[str, ...]
    places: tuple[str, ...]  # most mentioned first
    first_at: datetime
    last_at: datetime
    likes: int
    dislikes: int
    heat: Heat

    @property
    def size(self) -> int:
        return len(self.ids)

    @property
    def span_days(self) -> float:
        return (self.last_at - self.first_at).total_seconds() / 86400


def _bigrams(title: str) -> list[str]:
    """The title's pairs of adjacent Chinese characters, each once, marked with "#": they
    catch a name jieba splits one way here and another way there ("车贷" in "车贷案")."""
    pairs: dict[str, None] = {}
    for run in _CJK_RUN.findall(_ADMIN.sub("，", _clean(title))):
        for i in range(len(run) - 1):
            pairs.setdefault("#" + run[i : i + 2], None)
    return list(pairs)


def _vectors(docs: Sequence[list[str]]) -> tuple[sparse.csr_matrix, list[str]]:
    """TF-IDF rows (1 + ln tf, smooth idf, unit length) and the sorted vocabulary."""
    vocabulary = sorted({w for doc in docs for w in doc})
    index = {w: i for i, w in enumerate(vocabulary)}
    rows, cols, vals = [], [], []
    df = np.zeros(len(vocabulary))
    for r, doc in enumerate(docs):
        counts = Counter(index[w] for w in doc)
        for c in sorted(counts):
            rows.append(r)
            cols.append(c)
            vals.append(1.0 + math.log(counts[c]))
            df[c] += 1
    idf = np.log((1 + len(docs)) / (1 + df)) + 1.0
    matrix = sparse.csr_matrix(
        (np.array(vals) * idf[cols] if cols else np.array([]), (rows, cols)),
        shape=(len(docs), len(vocabulary)),
    )
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ matrix), vocabulary


def same_place(a: Iterable[str], b: Iterable[str]) -> bool:
    """Do two messages name a common place? Names match when equal, or when the longer ends
    with the shorter and the shorter has three characters or more ("绿地海外滩", "海外滩")."""
    for x in a:
        for y in b:
            short, long = (x, y) if len(x) <= len(y) else (y, x)
            if short == long or (len(short) >= 3 and long.endswith(short)):
                return True
    return False


def _links(
    vectors: sparse.csr_matrix,
    seconds: np.ndarray,
    place_sets: Sequence[frozenset[str]],
    *,
    window_days: float,
    link_threshold: float,
) -> list[tuple[float, int, int]]:
    n = vectors.shape[0]
    window = window_days * 86400
    transposed = vectors.T.tocsc()
    links: list[tuple[float, int, int]] = []
    for start in range(0, n, BLOCK):
        stop = min(n, start + BLOCK)
        sims = (vectors[start:stop] @ transposed).toarray()
        close = np.abs(seconds[start:stop, None] - seconds[None, :]) <= window
        upper = np.arange(n)[None, :] > np.arange(start, stop)[:, None]
        # The place adjustment is at most PLACE_BONUS: below that nothing can reach the bar.
        candidates = np.argwhere(close & upper & (sims >= link_threshold - PLACE_BONUS))
        for a, j in candidates:
            i = start + int(a)
            j = int(j)
            s = float(sims[a, j])
            pi, pj = place_sets[i], place_sets[j]
            if pi and pj:
                s += PLACE_BONUS if same_place(pi, pj) else -PLACE_PENALTY
            if s >= link_threshold:
                links.append((round(s, 9), i, j))
    links.sort(key=lambda x: (-x[0], x[1], x[2]))
    return links


def cluster_indices(
    messages: Sequence[Message],
    *,
    window_days: float = WINDOW_DAYS,
    link_threshold: float = LINK_THRESHOLD,
    merge_threshold: float = MERGE_THRESHOLD,
) -> tuple[list[list[int]], sparse.csr_matrix, list[str], list[list[str]]]:
    """Groups of message positions (every message in exactly one group, singletons too), the
    TF-IDF rows, the vocabulary and each message's places."""
    place_lists = []
    docs = []
    for m in messages:
        title, body = _tokens(m.title), _tokens(m.text[:MAX_CHARS])
        found = places_of_tokens([*title, "，", *body])
        # The title's places first (and counted twice for the label): the title says where.
        in_title = places_of_tokens(title)
        place_lists.append(([m.place] if m.place else []) + in_title + found)
        docs.append(
            words_of_tokens(title) * TITLE_WEIGHT
            + words_of_tokens(body)
            + [f"@{p}" for p in found]
            + _bigrams(m.title)
        )
    vectors, vocabulary = _vectors(docs)
    seconds = np.array([m.posted_at.timestamp() for m in messages], dtype=float)
    place_sets = [frozenset(pl) for pl in place_lists]
    links = _links(
        vectors,
        seconds,
        place_sets,
        window_days=window_days,
        link_threshold=link_threshold,
    )
    parent = list(range(len(messages)))
    centroid: dict[int, sparse.csr_matrix] = {}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    def centre(root: int) -> sparse.csr_matrix:
        if root not in centroid:
            centroid[root] = vectors[root]
        return centroid[root]

    for _, i, j in links:
        ri, rj = find(i), find(j)
        if ri == rj:
            continue
        ci, cj = centre(ri), centre(rj)
        denominator = math.sqrt(float(ci.multiply(ci).sum()) * float(cj.multiply(cj).sum()))
        if denominator == 0 or float(ci.multiply(cj).sum()) / denominator < merge_threshold:
            continue
        keep, gone = min(ri, rj), max(ri, rj)
        parent[gone] = keep
        centroid[keep] = ci + cj
        centroid.pop(gone, None)
    members: dict[int, list[int]] = {}
    for i in range(len(messages)):
        members.setdefault(find(i), []).append(i)
    return list(members.values()), vectors, vocabulary, place_lists


def heat_of(members: Sequence[Message], now: datetime, *, recent_days: int = RECENT_DAYS) -> Heat:
    n = len(members)
    authors = {m.author or f"#{m.id}" for m in members}
    likes = sum(m.likes for m in members)
    dislikes = sum(m.dislikes for m in members)
    votes = likes + dislikes / 2
    recent_from = now - timedelta(days=recent_days)
    earlier_from = recent_from - timedelta(days=BASELINE_DAYS)
    recent = sum(1 for m in members if recent_from < m.posted_at <= now)
    earlier = sum(1 for m in members if earlier_from < m.posted_at <= recent_from)
    growth = math.log((recent + 1) / (earlier * recent_days / BASELINE_DAYS + 1))
    times = [m.posted_at for m in members]
    weeks = (max(times) - min(times)).total_seconds() / (7 * 86400)
    pace = n / max(1.0, weeks)
    parts = {
        "posters": round(2 * math.log(1 + len(authors)), 4),
        "votes": round(math.log(1 + votes), 4),
        "growth": round(growth, 4),
        "pace": round(0.5 * math.log(pace), 4),
    }
    return Heat(
        heat=round(sum(parts.values()), 4),
        posters=len(authors),
        votes=votes,
        recent=recent,
        earlier=earlier,
        growth=round(growth, 4),
        pace=round(pace, 4),
        parts=parts,
    )


def _top_terms(
    vectors: sparse.csr_matrix, rows: list[int], vocabulary: list[str], k: int
) -> tuple[str, ...]:
    weights = np.asarray(vectors[rows].sum(axis=0)).ravel()
    # Ties broken by the vocabulary's order (sorted), so the label is deterministic.
    order = sorted(np.flatnonzero(weights), key=lambda c: (-round(float(weights[c]), 9), c))
    return tuple(vocabulary[c] for c in order if vocabulary[c][0] not in "@#")[:k]


def hot_issues(
    messages: Sequence[Message],
    *,
    now: datetime | None = None,
    top: int | None = 10,
    min_size: int = MIN_SIZE,
    window_days: float = WINDOW_DAYS,
    link_threshold: float = LINK_THRESHOLD,
    merge_threshold: float = MERGE_THRESHOLD,
) -> list[Cluster]:
    """Clusters of at least ``min_size`` related messages, hottest first (ties: more
    members, then the earliest first message, then the smallest id). ``now`` defaults to
    the newest message's time."""
    if not messages:
        return []
    order = sorted(range(len(messages)), key=lambda i: (messages[i].posted_at, messages[i].id))
    ordered = [messages[i] for i in order]
    now = now or ordered[-1].posted_at
    groups, vectors, vocabulary, place_lists = cluster_indices(
        ordered,
        window_days=window_days,
        link_threshold=link_threshold,
        merge_threshold=merge_threshold,
    )
    scored = []
    for rows in groups:
        if len(rows) >= min_size:
            members = [ordered[i] for i in rows]
            scored.append((heat_of(members, now), rows, members))
    scored.sort(key=lambda x: (-x[0].heat, -len(x[1]), x[2][0].posted_at, x[2][0].id))
    if top is not None:
        scored = scored[:top]
    clusters = []
    for heat, rows, members in scored:
        keywords = _top_terms(vectors, rows, vocabulary, 3)
        place_counts = Counter(p for i in rows for p in place_lists[i])
        if not place_counts:
            place_counts = Counter(p for m in members for p in admin_places(f"{m.title}{m.text}"))
        ranked_places = tuple(
            p for p, _ in sorted(place_counts.items(), key=lambda x: (-x[1], x[0]))
        )
        main_place = next((p for p in ranked_places if "/" not in p), "")
        clusters.append(
            Cluster(
                ids=tuple(m.id for m in members),
                label=" ".join(((main_place,) if main_place else ()) + keywords),
                keywords=keywords,
                places=ranked_places,
                first_at=members[0].posted_at,
                last_at=members[-1].posted_at,
                likes=sum(m.likes for m in members),
                dislikes=sum(m.dislikes for m in members),
                heat=heat,
            )
        )
    return clusters


def read_messages(rows: Iterable[dict[str, str]]) -> list[Message]:
    """Messages from CSV rows with the columns of ../shared/data/hot_issues/: message_id,
    user, title, posted_at (2019/2/28 11:25:05 or 2019-02-28 11:25:05), detail, likes,
    dislikes. Rows without a readable time are skipped."""
    out = []
    for row in rows:
        posted = _parse_time(row.get("posted_at") or "")
        if posted is None:
            continue
        out.append(
            Message(
                id=(row.get("message_id") or "").strip(),
                text=row.get("detail") or row.get("text") or "",
                title=row.get("title") or "",
                posted_at=posted,
                likes=_int(row.get("likes")),
                dislikes=_int(row.get("dislikes")),
                author=(row.get("user") or "").strip(),
            )
        )
    return out


def _int(value: str | None) -> int:
    try:
        return max(0, int(float(value or 0)))
    except ValueError:
        return 0


def _parse_time(value: str) -> datetime | None:
    value = value.strip().replace("-", "/")
    for fmt in ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d"):
        try:
            return datetime.strptime(value, fmt)  # noqa: DTZ007 (the caller gives it a zone)
        except ValueError:
            continue
    return None


def read_file(path: str) -> tuple[list[Message], str, int]:
    """Messages from a CSV file (see ``read_messages``), the file's SHA-256 and its rows."""
    import csv
    import hashlib
    import io

    with open(path, "rb") as f:
        raw = f.read()
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    return read_messages(rows), hashlib.sha256(raw).hexdigest(), len(rows)


def report(path: str, *, top: int = 10, min_size: int = MIN_SIZE) -> dict[str, Any]:
    """The ``triage hot-issues`` report of a file: the top clusters with their evidence."""
    import time

    messages, sha256, rows = read_file(path)
    started = time.perf_counter()
    clusters = hot_issues(messages, top=top, min_size=min_size)
    seconds = time.perf_counter() - started
    return {
        "data": {"file": path.rsplit("/", 1)[-1], "sha256": sha256, "rows": rows},
        "messages": len(messages),
        "now": max(m.posted_at for m in messages).isoformat() if messages else None,
        "seconds": round(seconds, 2),
        "clusters": [
            {
                "rank": rank,
                "label": c.label,
                "heat": c.heat.heat,
                "heat_parts": c.heat.parts,
                "messages": c.size,
                "posters": c.heat.posters,
                "likes": c.likes,
                "dislikes": c.dislikes,
                "first_at": c.first_at.isoformat(),
                "last_at": c.last_at.isoformat(),
                "span_days": round(c.span_days, 1),
                "recent": c.heat.recent,
                "earlier": c.heat.earlier,
                "places": list(c.places[:5]),
                "keywords": list(c.keywords),
                "ids": list(c.ids),
            }
            for rank, c in enumerate(clusters, 1)
        ],
    }
