"""``gongzhi process_intake``: turn queued submissions into cases, as they come (or once)."""

from __future__ import annotations

import logging
import time
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import close_old_connections

from gongzhi.cases.intake import BATCH, process_queue, queue_status

log = logging.getLogger("gongzhi.intake")


class Command(BaseCommand):
    help = "Make cases of the submissions accepted into the intake queue (ADR 0007)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--once", action="store_true", help="until the queue is empty")
        parser.add_argument("--interval", type=float, default=0.5, help="seconds between looks")
        parser.add_argument("--batch", type=int, default=BATCH, help="submissions per commit")
        parser.add_argument(
            "--status", action="store_true", help="print what waits and what was set aside"
        )

    def handle(
        self, *args: Any, once: bool, interval: float, batch: int, status: bool, **options: Any
    ) -> None:
        if status:
            self.stdout.write(str(queue_status()))
            return
        registered = 0
        while True:
            try:
                done = process_queue(limit=batch)
            except Exception:  # keep going: a database blip must not stop intake
                log.exception("intake batch failed; retrying")
                done = None
            if done is not None:
                registered += done.registered
                if done.refused:
                    log.warning("intake: %d submissions refused", done.refused)
            if done is not None and done.handled >= batch:
                continue  # more are waiting: no pause
            if once:
                self.stdout.write(f"{registered} registered")
                return
            close_old_connections()  # while idle: drop a connection that broke or aged
            time.sleep(interval)
