"""The project's production settings with the floor endpoint (``bare.floor``) mounted."""

from __future__ import annotations

from gongzhi.config.settings import *  # noqa: F403
from gongzhi.config.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "bare"]
ROOT_URLCONF = "bare.floor"
