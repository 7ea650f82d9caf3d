"""``gongzhi serve``: the web server and the background processes, together, in one terminal.

Development (``make run``): Django's runserver on 127.0.0.1:8000 and the background processes.
Production (``--production``): gunicorn with sync workers and persistent connections.

The background processes are the task worker (``db_worker``), the intake processor
(``process_intake``: queued submissions become cases, ADR 0007), the deadline clock
(``watch_deadlines``) and the evaluation roll-ups (``tallies --watch``). They are supervised:
one that exits (the task worker stops on a database error it does not know, e.g. while
PostgreSQL is away) is started again after a pause that doubles from 1 s up to 30 s, and
starts again at 1 s once the process has run for a minute. The clock catches up on every
deadline that passed meanwhile when it starts.

``--background worker,clock`` runs only those (with several app machines, run the clock and
the tallies on one of them); ``--no-worker`` none.

Stopping the command (Ctrl-C, SIGTERM or SIGHUP) stops every process it started; when the web
server exits, the command stops the others and exits with the web server's status. The
supervisor needs no Django of its own: ``python -m gongzhi.core.management.commands.serve``
takes the same arguments and starts a few seconds sooner (the system tests use it).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

FIRST_PAUSE = 1.0  # seconds before starting a background process that exited
LONGEST_PAUSE = 30.0
HEALTHY_AFTER = 60.0  # a process that ran this long starts again at FIRST_PAUSE
POLL = 0.5
STOP_TIMEOUT = 15.0


def background_commands(python: str) -> dict[str, list[str]]:
    """The background processes, by name: what ``serve`` runs beside the web server."""
    return {
        "worker": [python, "-m", "gongzhi", "db_worker", "--queue-name", "*", "--interval", "1"],
        "intake": [python, "-m", "gongzhi", "process_intake"],
        "clock": [python, "-m", "gongzhi", "watch_deadlines"],
        "tallies": [python, "-m", "gongzhi", "tallies", "--watch"],
    }


def web_command(python: str, *, bind: str, workers: int, production: bool) -> list[str]:
    """The web server's command line.

    gunicorn's control socket (for ``gunicornc``) is off: its default path is one per user
    and machine (``~/.gunicorn/gunicorn.ctl``), so every instance on a machine (the system
    tests', the benchmarks', a second deployment) would take it over from the others, and
    ``serve`` already starts, supervises and stops gunicorn itself.
    """
    if not production:
        return [python, "-m", "gongzhi", "runserver", bind]
    return [
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
        "--no-control-socket",
    ]


@dataclass
class Supervised:
    """A background process, started again whenever it exits."""

    name: str
    argv: list[str]
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    pause: float = FIRST_PAUSE
    restart_at: float | None = None
    restarts: int = field(default=0)

    def start(self) -> None:
        self.process = subprocess.Popen(self.argv)  # noqa: S603 (fixed argv, our own program)
        self.started_at = time.monotonic()
        self.restart_at = None

    def check(self, now: float, say: Callable[[str], object]) -> None:
        """Schedule a start again if the process exited; start it when its pause is over."""
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restarts += 1
                self.start()
            return
        if self.process is None or self.process.poll() is None:
            return
        if now - self.started_at >= HEALTHY_AFTER:
            self.pause = FIRST_PAUSE
        say(
            f"gongzhi: {self.name} exited with status {self.process.returncode}; "
            f"starting it again in {self.pause:g} s"
        )
        self.restart_at = now + self.pause
        self.pause = min(self.pause * 2, LONGEST_PAUSE)


class Stop(Exception):
    """A signal asked the command to stop."""


def _raise_stop(signum: int, frame: FrameType | None) -> None:
    raise Stop(signal.Signals(signum).name)


def stop_all(processes: list[subprocess.Popen[bytes]], timeout: float = STOP_TIMEOUT) -> None:
    """SIGTERM to every running process, then SIGKILL to those still running after
    ``timeout`` seconds (gunicorn stops its workers itself)."""
    running = [p for p in processes if p.poll() is None]
    for process in running:
        process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for process in running:
        try:
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def serve(
    *,
    bind: str,
    production: bool,
    workers: int,
    background: list[str],
    say: Callable[[str], object] = print,
) -> int:
    """Run the web server and the named background processes until the web server exits or
    a signal asks to stop; returns the exit status. Needs no Django set-up of its own."""
    python = sys.executable
    commands = background_commands(python)
    supervised = [Supervised(name, commands[name]) for name in background]
    previous = {
        signum: signal.signal(signum, _raise_stop) for signum in (signal.SIGTERM, signal.SIGHUP)
    }
    web: subprocess.Popen[bytes] | None = None
    asked_to_stop = False
    try:
        for child in supervised:
            child.start()
        say(f"gongzhi: serving on http://{bind}/ (Ctrl-C stops the server and the worker)")
        web = subprocess.Popen(  # noqa: S603 (fixed argv, our own program)
            web_command(python, bind=bind, workers=workers, production=production)
        )
        while web.poll() is None:
            now = time.monotonic()
            for child in supervised:
                child.check(now, say)
            time.sleep(POLL)
    except (KeyboardInterrupt, Stop):
        asked_to_stop = True
    finally:
        # Stopping takes a moment: a second signal must not leave the children behind.
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        processes = [c.process for c in supervised if c.process is not None]
        stop_all([*processes, *([web] if web is not None else [])])
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    status = web.returncode if web is not None else 0
    if asked_to_stop or not status:
        return 0
    return status if status > 0 else 1


def add_arguments(parser: argparse.ArgumentParser | CommandParser) -> None:
    parser.add_argument("--bind", default="127.0.0.1:8000")
    parser.add_argument("--production", action="store_true", help="gunicorn instead of runserver")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    parser.add_argument("--no-worker", action="store_true", help="web server only")
    parser.add_argument(
        "--background",
        default=",".join(background_commands("python")),
        help="the background processes to run, comma-separated (default: all of them: "
        "%(default)s); with several machines, run the clock and the tallies on one only",
    )


def chosen_background(no_worker: bool, background: str) -> list[str]:
    if no_worker:
        return []
    known = background_commands("python")
    names = [name.strip() for name in background.split(",") if name.strip()]
    unknown = [name for name in names if name not in known]
    if unknown:
        raise SystemExit(
            f"unknown background process {', '.join(unknown)}; known: {', '.join(known)}"
        )
    return names


class Command(BaseCommand):
    help = "Run the web server and the background processes together."

    def add_arguments(self, parser: CommandParser) -> None:
        add_arguments(parser)

    def handle(
        self,
        *args: Any,
        bind: str,
        production: bool,
        workers: int,
        no_worker: bool,
        background: str,
        **options: Any,
    ) -> None:
        status = serve(
            bind=bind,
            production=production,
            workers=workers,
            background=chosen_background(no_worker, background),
            say=self.stdout.write,
        )
        if status:
            sys.exit(status)


if __name__ == "__main__":
    # ``python -m gongzhi.core.management.commands.serve``: the same, without setting up
    # Django first (the supervisor does not need it; its children set it up themselves).
    arguments = argparse.ArgumentParser(description=Command.help)
    add_arguments(arguments)
    parsed = arguments.parse_args()
    sys.exit(
        serve(
            bind=parsed.bind,
            production=parsed.production,
            workers=parsed.workers,
            background=chosen_background(parsed.no_worker, parsed.background),
        )
    )
