"""The web server ``gongzhi serve`` starts: runserver in development, gunicorn in production.

gunicorn 25+ opens a control socket at one path per user and machine unless told otherwise,
so instances on the same machine (the system tests' servers, the benchmarks', a second
deployment) would take it over from each other; ``serve`` turns it off.
"""

from __future__ import annotations

import os
import subprocess
import sys

from gongzhi.core.management.commands.serve import web_command


def test_production_runs_gunicorn_without_its_control_socket():
    argv = web_command("python", bind="127.0.0.1:9000", workers=3, production=True)
    assert argv == [
        "python",
        "-m",
        "gunicorn",
        "gongzhi.config.wsgi:application",
        "--bind",
        "127.0.0.1:9000",
        "--workers",
        "3",
        "--worker-class",
        "sync",
        "--access-logfile",
        "-",
        "--no-control-socket",
    ]


def test_development_runs_django_runserver():
    argv = web_command("python", bind="127.0.0.1:9000", workers=3, production=False)
    assert argv == ["python", "-m", "gongzhi", "runserver", "127.0.0.1:9000"]


def test_gunicorn_reads_the_command_line_with_its_control_socket_off(tmp_path):
    """gunicorn itself parses serve's command line (``--print-config`` loads the application
    and prints every setting as resolved, then exits without serving)."""
    argv = web_command(sys.executable, bind="127.0.0.1:0", workers=1, production=True)
    env = {**os.environ, "GONGZHI_VAR_DIR": str(tmp_path)}
    result = subprocess.run(  # noqa: S603 (our own program)
        [*argv, "--print-config"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    lines = (line.partition("=") for line in result.stdout.splitlines())
    settings = {name.strip(): value.strip() for name, _, value in lines}
    assert settings["control_socket_disable"] == "True"
    assert settings["workers"] == "1"
    assert settings["worker_class"] == "sync"
