"""Settings for the test suite, mypy and migration checks: the real settings, plus
test-only switches. Never used by a server."""

import os

os.environ.setdefault("GONGZHI_SECRET_KEY", "gongzhi-test-key-not-secret")

from gongzhi.config.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast, tests only
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
SECURE_SSL_REDIRECT = False
# The public page's figures are cached between requests in a server; tests see every change
# at once (the cache's own test turns it on).
GONGZHI_PUBLIC_CACHE_SECONDS = 0
# The admin's tests sign in with a password only; the two-step tests turn it on.
GONGZHI_ADMIN_TWO_STEP = False
