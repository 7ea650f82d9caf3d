"""Authentication: passwords (with the demo lock) and API keys.

API keys look like ``gz_<prefix>_<secret>``. The prefix finds the row; only a SHA-256 of
the secret is stored (the secret is 256 random bits, so a slow hash adds nothing), and it
is compared in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.utils import timezone

from gongzhi.accounts import throttle
from gongzhi.accounts.models import ApiKey

KEY_PREFIX = "gz"


class GongzhiBackend(ModelBackend):
    """Django's backend, except that demo personas cannot log in unless demo logins are on,
    and nobody while their logins are throttled (``accounts.throttle``: the login page and
    the token login check first, to say why; this covers every other way in, like the admin,
    where ``authenticate`` then reports the refusal as a failure: ``accounts.signins``
    records it as refused)."""

    def authenticate(
        self,
        request: Any,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> Any:
        throttle.mark_refused(False)
        if isinstance(username, str):
            try:
                throttle.check(username, request)
            except throttle.LoginThrottled:
                throttle.mark_refused(True)
                raise DjangoPermissionDenied from None  # authenticate() stops at this backend
        return super().authenticate(request, username=username, password=password, **kwargs)

    def user_can_authenticate(self, user: Any) -> bool:
        if getattr(user, "is_demo", False) and not settings.DEMO_LOGINS_ENABLED:
            return False
        return super().user_can_authenticate(user)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def split_key(raw: str) -> tuple[str, str] | None:
    parts = raw.strip().split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def find_valid_key(raw: str) -> ApiKey | None:
    """The live key that ``raw`` names, or None (unknown, wrong secret, revoked, expired)."""
    parts = split_key(raw)
    if parts is None:
        return None
    prefix, secret = parts
    key = ApiKey.objects.select_related("user", "unit").filter(prefix=prefix).first()
    if key is None or not hmac.compare_digest(key.secret_hash, hash_secret(secret)):
        return None
    now = timezone.now()
    if key.revoked_at is not None or (key.expires_at is not None and key.expires_at <= now):
        return None
    if key.user is not None and not GongzhiBackend().user_can_authenticate(key.user):
        return None
    return key
