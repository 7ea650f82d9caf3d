"""The demo city 示范市: deterministic, fictional, realistic enough to try every page."""
