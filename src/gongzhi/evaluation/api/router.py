"""The evaluation API (router): thin adapters over evaluation services and queries."""

from __future__ import annotations

from ninja import Router

router = Router(tags=["evaluation"])
