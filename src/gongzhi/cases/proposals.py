"""The hooks through which triage proposes a category for a new case and finds probable
duplicates of a case (registries of one strategy each, as ARCHITECTURE.md asks for
classifiers).

``cases`` must not depend on ``triage`` (triage reads the category tree from cases), so
triage registers its proposer when the app loads (``TriageConfig.ready``). Intake calls
``propose_category`` before it opens its transaction: classifying takes a few milliseconds
and must not hold a lock. A proposer that fails is logged and ignored: a case is never
refused because the classifier is unwell.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger("gongzhi.triage")


@dataclass(frozen=True)
class CategoryProposal:
    """A category path of the tree (e.g. "城乡建设"), its probability, and the most probable
    paths (at most three, best first), from model ``model_version``."""

    category_path: str
    confidence: float
    top3: tuple[tuple[str, float], ...]
    model_version: int


Proposer = Callable[[str], CategoryProposal | None]
_proposers: list[Proposer] = []


def register_proposer(proposer: Proposer) -> None:
    """Use ``proposer`` at intake (the last one registered wins)."""
    _proposers.append(proposer)


def unregister_proposer(proposer: Proposer) -> None:
    if proposer in _proposers:
        _proposers.remove(proposer)


def propose_category(text: str) -> CategoryProposal | None:
    if not _proposers or not text.strip():
        return None
    try:
        return _proposers[-1](text)
    except Exception:  # the classifier must never stop a case from being registered
        log.exception("the category proposer failed; the case goes to a dispatcher unclassified")
        return None


# --- Probable duplicates ---------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicateProposal:
    """An open case that is probably the same matter as the case in hand, and why: the
    score and its parts (text, place, time; each 0..1) and the place names both mention."""

    case_id: str
    number: str
    title: str
    submitted_at: object  # a datetime
    score: float
    text: float
    place: float
    time: float
    shared_places: tuple[str, ...] = ()


DuplicateFinder = Callable[[object], list[DuplicateProposal]]
_duplicate_finders: list[DuplicateFinder] = []


def register_duplicate_finder(finder: DuplicateFinder) -> None:
    _duplicate_finders.append(finder)


def find_duplicates(case: object) -> list[DuplicateProposal]:
    """Open cases that are probably the same matter as ``case`` (a ``Case``), best first.
    Not scoped: callers keep only the cases the person may see."""
    if not _duplicate_finders:
        return []
    try:
        return _duplicate_finders[-1](case)
    except Exception:  # a finder that fails must not break the case page
        log.exception("the duplicate finder failed")
        return []


# --- How well a reply explains itself ----------------------------------------------------------


@dataclass(frozen=True)
class ReplyJudgement:
    """A reply judged against the matter: overall score 0..1, whether it probably explains
    itself, which cues it gives (rule, time, who acts, result) and how many of the matter's
    questions and demands it answers."""

    score: float
    is_explainable: bool
    cues: dict[str, bool]
    demands: int
    answered: int
    relevance: float


ReplyJudge = Callable[[str, str], ReplyJudgement | None]
_reply_judges: list[ReplyJudge] = []


def register_reply_judge(judge: ReplyJudge) -> None:
    _reply_judges.append(judge)


def judge_reply(matter: str, reply: str) -> ReplyJudgement | None:
    if not _reply_judges or not reply.strip():
        return None
    try:
        return _reply_judges[-1](matter, reply)
    except Exception:  # a judge that fails must not break the case page
        log.exception("the reply judge failed")
        return None
