"""``gongzhi tallies``: bring the evaluation roll-ups up to date (once, for ever, or anew)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from gongzhi.accounts.signins import prune_personal_tokens, prune_sign_ins
from gongzhi.evaluation.assessments import mark_overdue_rectifications
from gongzhi.evaluation.tallies import rebuild_tallies, refresh_tallies
from gongzhi.triage.services import refresh_hot_issues

log = logging.getLogger("gongzhi.evaluation")
# Hot issues (triage) are clustered from a month of cases: seconds, so every ten minutes.
HOT_EVERY = 600.0
# Sign-in audit events past their retention and spent personal tokens (accounts.signins):
# once an hour is plenty.
PRUNE_EVERY = 3600.0


class Command(BaseCommand):
    help = (
        "Refresh the monthly tallies behind figures and rankings (only changed months), mark "
        "rectifications past their deadline, and (with --watch) recompute hot issues and "
        "prune sign-in audit events past their retention and spent personal tokens."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--rebuild", action="store_true", help="recompute every month")
        parser.add_argument("--watch", action="store_true", help="refresh every --interval s")
        parser.add_argument("--interval", type=float, default=60.0)

    def handle(self, *args: Any, rebuild: bool, watch: bool, interval: float, **opts: Any) -> None:
        if rebuild:
            report = rebuild_tallies()
            self.stdout.write(f"rebuilt {len(report.months)} months, {report.rows} rows")
            return
        last_hot: float | None = None
        last_prune: float | None = None
        while True:
            try:
                report = refresh_tallies()
                mark_overdue_rectifications()
                if watch and (last_hot is None or time.monotonic() - last_hot >= HOT_EVERY):
                    refresh_hot_issues()
                    last_hot = time.monotonic()
                if watch and (last_prune is None or time.monotonic() - last_prune >= PRUNE_EVERY):
                    prune_sign_ins()
                    prune_personal_tokens()
                    last_prune = time.monotonic()
            except Exception:  # keep watching: a database blip must not stop the figures
                log.exception("tally refresh failed; retrying")
            else:
                if not watch:
                    months = ", ".join(f"{m:%Y-%m}" for m in report.months) or "none"
                    self.stdout.write(f"refreshed months: {months}; {report.rows} rows")
            if not watch:
                return
            close_old_connections()  # while idle: drop a connection that broke or aged
            time.sleep(interval)
