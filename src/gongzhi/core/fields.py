"""Model fields that carry a design decision."""

from __future__ import annotations

from typing import Any

from django.db import models
from django.db.backends.base.base import BaseDatabaseWrapper


class PathField(models.CharField):  # type: ignore[type-arg]
    """A materialised region path ("990100000000/990102000000/"), compared byte by byte.

    Subtree filters are ranges ``[path, path + "~")`` (``core.scoping``). That only holds
    when the column sorts by code point: SQLite's default BINARY collation does, but a
    PostgreSQL database created with a linguistic collation (en_US.UTF-8, zh_CN.UTF-8)
    ignores "/" and "~" at the first level and would return wrong subtrees. So on
    PostgreSQL the column always uses the "C" collation, whatever the database's default.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 255)
        super().__init__(*args, **kwargs)

    def db_parameters(self, connection: BaseDatabaseWrapper) -> dict[str, Any]:
        parameters = super().db_parameters(connection)
        if connection.vendor == "postgresql":
            parameters["collation"] = "C"
        return parameters
