"""Django's database sessions, made safe for a database outage.

When the database cannot be reached, Django's own store raises while loading and leaves
itself half-built, so the session middleware then fails with an AttributeError and the
person gets a 500 instead of our 503 (``core/availability.py``). Here a failed load leaves
an empty session behind and re-raises the database error for the error handler.
"""

from __future__ import annotations

from typing import Any

from django.contrib.sessions.backends.db import SessionStore as DatabaseSessionStore
from django.db import InterfaceError, OperationalError


class SessionStore(DatabaseSessionStore):
    def load(self) -> dict[str, Any]:
        try:
            return super().load()
        except (OperationalError, InterfaceError):
            self._session_cache: dict[str, Any] = {}
            raise
