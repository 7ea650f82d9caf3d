"""Error codes of the territory app (stable: clients match on them)."""

from __future__ import annotations

from gongzhi.core.errors import Conflict, InvalidInput


class InvalidRegionCode(InvalidInput):
    code = "invalid_region_code"


class InvalidBoundary(InvalidInput):
    code = "invalid_boundary"


class DuplicateRegionCode(Conflict):
    code = "duplicate_region_code"


class InvalidJurisdiction(InvalidInput):
    code = "invalid_jurisdiction"
