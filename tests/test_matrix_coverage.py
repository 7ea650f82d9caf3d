"""Every page and every API operation must be in a permission matrix before it can ship.

Each matrix module (tests/test_permission_matrix*.py) declares ``COVERED_VIEWS`` (URL names)
and ``COVERED_OPERATIONS`` (API operation function names).
"""

from __future__ import annotations

import importlib
from pathlib import Path

from django.urls import URLResolver, get_resolver

from gongzhi.config.api import api


def covered() -> tuple[set[str], set[str]]:
    views: set[str] = set()
    operations: set[str] = set()
    for path in sorted(Path(__file__).parent.glob("test_permission_matrix*.py")):
        module = importlib.import_module(f"tests.{path.stem}")
        views |= getattr(module, "COVERED_VIEWS", set())
        operations |= getattr(module, "COVERED_OPERATIONS", set())
    return views, operations


def test_every_page_is_in_a_matrix() -> None:
    names: set[str] = set()
    for entry in get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            if entry.namespace in {"admin", "api-v1"}:
                continue
            names |= {p.name for p in entry.url_patterns if p.name}
        elif entry.name:
            names.add(entry.name)
    assert names == covered()[0]


def test_every_api_operation_is_in_a_matrix() -> None:
    operations = {
        operation.view_func.__name__
        for _prefix, router in api._routers
        for path_view in router.path_operations.values()
        for operation in path_view.operations
    }
    assert operations == covered()[1]
