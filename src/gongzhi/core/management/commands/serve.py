"""``gongzhi serve``: the web server and the background worker, together, in one terminal.

Development (``make run``): Django's runserver on 127.0.0.1:8000 and one ``db_worker``.
Production (``--production``): gunicorn with sync workers and persistent connections.
Stopping the command (Ctrl-C) stops both.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandParser


class Command(BaseCommand):
    help = "Run the web server and the background worker together."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--bind", default="127.0.0.1:8000")
        parser.add_argument(
            "--production", action="store_true", help="gunicorn instead of runserver"
        )
        parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
        parser.add_argument("--no-worker", action="store_true", help="web server only")

    def handle(
        self, *args: Any, bind: str, production: bool, workers: int, no_worker: bool, **options: Any
    ) -> None:
        python = sys.executable
        children: list[subprocess.Popen[bytes]] = []
        if not no_worker:
            worker = [python, "-m", "gongzhi", "db_worker", "--queue-name", "*", "--interval", "1"]
            children.append(subprocess.Popen(worker))  # noqa: S603 (fixed argv, our own program)
            clock = [python, "-m", "gongzhi", "watch_deadlines"]
            children.append(subprocess.Popen(clock))  # noqa: S603
            tallies = [python, "-m", "gongzhi", "tallies", "--watch"]
            children.append(subprocess.Popen(tallies))  # noqa: S603
        if production:
            web = [
                python,
                "-m",
                "gunicorn",
                "gongzhi.config.wsgi:application",
                "--bind",
                bind,
                "--workers",
                str(workers),
                "--worker-class",
                "sync",
                "--access-logfile",
                "-",
            ]
        else:
            web = [python, "-m", "gongzhi", "runserver", bind]
        self.stdout.write(
            f"gongzhi: serving on http://{bind}/ (Ctrl-C stops the server and the worker)"
        )
        web_process = subprocess.Popen(web)  # noqa: S603
        children.append(web_process)
        try:
            web_process.wait()
        except KeyboardInterrupt:
            pass
        finally:
            for child in children:
                if child.poll() is None:
                    child.send_signal(signal.SIGTERM)
            for child in children:
                try:
                    child.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    child.kill()
