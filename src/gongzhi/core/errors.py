"""Domain errors carry a stable code (for machines) and a message (for people).

The API maps each class to one HTTP status in one handler (``gongzhi.config.api``);
views show the message. Codes never change once published.
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error a service or policy raises on purpose."""

    code = "error"
    status = 400

    def __init__(self, message: str, *, code: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details = details


class NotFound(DomainError):
    """Missing, or not visible to this user: the two are deliberately indistinguishable."""

    code = "not_found"
    status = 404


class PermissionDenied(DomainError):
    """Visible, but this user may not take this action."""

    code = "permission_denied"
    status = 403


class InvalidInput(DomainError):
    code = "invalid_input"
    status = 400


class Conflict(DomainError):
    """Someone else changed it first, or it is in the wrong state for this action."""

    code = "conflict"
    status = 409


class NotAuthenticated(DomainError):
    code = "not_authenticated"
    status = 401
