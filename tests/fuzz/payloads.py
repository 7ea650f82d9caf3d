"""Hostile input shared by the fuzz tests: fixed payloads and hypothesis strategies.

The strategies mix a few kinds of trouble into every text field: script and markup
injection, SQL metacharacters, control characters (NUL included), very long text, wrong
types for numbers, dates, choices and ids, and Unicode that tends to break things (RTL
marks, lone combining marks, full-width digits, emoji).
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, Phase, settings
from hypothesis import strategies as st

# Each sets window.__xss when it runs; tests/fuzz/test_stored_script.py checks it never does.
SCRIPTS = [
    "<script>window.__xss=1</script>",
    '<img src=x onerror="window.__xss=1">',
    '"><svg onload=window.__xss=1>',
    "javascript:window.__xss=1",
    "</textarea><script>window.__xss=1</script>",
    '\'"><iframe srcdoc="<script>parent.__xss=1</script>">',
]
SQL = ["' OR 1=1 --", "%", "_", "\\", "'; DROP TABLE cases_case; --", '" OR ""="', "%_\\%"]
CONTROL = ["\x00", "a\x00b", "\x01\x02\x1b[31m", "\r\n\r\n", "\u202eevil\u202c", "\ufeff", "\x7f"]
ODD_UNICODE = ["Ｚ１２３", "\u0301", "🚧" * 10, "\U0010ffff", "示范市" * 3, "ℌ𝔢𝔩𝔩𝔬"]
NUMBERS = [
    "-1",
    "0",
    "1e400",
    "NaN",
    "-Infinity",
    "99999999999999999999999999",
    "1.5",
    "１２",
    "²",
    "0x10",
    " 7 ",
]
DATES = ["2026-13-45", "0000-00-00", "9999-12-31", "2026-02-30", "yesterday", "2026-03"]
IDS = ["0", "-5", "abc", "00000000-0000-0000-0000-000000000000", "1;2", "9" * 30]

HOSTILE = SCRIPTS + SQL + CONTROL + ODD_UNICODE + NUMBERS + DATES + IDS

hostile_text = st.one_of(
    st.sampled_from(HOSTILE),
    st.builds(lambda a, b: a + b, st.sampled_from(HOSTILE), st.sampled_from(HOSTILE)),
    st.text(max_size=40),
    st.builds(lambda s, n: s * n, st.sampled_from(["长", "a", "<b>", "'"]), st.integers(201, 6000)),
)


def field_value(valid: Any) -> st.SearchStrategy[Any]:
    """A value for one form field: the valid one, or trouble of any kind."""
    choices: list[st.SearchStrategy[Any]] = [hostile_text, st.sampled_from(NUMBERS + DATES + IDS)]
    if valid is not None:
        choices.insert(0, st.just(valid))
    return st.one_of(*choices)


@st.composite
def form_data(draw: Any, valid: dict[str, Any]) -> dict[str, Any]:
    """A form body built from a valid one: each field kept, replaced or left out, plus
    perhaps a field nobody asked for."""
    data: dict[str, Any] = {}
    for name, value in valid.items():
        choice = draw(st.integers(0, 9))
        if choice < 4:
            data[name] = value
        elif choice < 9:
            data[name] = draw(field_value(value))
        # else: missing
    if draw(st.booleans()):
        data[draw(st.sampled_from(["extra", "csrfmiddlewaretoken", "id", "pk", "__proto__"]))] = (
            draw(hostile_text)
        )
    return data


def bounded(examples: int) -> Any:
    """Hypothesis settings for every fuzz test: a fixed number of examples, the same ones in
    every run (CI must be reproducible), no example database, no time limits."""
    return settings(
        max_examples=examples,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
