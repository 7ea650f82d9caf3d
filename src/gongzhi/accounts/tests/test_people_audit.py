"""Changes to people that matter for security are audited however they are made
(accounts.people): the admin's pages, the command line, the shell."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client

from gongzhi.accounts.models import User
from gongzhi.core.models import AuditEvent
from gongzhi.core.timeline import verify_chains
from gongzhi.demo.testing import World


def person_events(person: User) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (e.action, e.actor.username if e.actor else "system", e.data)
        for e in AuditEvent.objects.filter(stream=f"person:{person.pk}").order_by("seq")
    ]


def superuser_client() -> tuple[Client, User]:
    boss = User.objects.create_superuser(username="boss", password="a-long-real-password-1")
    client = Client()
    client.force_login(boss)
    return client, boss


def test_ordinary_people_signing_up_and_logging_in_leave_no_person_event(world: World):
    person = User.objects.create_user(username="resident_2", password="a-long-real-password-1")
    assert (
        Client()
        .post("/accounts/login/", {"username": "resident_2", "password": "a-long-real-password-1"})
        .status_code
        == 302
    )
    person.display_name = "王五"
    person.save()
    assert person_events(person) == []


def test_an_admin_making_someone_superuser_and_deactivating_them_is_recorded(world: World):
    client, _boss = superuser_client()
    person = User.objects.get(username="handler")
    form = {
        "username": "handler",
        "is_active": "",
        "is_staff": "on",
        "is_superuser": "on",
        "display_name": person.display_name,
        "phone": person.phone,
        "last_login_0": "",
        "last_login_1": "",
        "date_joined_0": "2026-01-01",
        "date_joined_1": "00:00:00",
    }
    response = client.post(f"/admin/accounts/user/{person.pk}/change/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert person_events(person) == [
        (
            "person.changed",
            "boss",
            {
                "is_active": {"from": True, "to": False},
                "is_staff": {"from": False, "to": True},
                "is_superuser": {"from": False, "to": True},
                "is_demo": {"from": True, "to": False},
            },
        )
    ]
    event = AuditEvent.objects.get(stream=f"person:{person.pk}")
    assert (event.subject_type, event.subject_label, event.region_path) == (
        "person",
        "handler",
        world.city.path,
    )
    assert list(verify_chains(AuditEvent)) == []


def test_a_password_set_in_the_admin_is_recorded_without_the_hash(world: World):
    client, _boss = superuser_client()
    person = User.objects.get(username="handler")
    response = client.post(
        f"/admin/accounts/user/{person.pk}/password/",
        {
            "password1": "another-long-password-9",
            "password2": "another-long-password-9",
            "usable_password": "true",
        },
    )
    assert response.status_code == 302
    assert person_events(person) == [("person.changed", "boss", {"password": "changed"})]


def test_groups_and_deletion_are_recorded(world: World):
    person = User.objects.get(username="handler")
    group = Group.objects.create(name="auditors")
    person.groups.add(group)
    person.groups.clear()
    pk = person.pk
    person.delete()
    assert [(a, who, d) for a, who, d in person_events(User(pk=pk))] == [
        (
            "person.permissions_changed",
            "system",
            {"what": "groups", "change": "add", "names": ["auditors"]},
        ),
        (
            "person.permissions_changed",
            "system",
            {"what": "groups", "change": "clear", "names": []},
        ),
        ("person.deleted", "system", {}),
    ]


def test_a_superuser_made_on_the_command_line_is_recorded(world: World, monkeypatch: Any):
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a-long-real-password-1")
    call_command("createsuperuser", "--noinput", username="root2", email="r@example.org")
    person = User.objects.get(username="root2")
    assert person_events(person) == [
        ("person.created", "system", {"is_staff": True, "is_superuser": True})
    ]


def test_the_admins_index_lists_what_an_administrator_may_see(world: World):
    """city_admin has no Django permissions, only a scope: the index follows the scope."""
    client = Client()
    client.force_login(world.persona("city_admin"))
    index = client.get("/admin/").content.decode()
    for listed in (
        "/admin/accounts/membership/",
        "/admin/accounts/apikey/",
        "/admin/core/auditevent/",
        "/admin/territory/region/",
        "/admin/territory/unit/",
    ):
        assert f'href="{listed}"' in index
    assert 'href="/admin/accounts/user/"' not in index  # people: superusers only
    assert 'href="/admin/otp_totp/totpdevice/"' not in index
    resident = Client()
    resident.force_login(world.persona("resident"))
    assert resident.get("/admin/").status_code == 302  # not staff
