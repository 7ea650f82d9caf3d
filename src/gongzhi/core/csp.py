"""The Content-Security-Policy's one moving part: where map tiles may come from.

The policy itself is in ``config/settings.py`` (``CONTENT_SECURITY_POLICY``, sent by
django-csp's middleware). Everything it allows is served by the site itself, except the
tiles of a deployment's tile server (``GONGZHI_MAP_TILES_URL``), whose origin goes into
``img-src``. This module turns Leaflet's URL template into CSP source expressions, so the
operator configures the tile server once and the policy follows.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured

# Leaflet fills {s} from its ``subdomains`` option (a, b, c by default).
SUBDOMAIN = "{s}"


def tile_sources(template: str) -> list[str]:
    """The CSP sources that let the browser load the tiles of ``template``.

    ``https://{s}.tile.example.org/{z}/{x}/{y}.png`` gives ``https://*.tile.example.org``;
    ``https://tiles.example.org:8443/{z}/{x}/{y}.png`` gives ``https://tiles.example.org:8443``;
    a template without a host (``/tiles/{z}/{x}/{y}.png``) or none at all gives nothing,
    since ``'self'`` covers it. A template CSP cannot express raises ``ImproperlyConfigured``
    at start-up rather than leave every map blank.
    """
    template = template.strip()
    if not template:
        return []
    parts = urlsplit(template)
    if not parts.netloc:
        if parts.scheme:
            raise _unusable(template, "it needs to be an http(s) URL or a path on this site")
        return []
    if parts.scheme not in {"http", "https", ""}:
        raise _unusable(template, "tiles can only be loaded over http or https")
    host = parts.netloc.rpartition("@")[2]  # user:password@ never belongs in a policy
    if host.startswith(f"{SUBDOMAIN}."):
        host = "*" + host.removeprefix(SUBDOMAIN)
    if "{" in host or "}" in host or not host.strip("*."):
        raise _unusable(
            template,
            "a placeholder in the host name is allowed only as its first label, "
            "as in https://{s}.tile.example.org/{z}/{x}/{y}.png",
        )
    return [f"{parts.scheme}://{host}" if parts.scheme else host]


def _unusable(template: str, why: str) -> ImproperlyConfigured:
    return ImproperlyConfigured(
        f"GONGZHI_MAP_TILES_URL={template!r} cannot be allowed by the Content-Security-Policy: "
        f"{why}."
    )
