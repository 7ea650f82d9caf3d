"""Error codes of the request loop (stable: clients match on them)."""

from __future__ import annotations

from gongzhi.core.errors import Conflict, InvalidInput


class InvalidTransition(Conflict):
    """The action is not allowed in the case's current state (someone may have acted first)."""

    code = "invalid_transition"


class StaleVersion(Conflict):
    """The case changed since the client read it."""

    code = "stale_version"


class InvalidCase(InvalidInput):
    code = "invalid_case"


class OutsideTheCity(InvalidInput):
    code = "outside_the_city"
