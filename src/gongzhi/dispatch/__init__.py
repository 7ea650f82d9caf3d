"""Routing: which unit gets a case (责任清单), by rules as data."""
