"""The hook through which a classifier proposes a category for a new case (a registry of
one strategy, as ARCHITECTURE.md asks for classifiers).

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
