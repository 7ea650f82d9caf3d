"""Jurisdiction scoping: what part of the command chain a person acts over.

A region's ``path`` is its materialised path (see ``territory.models.Region``): every
descendant's path starts with it. A ``Scope`` is the set of subtree roots a person may
act over, so "is X inside my scope" is a prefix test, and "everything inside my scope"
is a range query per root that a B-tree index answers without recursion.

This module knows nothing of users or memberships; ``accounts.queries.scope_of`` builds
scopes from memberships.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q

# Paths are made of digits and "/"; "~" sorts after both, so [path, path + "~") is a subtree.
PATH_END = "~"


def subtree_q(field_name: str, path: str) -> Q:
    """Rows whose ``field_name`` is ``path`` or lies under it (an index range scan)."""
    return Q(**{f"{field_name}__gte": path, f"{field_name}__lt": path + PATH_END})


def minimal_roots(paths: Iterable[str]) -> tuple[str, ...]:
    """Drop every path that lies inside another one: the smallest equivalent set."""
    roots: list[str] = []
    for path in sorted(set(paths)):
        if not roots or not path.startswith(roots[-1]):
            roots.append(path)
    return tuple(roots)


@dataclass(frozen=True)
class Scope:
    """Subtree roots (materialised paths) that one person may act over, for one purpose."""

    paths: tuple[str, ...] = ()
    unit_ids: frozenset[int] = field(default_factory=frozenset)

    @classmethod
    def of(cls, paths: Iterable[str], unit_ids: Iterable[int] = ()) -> Scope:
        return cls(minimal_roots(paths), frozenset(unit_ids))

    @property
    def is_empty(self) -> bool:
        return not self.paths

    def covers(self, path: str) -> bool:
        """True when ``path`` is one of the roots or lies under one."""
        return any(path.startswith(root) for root in self.paths)

    def touches(self, path: str) -> bool:
        """True when ``path`` is inside the scope or is an ancestor of one of its roots."""
        return any(path.startswith(root) or root.startswith(path) for root in self.paths)

    def q(self, field_name: str) -> Q:
        """A filter for rows whose path field lies inside the scope; matches nothing if empty."""
        if not self.paths:
            return Q(pk__in=[])
        condition = Q()
        for root in self.paths:
            condition |= subtree_q(field_name, root)
        return condition
