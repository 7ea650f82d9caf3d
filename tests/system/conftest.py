"""Fixtures of the system tests: one scratch database for the session (SQLite, or PostgreSQL
when ``DATABASE_URL`` points at it), seeded once, and one production server on it that the
tests share (a test that kills it starts it again; the session's end stops it, whatever
happened). On PostgreSQL the server reaches the database through a TCP proxy, so that the
outage test can take the database away without touching the PostgreSQL server.

pytest-django gives the test process its own test database; the servers use the scratch
database, and the tests read it directly (``support.ScratchDatabase.rows``).
"""

from __future__ import annotations

import os
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.system.support import ProductionServer, ScratchDatabase, TcpProxy


@pytest.fixture(scope="session")
def system_logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Server and helper logs (their paths appear in failure messages)."""
    return tmp_path_factory.mktemp("system-logs")


@pytest.fixture(scope="session")
def scratch(
    tmp_path_factory: pytest.TempPathFactory, django_db_blocker: Any
) -> Iterator[ScratchDatabase]:
    database = ScratchDatabase.create(
        tmp_path_factory.mktemp("system-var"), os.environ.get("DATABASE_URL", "")
    )
    database.blocker = django_db_blocker
    try:
        yield database
    finally:
        database.drop()


@pytest.fixture(scope="session")
def seeded(scratch: ScratchDatabase, system_logs: Path) -> dict[str, Any]:
    return scratch.seed(system_logs)


@pytest.fixture(scope="session")
def db_proxy(scratch: ScratchDatabase) -> Iterator[TcpProxy | None]:
    if scratch.kind != "postgres":
        yield None
        return
    parts = urllib.parse.urlsplit(scratch.url)
    proxy = TcpProxy(parts.hostname or "127.0.0.1", parts.port or 5432)
    try:
        yield proxy
    finally:
        proxy.close()


@pytest.fixture(scope="session")
def production(
    scratch: ScratchDatabase, seeded: dict[str, Any], db_proxy: TcpProxy | None, system_logs: Path
) -> Iterator[ProductionServer]:
    url = db_proxy.url_for(scratch.url) if db_proxy is not None else None
    server = ProductionServer(scratch.env(url), system_logs)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def server(production: ProductionServer, db_proxy: TcpProxy | None) -> ProductionServer:
    """The production server, running and answering, with the database reachable."""
    if db_proxy is not None and db_proxy.mode != "forward":
        db_proxy.restore()
    if production.process is None or not production.is_answering():
        production.stop()
        production.start()
    production.wait_ready()
    return production
