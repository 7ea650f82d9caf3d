"""Open311 errors: an HTTP status and one or more (code, description) pairs.

The spec (GeoReport v2, "Errors"): 404 for a resource that does not exist, 403 for a
missing or wrong ``api_key``, 400 for anything else; the body's ``code`` may be more
specific than the HTTP status, and several errors may be returned at once. Our one
addition is 429 for a client over its rate limit (docs/open311.md).
"""

from __future__ import annotations

from collections.abc import Sequence

from gongzhi.core.errors import DomainError

# Codes in the body beyond the HTTP status, for clients that want to tell cases apart.
IDEMPOTENCY_CONFLICT = 409
METHOD_NOT_ALLOWED = 405
TOO_MANY_REQUESTS = 429


class Open311Error(DomainError):
    """An error the adapter answers in the Open311 error format."""

    code = "open311_error"

    def __init__(
        self,
        description: str,
        *,
        status: int = 400,
        body_code: int | None = None,
        more: Sequence[tuple[int, str]] = (),
        retry_after: int | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.errors: list[tuple[int, str]] = [(body_code or status, description), *more]
        self.retry_after = retry_after


class BadRequest(Open311Error):
    def __init__(self, description: str, *, body_code: int | None = None) -> None:
        super().__init__(description, status=400, body_code=body_code)


class Invalid(Open311Error):
    """Several problems with one submission, reported together (each a 400)."""

    def __init__(self, descriptions: Sequence[str]) -> None:
        first, *rest = descriptions
        super().__init__(first, status=400, more=[(400, d) for d in rest])


class Forbidden(Open311Error):
    def __init__(self, description: str) -> None:
        super().__init__(description, status=403)


class Missing(Open311Error):
    def __init__(self, description: str) -> None:
        super().__init__(description, status=404)


class RateLimited(Open311Error):
    def __init__(self, description: str, *, retry_after: int) -> None:
        super().__init__(description, status=TOO_MANY_REQUESTS, retry_after=retry_after)
