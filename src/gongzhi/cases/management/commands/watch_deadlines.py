"""``gongzhi watch-deadlines``: sweep case deadlines every 30 seconds (or once)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from gongzhi.cases.deadlines import sweep_deadlines

log = logging.getLogger("gongzhi.deadlines")


class Command(BaseCommand):
    help = "Warn, escalate and supervise cases whose deadlines are near or past."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true")
        parser.add_argument("--interval", type=float, default=30.0)

    def handle(self, *args: Any, once: bool, interval: float, **options: Any) -> None:
        while True:
            close_old_connections()
            try:
                report = sweep_deadlines()
            except Exception:  # keep watching: a database blip must not stop the clock
                log.exception("deadline sweep failed; retrying")
            else:
                if report.yellow or report.red:
                    log.info("deadlines: %s", report)
                if once:
                    self.stdout.write(str(report))
            if once:
                return
            time.sleep(interval)
