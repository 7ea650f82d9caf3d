"""The Content-Security-Policy: the header every page carries, where map tiles may come
from, and templates that keep a strict policy possible (no inline script, no inline style).

The browser side (every persona's pages open without a refused script, style or image) is
``tests/e2e/test_csp.py``.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import Client

from gongzhi.core.csp import tile_sources
from gongzhi.demo.testing import client_for

# What settings.py sends when no tile server is configured (the test environment has none).
POLICY = {
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
}
SRC = Path(__file__).resolve().parents[2]  # src/gongzhi


def directives(header: str) -> set[str]:
    """The policy's directives; django-csp writes them in no fixed order."""
    return set(header.split("; "))


def test_the_login_page_carries_the_exact_policy(db):
    response = Client().get("/accounts/login/")
    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert directives(response["Content-Security-Policy"]) == POLICY
    assert "Content-Security-Policy-Report-Only" not in response


def test_a_staff_page_the_admin_and_an_error_page_carry_the_same_policy(world):
    dispatcher = client_for("dispatcher")
    admin = client_for("city_admin")
    for client, path, status in (
        (dispatcher, "/cases/map/", 200),
        (admin, "/admin/", 200),
        (dispatcher, "/no-such-page/", 404),
    ):
        response = client.get(path)
        assert response.status_code == status, path
        assert directives(response["Content-Security-Policy"]) == POLICY, path


def test_the_json_api_carries_it_too(db):
    response = Client().get("/api/v1/me")
    assert response.status_code == 401
    assert directives(response["Content-Security-Policy"]) == POLICY


def policy_with_tiles(tiles_url: str) -> subprocess.CompletedProcess[str]:
    """The settings as a server with this tile server loads them (a process of its own:
    the policy is built when the settings are)."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("GONGZHI_", "DJANGO_")) and k != "DATABASE_URL"
    }
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import gongzhi.config.settings as s; "
            "print(' '.join(s.CONTENT_SECURITY_POLICY['DIRECTIVES']['img-src']))",
        ],
        env={**env, "GONGZHI_DEBUG": "1", "GONGZHI_MAP_TILES_URL": tiles_url},
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_configured_tile_server_may_send_images():
    result = policy_with_tiles("https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png")
    assert result.stdout.strip() == "'self' data: https://*.tile.openstreetmap.org"


def test_a_tile_server_the_policy_cannot_name_stops_the_start():
    result = policy_with_tiles("https://tiles-{s}.example.org/{z}/{x}/{y}.png")
    assert result.returncode == 1
    assert (
        "GONGZHI_MAP_TILES_URL='https://tiles-{s}.example.org/{z}/{x}/{y}.png' cannot be "
        "allowed by the Content-Security-Policy: a placeholder in the host name is allowed "
        "only as its first label, as in https://{s}.tile.example.org/{z}/{x}/{y}.png."
    ) in result.stderr


@pytest.mark.parametrize(
    ("template", "sources"),
    [
        ("", []),
        ("  ", []),
        ("/tiles/{z}/{x}/{y}.png", []),
        (
            "https://{s}.tile.openstreetmap.org/{z}/{x}/{y}.png",
            ["https://*.tile.openstreetmap.org"],
        ),
        ("https://tiles.example.org:8443/{z}/{x}/{y}.png", ["https://tiles.example.org:8443"]),
        ("http://127.0.0.1:9000/{z}/{x}/{y}.png?key=abc", ["http://127.0.0.1:9000"]),
        ("//{s}.tiles.example.org/{z}/{x}/{y}.png", ["*.tiles.example.org"]),
        ("https://user:secret@tiles.example.org/{z}/{x}/{y}.png", ["https://tiles.example.org"]),
    ],
)
def test_tile_sources(template, sources):
    assert tile_sources(template) == sources


@pytest.mark.parametrize(
    ("template", "why"),
    [
        ("ftp://tiles.example.org/{z}/{x}/{y}.png", "tiles can only be loaded over http or https"),
        ("data:image/png;base64,AAAA", "it needs to be an http(s) URL or a path on this site"),
        ("https://{s}/{z}/{x}/{y}.png", "a placeholder in the host name is allowed only"),
        ("https://{s}.{s}.example.org/{z}.png", "a placeholder in the host name is allowed only"),
    ],
)
def test_tile_templates_csp_cannot_express_are_refused(template, why):
    with pytest.raises(ImproperlyConfigured, match=re.escape(why)):
        tile_sources(template)


def template_files() -> list[Path]:
    return sorted(p for p in SRC.glob("**/templates/**/*.html") if "tests" not in p.parts)


def test_templates_have_no_inline_script_or_style():
    """What a strict policy refuses: <style>, style="", on...="" handlers, javascript: URLs
    and <script> without src (json_script's data blocks are written by a filter, not here)."""
    found = []
    for path in template_files():
        text = path.read_text(encoding="utf-8")
        for pattern in (
            r"<style\b",
            r"\sstyle\s*=",
            r"\son[a-z]+\s*=",
            r"javascript:",
            r"<script\b(?![^>]*\ssrc=)[^>]*>",
        ):
            found += [
                f"{path.relative_to(SRC)}: {m.group(0)}" for m in re.finditer(pattern, text, re.I)
            ]
    assert len(template_files()) > 50
    assert found == []
