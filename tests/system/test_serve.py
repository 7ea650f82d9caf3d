"""``gongzhi serve`` supervises what it starts: a background process that exits is started
again, and SIGTERM stops every process it started (none is left behind).

The supervisor is the real one (``serve()`` in a process of its own); its children are
stand-ins that sleep, so that this takes a second rather than a Django start per child.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import textwrap

import pytest

from tests.system.support import PYTHON, REPO, process_group, wait_for

pytestmark = [pytest.mark.system]

SUPERVISOR = textwrap.dedent(
    """
    import sys
    from gongzhi.core.management.commands import serve

    def sleep(name):
        return [sys.executable, "-c", "import time; time.sleep(600)", name]

    serve.background_commands = lambda python: {"worker": sleep("worker"), "clock": sleep("clock")}
    serve.web_command = lambda python, **options: sleep("web")
    sys.exit(serve.serve(bind="-", production=True, workers=1, background=["worker", "clock"]))
    """
)


def children(pgid: int) -> dict[int, str]:
    return {pid: cmd for pid, cmd in process_group(pgid).items() if pid != pgid}


def test_serve_starts_an_exited_process_again_and_stops_them_all_on_sigterm() -> None:
    supervisor = subprocess.Popen(  # noqa: S603
        [PYTHON, "-c", SUPERVISOR],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_for("the three children", lambda: len(children(supervisor.pid)) == 3, 60)
        started = set(children(supervisor.pid))
        victim = next(pid for pid, cmd in children(supervisor.pid).items() if "worker" in cmd)
        os.kill(victim, signal.SIGKILL)

        def replaced() -> bool:
            now = set(children(supervisor.pid))
            return len(now) == 3 and victim not in now

        wait_for("the killed child to be started again", replaced, 60)
        assert len(set(children(supervisor.pid)) - started) == 1

        supervisor.send_signal(signal.SIGTERM)
        assert supervisor.wait(timeout=60) == 0
        wait_for("every child to stop", lambda: not process_group(supervisor.pid), 60)
        output = supervisor.stdout.read().decode() if supervisor.stdout else ""
        assert "exited with status -9; starting it again in 1 s" in output
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(supervisor.pid, signal.SIGKILL)
        supervisor.wait(timeout=30)
