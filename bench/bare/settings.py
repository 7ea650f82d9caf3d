"""Settings of the bare baseline: the project's database handling, minimal everything else."""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url

SECRET_KEY = os.environ.get("GONGZHI_SECRET_KEY", "bench-bare-not-secret")
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bare"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.common.CommonMiddleware",
]
ROOT_URLCONF = "bare.urls"
WSGI_APPLICATION = "bare.wsgi.application"
USE_TZ = True
TIME_ZONE = "Asia/Shanghai"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# The same construction as gongzhi.config.settings ("Database").
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
else:
    VAR_DIR = Path(os.environ["GONGZHI_VAR_DIR"])
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "gongzhi.sqlite3"),
            "OPTIONS": {
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
