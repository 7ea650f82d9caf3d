"""Error codes of the accounts app (stable: clients match on them)."""

from __future__ import annotations

from gongzhi.core.errors import Conflict, InvalidInput, NotAuthenticated


class InvalidCredentials(NotAuthenticated):
    code = "invalid_credentials"


class InvalidMembership(InvalidInput):
    code = "invalid_membership"


class AlreadyRevoked(Conflict):
    code = "already_revoked"


class SelfRevocation(Conflict):
    code = "self_revocation"
