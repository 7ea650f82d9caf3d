"""Settings, read from the environment (twelve-factor).

Everything a deployment changes is an environment variable; nothing else varies.

- ``DATABASE_URL``: ``postgres://user@host:5432/name``; unset means SQLite in WAL mode at
  ``var/gongzhi.sqlite3``.
- ``GONGZHI_DEBUG``: ``1`` for development (``make run`` sets it). Demo logins only work with it.
- ``GONGZHI_SECRET_KEY``: required when debug is off.
- ``GONGZHI_ALLOWED_HOSTS``: comma-separated host names, when debug is off.
- ``GONGZHI_TRIAGE_THRESHOLD``: how probable a classifier's category must be to be applied
  at intake (default 0.6); below it the dispatcher chooses among the top three.
- ``GONGZHI_MAP_TILES_URL``: a Leaflet tile URL template; unset draws regions on a blank map.
"""

from __future__ import annotations

import os
from pathlib import Path

import dj_database_url
from csp.constants import NONE, SELF
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from gongzhi.core.csp import tile_sources

BASE_DIR = Path(__file__).resolve().parent.parent  # src/gongzhi
PROJECT_DIR = BASE_DIR.parent.parent
VAR_DIR = Path(os.environ.get("GONGZHI_VAR_DIR", PROJECT_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_flag(name: str, default: bool = False) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("GONGZHI_DEBUG")
# Demo personas share a published password, so they may only log in on a development server.
DEMO_LOGINS_ENABLED = DEBUG
# The Django admin (superusers and staff, who can read everyone's personal data) asks for a
# code from an authenticator app after the password (accounts.two_step, ADR 0008).
GONGZHI_ADMIN_TWO_STEP = env_flag("GONGZHI_ADMIN_TWO_STEP", default=True)
OTP_TOTP_ISSUER = "共治 gongzhi"

SECRET_KEY = os.environ.get("GONGZHI_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "GONGZHI_SECRET_KEY must be set when GONGZHI_DEBUG is off "
            "(for development run `make run`, which sets GONGZHI_DEBUG=1)."
        )
    SECRET_KEY = "gongzhi-insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = [
    h.strip()
    for h in os.environ.get("GONGZHI_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if h.strip()
]
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]

INSTALLED_APPS = [
    "gongzhi.config.apps.AdminConfig",  # Django's admin, on a site that wants two steps
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "django_tasks",
    "django_tasks_db",
    "js_lib_htmx",
    "js_lib_leaflet",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "gongzhi.core",
    "gongzhi.accounts",
    "gongzhi.territory",
    "gongzhi.cases",
    "gongzhi.dispatch",
    "gongzhi.notifications",
    "gongzhi.triage",
    "gongzhi.evaluation",
    "gongzhi.dashboards",
    "gongzhi.open311",
    "gongzhi.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): was this session signed in with a code (accounts.two_step)
    "django_otp.middleware.OTPMiddleware",
    # Deny by default: every view needs a login unless marked @login_not_required.
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "gongzhi.core.middleware.DomainErrorMiddleware",
]

ROOT_URLCONF = "gongzhi.config.urls"
WSGI_APPLICATION = "gongzhi.config.wsgi.application"
ASGI_APPLICATION = "gongzhi.config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "gongzhi.accounts.context_processors.acting_as",
                "gongzhi.notifications.context_processors.notices",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=600)}
    if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
        # A persistent connection is checked before each request reuses it, so one broken
        # while the database was away is replaced by itself once it is back.
        DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
        # While the database cannot be reached, give up connecting after a few seconds and
        # answer 503 (core/availability.py), well before gunicorn's worker timeout (30 s).
        DATABASES["default"].setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(VAR_DIR / "gongzhi.sqlite3"),
            "OPTIONS": {
                # WAL lets the web server and the worker read while one writes.
                "init_command": (
                    "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; "
                    "PRAGMA busy_timeout=5000; PRAGMA foreign_keys=ON;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Accounts -------------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = ["gongzhi.accounts.auth.GongzhiBackend"]
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# A classifier's proposal at least this probable sets a new case's category (and so its
# proposed unit) at intake; below it the dispatcher chooses among the top three.
GONGZHI_TRIAGE_THRESHOLD = float(os.environ.get("GONGZHI_TRIAGE_THRESHOLD", "0.6"))
# Personal API tokens from POST /api/v1/auth/token expire after this many hours.
GONGZHI_PERSONAL_TOKEN_HOURS = int(os.environ.get("GONGZHI_PERSONAL_TOKEN_HOURS", "12"))
# Open311 "realtime" (POST answers the case number) or "batch" (POST is accepted into the
# intake queue and answers a token; the case follows within seconds: ADR 0007).
GONGZHI_OPEN311_SERVICE_TYPE = os.environ.get("GONGZHI_OPEN311_SERVICE_TYPE", "realtime")

# --- Internationalisation: Chinese first, English second --------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static files ---------------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS: list[Path | tuple[str, Path]] = [BASE_DIR / "static"]
# ECharts comes from npm at build time (`make assets`, package-lock.json); pages that draw
# charts show the same figures as tables when it is missing.
ECHARTS_DIR = PROJECT_DIR / "node_modules" / "echarts" / "dist"
if ECHARTS_DIR.is_dir():
    STATICFILES_DIRS.append(("vendor/echarts", ECHARTS_DIR))
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise expects it, even before collectstatic
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
MEDIA_ROOT = VAR_DIR / "media"
WHITENOISE_USE_FINDERS = DEBUG

# --- Background work --------------------------------------------------------------------------
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

# --- Maps ----------------------------------------------------------------------------------
GONGZHI_MAP_TILES_URL = os.environ.get("GONGZHI_MAP_TILES_URL", "")

# --- Security -------------------------------------------------------------------------------
SESSION_ENGINE = "gongzhi.core.sessions"  # database sessions that survive a database outage
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
CSRF_FAILURE_VIEW = "gongzhi.config.error_handlers.csrf_failure"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG and env_flag("GONGZHI_HTTPS", default=True):
    SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = env_flag("GONGZHI_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = int(os.environ.get("GONGZHI_HSTS_SECONDS", str(365 * 24 * 3600)))
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
if env_flag("GONGZHI_BEHIND_PROXY"):
    # Only behind a proxy that sets this header itself (never passes the client's through).
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy on every response (django-csp; the format of Django 6.0's own
# SECURE_CSP, so moving to it later is a rename). Everything the pages load is served by the
# site itself: no inline script, no inline style (no <style> and no style="" in templates;
# ECharts draws its tooltips on the canvas, htmx adds no indicator style), no eval. Styles
# that Leaflet and ECharts set from JavaScript (element.style) are not inline styles and
# need nothing. The one outside source is the tile server of GONGZHI_MAP_TILES_URL
# (core/csp.py turns the template into sources).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:", *tile_sources(GONGZHI_MAP_TILES_URL)],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}
# After WhiteNoise, which answers static files (scripts, styles, images) before it: they need
# no policy of their own. The admin needs no looser policy: Django 5.2's admin has no inline
# script or style attribute, and its one <style> (a change list whose ModelAdmin turns off both
# action bars) is in no change list here; tests/e2e/test_csp.py opens the admin in Chromium.
MIDDLEWARE.insert(
    MIDDLEWARE.index("whitenoise.middleware.WhiteNoiseMiddleware") + 1,
    "csp.middleware.CSPMiddleware",
)

# --- Logging: never personal data; request bodies are not logged -----------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "filters": {"database_down": {"()": "gongzhi.core.availability.DatabaseDownFilter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": os.environ.get("GONGZHI_LOG_LEVEL", "INFO")},
    "loggers": {
        "django.db.backends": {"level": "WARNING"},
        # One warning line per request while the database is away, not a traceback each.
        "django.request": {"filters": ["database_down"]},
    },
}

# Optional marker for log and page titles.
GONGZHI_SITE_NAME = _("gongzhi city governance")
