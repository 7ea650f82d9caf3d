"""Prepare a scratch database for the system tests, in a process of its own.

Run as ``python tests/system/seed.py OUT.json`` with ``DJANGO_SETTINGS_MODULE`` set to the
production settings and ``DATABASE_URL`` (or ``GONGZHI_VAR_DIR`` for SQLite) pointing at the
scratch database. It migrates, builds the small demo city without history, and writes to
OUT.json what the tests need to drive the servers: staff accounts that may log in with
``GONGZHI_DEBUG`` off (the demo personas may not, as in production) with their personal
tokens, a resident's token, Open311 integration keys, a category, points in grid 1, a web
session of the dispatcher, and cases in grid 1 for the tests to act on.
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any

PASSWORD = "system-tests-password-0123456789"
# Staff accounts: each copies the memberships of a demo persona (same unit, role, region).
STAFF = {
    "dispatcher": "dispatcher",  # command centre, city: register, dispatch, close, reopen
    "handler": "street_officer",  # street office 1: sign for, return, reply
    "grid": "grid_worker",  # committee 1, grid 1: verify
    "leader": "district_leader",  # district 1: supervise
}
CASE_GROUPS = {"concurrency": 3, "crash_actions": 4, "deadlines": 4, "outage_actions": 2}


def points_in(boundary: dict[str, Any], count: int, rng: random.Random) -> list[list[float]]:
    from gongzhi.territory.queries import contains

    ring = boundary["coordinates"][0]
    if boundary["type"] == "MultiPolygon":
        ring = ring[0]
    lngs, lats = [p[0] for p in ring], [p[1] for p in ring]
    found: list[list[float]] = []
    while len(found) < count:
        lat, lng = rng.uniform(min(lats), max(lats)), rng.uniform(min(lngs), max(lngs))
        if contains(boundary, lat, lng):
            found.append([round(lat, 6), round(lng, 6)])
    return found


def write_static_manifest() -> None:
    """A manifest that names every static file as itself, so that pages render with the
    production settings (manifest storage) without the 20 s of ``collectstatic``; the
    tests fetch pages, never static files."""
    from django.conf import settings
    from django.contrib.staticfiles import finders

    paths = {}
    for finder in finders.get_finders():
        for path, _storage in finder.list(["CVS", ".*", "*~"]):
            paths[path] = path
    root = Path(settings.STATIC_ROOT)
    root.mkdir(parents=True, exist_ok=True)
    manifest = {"paths": paths, "version": "1.1", "hash": "system-tests"}
    (root / "staticfiles.json").write_text(json.dumps(manifest), encoding="utf-8")


def prepare() -> dict[str, Any]:
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.core.management import call_command
    from django.test import override_settings

    call_command("migrate", verbosity=0, interactive=False)

    from gongzhi.accounts.models import Membership, User
    from gongzhi.accounts.services import grant_membership, issue_personal_token, system_actor
    from gongzhi.cases import services as case_services
    from gongzhi.cases.models import Category
    from gongzhi.core.sessions import SessionStore
    from gongzhi.demo.build import SMALL, build_demo_city
    from gongzhi.demo.testing import World
    from gongzhi.open311.queries import services as open311_services
    from gongzhi.open311.services import reissue_client_key
    from gongzhi.territory.queries import region_at

    rng = random.Random(20261130)
    # Fast password hashing for the scratch accounts (the servers check tokens, not these).
    fast = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    fast.enable()
    build_demo_city(SMALL, cases=0)
    world = World.load()
    actor = system_actor()

    tokens: dict[str, str] = {}
    users: dict[str, User] = {}
    for name, persona in STAFF.items():
        user = User.objects.create_user(
            username=f"system_{name}", password=PASSWORD, display_name=f"系统测试{name}"
        )
        for membership in Membership.objects.filter(user__username=persona, is_active=True):
            grant_membership(
                user,
                unit=membership.unit,
                role=membership.role,
                region=membership.region,
                title=membership.title,
                actor=actor,
            )
        users[name] = user
        tokens[name] = issue_personal_token(None, username=user.username, password=PASSWORD).token
    resident = User.objects.create_user(
        username="system_resident", password=PASSWORD, display_name="林小雨"
    )
    tokens["resident"] = issue_personal_token(
        None, username=resident.username, password=PASSWORD
    ).token
    handler_unit = Membership.objects.get(user__username=STAFF["handler"], is_active=True).unit

    keys = [
        reissue_client_key(unit=world.command_centre, name=f"system test {i}", actor=actor).token
        for i in range(4)
    ]
    codes = [s.code for s in open311_services()]
    points = points_in(world.grid_1.boundary, 40, rng)
    assert all(region_at(lat, lng) == world.grid_1 for lat, lng in points)
    service_categories = {s.code: s.category for s in open311_services()}
    category = service_categories[codes[0]]
    assert isinstance(category, Category)

    cases: dict[str, list[dict[str, Any]]] = {}
    for group, count in CASE_GROUPS.items():
        cases[group] = []
        for i in range(count):
            lat, lng = points[i % len(points)]
            case = case_services.submit_case(
                case_services.NewCase(
                    title=f"{group} {i}: 路灯不亮",
                    description="幸福路与建设路交叉口的路灯连续三晚不亮，夜里行人看不清路。",
                    channel="web",
                    region=world.grid_1,
                    latitude=lat,
                    longitude=lng,
                    category=category,
                ),
                actor=resident,
            )
            cases[group].append({"id": str(case.pk), "number": case.number})

    write_static_manifest()
    session = SessionStore()
    dispatcher = users["dispatcher"]
    session[SESSION_KEY] = str(dispatcher.pk)
    session[BACKEND_SESSION_KEY] = "gongzhi.accounts.auth.GongzhiBackend"
    session[HASH_SESSION_KEY] = dispatcher.get_session_auth_hash()
    session.create()

    return {
        "tokens": tokens,
        "keys": keys,
        "service_codes": codes[:10],
        "category_id": category.pk,
        "handler_unit_id": handler_unit.pk,
        "points": points,
        "cases": cases,
        "session_key": session.session_key,
    }


def main() -> int:
    import django

    django.setup()
    result = prepare()
    Path(sys.argv[1]).write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
