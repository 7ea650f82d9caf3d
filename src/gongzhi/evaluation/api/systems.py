"""The evaluation API (systems): thin adapters over evaluation services and queries."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["evaluation"])
