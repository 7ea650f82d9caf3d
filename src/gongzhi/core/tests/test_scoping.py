from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from gongzhi.core.scoping import PATH_END, Scope, minimal_roots, subtree_q

CITY = "990100000000/"
DISTRICT = CITY + "990102000000/"
STREET = DISTRICT + "990102001000/"
OTHER_DISTRICT = CITY + "990103000000/"


def test_minimal_roots_drops_paths_inside_others():
    assert minimal_roots([STREET, DISTRICT, OTHER_DISTRICT, DISTRICT]) == (DISTRICT, OTHER_DISTRICT)


def test_covers_is_inside_or_equal():
    scope = Scope.of([DISTRICT])
    assert scope.covers(DISTRICT)
    assert scope.covers(STREET)
    assert not scope.covers(CITY)
    assert not scope.covers(OTHER_DISTRICT)


def test_touches_includes_ancestors():
    scope = Scope.of([STREET])
    assert scope.touches(CITY)
    assert scope.touches(DISTRICT)
    assert scope.touches(STREET + "990102001001/")
    assert not scope.touches(OTHER_DISTRICT)


def test_empty_scope_matches_nothing():
    scope = Scope()
    assert scope.is_empty
    assert not scope.covers(CITY)
    assert scope.q("path").children == [("pk__in", [])]


def test_subtree_q_is_a_range():
    q = subtree_q("path", DISTRICT)
    assert q.children == [("path__gte", DISTRICT), ("path__lt", DISTRICT + PATH_END)]


segment = st.from_regex(r"[0-9]{3}/", fullmatch=True)
paths = st.lists(segment, min_size=1, max_size=4).map("".join)


@given(st.lists(paths, max_size=8), paths)
def test_covers_agrees_with_the_range_query(roots, candidate):
    """Whatever the roots, the prefix test and the [path, path~) range agree."""
    scope = Scope.of(roots)
    in_some_range = any(root <= candidate < root + PATH_END for root in scope.paths)
    assert scope.covers(candidate) == in_some_range
