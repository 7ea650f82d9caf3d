"""Fetching a photo from a client's ``media_url`` (in a background task, never in a request).

Only http(s) to public addresses: the host must resolve to global addresses only (no
loopback, private, link-local or reserved ranges: the server must not be tricked into
reading its own network), redirects are not followed, at most 8 MB are read within 10
seconds. The bytes then go through ``cases.services.attach_file``, which checks that they are
a JPEG, PNG or WebP. Residual risk: DNS rebinding between the check and the connection
(docs/open311.md). ``GONGZHI_OPEN311_FETCH_MEDIA = False`` turns fetching off.
"""

from __future__ import annotations

import ipaddress
import socket
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from gongzhi.cases.services import MAX_UPLOAD_BYTES

TIMEOUT_SECONDS = 10


class RefusedMedia(Exception):
    pass


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        raise RefusedMedia("redirects are not followed")


def check_public(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise RefusedMedia("only http and https URLs")
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as error:
        raise RefusedMedia(f"cannot resolve host: {error}") from None
    for info in infos:
        address = ipaddress.ip_address(str(info[4][0]).split("%")[0])
        if not address.is_global:
            raise RefusedMedia("the host resolves to a non-public address")


def download(url: str) -> bytes:
    check_public(url)
    opener = urllib.request.build_opener(_NoRedirects)
    request = urllib.request.Request(url, headers={"User-Agent": "gongzhi-open311/1"})  # noqa: S310
    try:
        with opener.open(request, timeout=TIMEOUT_SECONDS) as response:
            content: bytes = response.read(MAX_UPLOAD_BYTES + 1)
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise RefusedMedia(f"cannot fetch: {error}") from None
    if len(content) > MAX_UPLOAD_BYTES:
        raise RefusedMedia("larger than 8 MB")
    return content
