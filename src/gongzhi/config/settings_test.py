"""Settings for the test suite: the real settings, with test-only switches."""

import os

os.environ.setdefault("GONGZHI_TESTING", "1")

from gongzhi.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
