"""Rate limits for the public Open311 endpoints, counted in Django's cache.

Two kinds of bucket, each a fixed window: one per client address (``REMOTE_ADDR``; behind a
proxy, the proxy must set it), for requests without a valid key; one per API key, for
requests that carry a valid key (so a city's integration behind one address is limited by
its own allowance, not by the public's). Over the limit: HTTP 429 with an Open311 error
body and ``Retry-After``. Settings (requests per window, window in seconds)::

    GONGZHI_OPEN311_RATE_LIMIT_ADDRESS = (120, 60)
    GONGZHI_OPEN311_RATE_LIMIT_KEY = (600, 60)
    GONGZHI_OPEN311_CACHE = "default"

The default cache is Django's LocMemCache, which counts per process; with several app
processes, point ``GONGZHI_OPEN311_CACHE`` at a shared cache (Redis, Memcached, database).
"""

from __future__ import annotations

import hashlib
import time

from django.conf import settings
from django.core.cache import caches

DEFAULT_ADDRESS_LIMIT = (120, 60)
DEFAULT_KEY_LIMIT = (600, 60)


def _limit(name: str, default: tuple[int, int]) -> tuple[int, int]:
    limit, window = getattr(settings, name, default)
    return int(limit), max(1, int(window))


def hit(kind: str, identity: str) -> int | None:
    """Count one request; the seconds to wait when over the limit, else None."""
    if kind == "key":
        limit, window = _limit("GONGZHI_OPEN311_RATE_LIMIT_KEY", DEFAULT_KEY_LIMIT)
    else:
        limit, window = _limit("GONGZHI_OPEN311_RATE_LIMIT_ADDRESS", DEFAULT_ADDRESS_LIMIT)
    cache = caches[getattr(settings, "GONGZHI_OPEN311_CACHE", "default")]
    now = time.time()
    slot = int(now // window)
    digest = hashlib.sha256(identity.encode("utf-8")).hexdigest()[:32]
    bucket = f"open311:rate:{kind}:{digest}:{slot}"
    cache.add(bucket, 0, timeout=window + 1)
    try:
        count = cache.incr(bucket)
    except ValueError:  # expired between add and incr
        cache.set(bucket, 1, timeout=window + 1)
        count = 1
    if count > limit:
        return max(1, int(window - now % window))
    return None
