from __future__ import annotations

import os
import subprocess
import sys


def run_settings(**env: str) -> subprocess.CompletedProcess[str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GONGZHI_", "DJANGO_")) and k != "DATABASE_URL"
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import gongzhi.config.settings as s; "
            "print(s.DEBUG, s.DEMO_LOGINS_ENABLED, s.DATABASES['default']['ENGINE'])",
        ],
        env={**clean, **env},
        capture_output=True,
        text=True,
        check=False,
    )


def test_production_refuses_to_start_without_a_secret_key():
    result = run_settings()
    assert result.returncode == 1
    assert "GONGZHI_SECRET_KEY must be set when GONGZHI_DEBUG is off" in result.stderr


def test_production_settings_lock_demo_logins_and_secure_cookies():
    result = run_settings(GONGZHI_SECRET_KEY="k" * 50, DATABASE_URL="postgres://u@127.0.0.1:5432/x")
    assert result.stdout.split() == ["False", "False", "django.db.backends.postgresql"]


def test_development_settings_use_sqlite_and_allow_demo_logins():
    result = run_settings(GONGZHI_DEBUG="1")
    assert result.stdout.split() == ["True", "True", "django.db.backends.sqlite3"]
