"""While the database is away, pages and endpoints answer 503 with a clear message."""

from __future__ import annotations

import logging
import sys
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import Client

from gongzhi.accounts.models import User
from gongzhi.core.availability import DatabaseDownFilter, unavailable


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("/api/v1/me", "application/json"),
        ("/cases/map.json", "application/json"),
        ("/regions/", "text/html; charset=utf-8"),
        ("/", "text/html; charset=utf-8"),
    ],
)
def test_database_down_is_a_503_not_a_traceback(db, path, content_type):
    down = OperationalError("connection to server at 127.0.0.1 refused")
    with (
        mock.patch("django.contrib.sessions.backends.db.SessionStore.load", side_effect=down),
        mock.patch("gongzhi.config.api.find_valid_key", side_effect=down),
    ):
        client = Client(raise_request_exception=False, headers={"Accept-Language": "en"})
        client.cookies["sessionid"] = "x" * 32
        headers = {"Authorization": "Bearer gz_abc_def"} if path.startswith("/api/") else {}
        response = client.get(path, headers=headers)
    assert response.status_code == 503
    assert response["Content-Type"] == content_type
    assert response["Retry-After"] == "5"
    body = response.content.decode()
    assert "briefly unavailable" in body
    assert "Traceback" not in body
    assert "refused" not in body
    if content_type == "application/json":
        assert response.json()["code"] == "service_unavailable"


def test_other_errors_are_a_plain_500(db):
    with mock.patch("gongzhi.accounts.views.render", side_effect=RuntimeError("secret detail")):
        client = Client(raise_request_exception=False)
        client.force_login(User.objects.get(username="dispatcher"))
        response = client.get("/accounts/me/")
    assert response.status_code == 500
    assert "secret detail" not in response.content.decode()


@pytest.mark.parametrize(
    ("path", "accept", "content_type"),
    [
        ("/open311/v2/requests.xml", "", "application/json"),
        ("/cases/where.json", "", "application/json"),
        ("/cases/", "application/json", "application/json"),
        ("/cases/", "text/html,application/json;q=0.9", "text/html; charset=utf-8"),
        ("/cases/", "", "text/html; charset=utf-8"),
    ],
)
def test_machines_get_json_and_people_a_page(rf, path, accept, content_type):
    response = unavailable(rf.get(path, headers={"Accept": accept} if accept else {}))
    assert response.status_code == 503
    assert response["Content-Type"] == content_type
    assert response["Retry-After"] == "5"
    if content_type == "application/json":
        assert response.content.startswith(b'{"code": "service_unavailable", "message": ')


def test_the_request_log_leaves_out_tracebacks_of_a_database_outage():
    def record_of(error: Exception) -> logging.LogRecord:
        try:
            raise error
        except Exception:
            return logging.LogRecord(
                "django.request", logging.ERROR, __file__, 1, "boom", None, sys.exc_info()
            )

    keep = DatabaseDownFilter().filter
    assert keep(record_of(OperationalError("connection refused"))) is False
    assert keep(record_of(ValueError("a bug"))) is True
    assert keep(logging.LogRecord("django.request", logging.WARNING, "", 1, "x", None, None))
    assert logging.getLogger("django.request").filters[0].__class__ is DatabaseDownFilter
