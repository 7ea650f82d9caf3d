"""Normalising and tokenising Chinese text, offline.

jieba ships its dictionary inside the package; the tokeniser here loads it once per process
(about a second), keeps jieba's own log lines out of ours, and never fetches anything.
"""

from __future__ import annotations

import logging
import re
import threading
import unicodedata
from typing import Any

_SPACE = re.compile(r"\s+")
_NON_WORD = re.compile(r"[\W_]+")
_DIGITS = re.compile(r"\d+")

_lock = threading.Lock()
_tokenizer: Any = None  # a jieba.Tokenizer (jieba ships no type hints)


def normalise(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lower case, one space between runs,
    runs of digits become one "0" (dates, phone numbers and amounts say little about the
    category and would otherwise each be a rare feature)."""
    text = unicodedata.normalize("NFKC", text).lower()
    text = _DIGITS.sub("0", text)
    return _SPACE.sub(" ", text).strip()


def squeeze(text: str) -> str:
    """Letters and digits only: what near-duplicate detection compares."""
    return _NON_WORD.sub("", unicodedata.normalize("NFKC", text).lower())


def _jieba() -> Any:
    global _tokenizer
    if _tokenizer is None:
        with _lock:
            if _tokenizer is None:
                import jieba  # type: ignore[import-untyped]

                jieba.setLogLevel(logging.WARNING)
                tokenizer = jieba.Tokenizer()
                tokenizer.initialize()
                _tokenizer = tokenizer
    return _tokenizer


def words(text: str) -> list[str]:
    """jieba's words of an already normalised text (dictionary only, no HMM guessing of
    unknown words: about 1.5 times faster, and rare guessed words are dropped by min_df
    anyway), without spaces and punctuation."""
    return [w for w in _jieba().lcut(text, HMM=False) if not _NON_WORD.fullmatch(w)]
