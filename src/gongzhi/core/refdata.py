"""Reference data kept in memory per process, never served stale: one version token.

Reference data is what a city edits rarely and every request reads: the region tree and its
boundaries, units, categories, time limits, routing rules, the working-day calendar, the
active classifier. Each process keeps what it read in ``cached(name, load)``, stored under
the **version token** it read first; the next read of the token decides whether the copy
still holds.

The token is one row, ``core_refdata_version``, that the **database itself** changes: every
table declared with ``watch`` carries triggers (installed after each ``migrate``, see
``install``) that give the row a new random token on any INSERT, UPDATE or DELETE (and
TRUNCATE on PostgreSQL), in the same transaction as the change. So a change becomes visible
together with its new token, whichever process or path made it: a service, the admin, the
shell, ``QuerySet.update``, ``bulk_create``, raw SQL. Tokens are random, never a counter, so
a rolled-back change (every test is one) leaves a token nobody will see again instead of
one a later change would reuse. On PostgreSQL concurrent changes queue on the row's lock, so
the last commit always leaves a token no copy was read under.

Order is what makes it safe: the token is read **before** the data, so a copy is at most as
old as its token; a change committed in between gives a copy newer than its token, which is
harmless, since the next read sees the new token and reloads.

**One read per request.** Inside a request (between Django's ``request_started`` and
``request_finished``), the token is read once and remembered, until the request's own
connection runs anything but a SELECT (an execute wrapper watches): from then on, while a
transaction is open, every ``cached`` call reads the token again (it sees its own
transaction's new token, and a copy loaded from uncommitted rows is stored under that
token, which dies with a rollback); once no transaction is open, the next read is
remembered again. Outside requests (tasks, commands, tests calling services) every
``cached`` call reads the token (one row by its key), unless the caller wraps its work in
``pinned()``. (Under ASGI, Django sends the request signals from another context, so every
call reads the token: correct, one query more per use.)

What is cached must be read-only for its callers: model instances in a copy are shared by
every request of the process.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

from django.apps import apps
from django.core.signals import request_finished, request_started
from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created
from django.db.models.signals import post_migrate

T = TypeVar("T")
log = logging.getLogger("gongzhi.refdata")

TABLE = "core_refdata_version"
_TRIGGER_PREFIX = "refdata_"
_PG_FUNCTION = "core_refdata_bump"

_watched: set[str] = set()  # "app_label.Model" labels
_copies: dict[str, tuple[str, Any]] = {}  # name -> (token, value)


def watch(*labels: str) -> None:
    """Declare reference data: the tables of these models ("app_label.Model", an
    auto-created many-to-many table as "app_label.Model_field") get the triggers."""
    _watched.update(labels)


def watched_tables() -> list[str]:
    """The tables of the declared models (those whose app is installed), sorted."""
    tables = set()
    for label in _watched:
        app_label, model_name = label.split(".")
        try:
            tables.add(apps.get_model(app_label, model_name)._meta.db_table)
        except LookupError:
            continue
    return sorted(tables)


# --- The token -----------------------------------------------------------------------------


@dataclass
class _Pin:
    token: str | None = None
    wrote: bool = False


_pin: ContextVar[_Pin | None] = ContextVar("gongzhi_refdata_pin", default=None)


_checked: list[bool] = []  # [whether every watched table carries its triggers], once a process


def _triggers_in_place() -> bool:
    """Whether the database carries the triggers of every declared table (checked once per
    process). Without them a change could go unnoticed, so nothing is trusted: code that
    declares a new table needs a ``migrate`` (which installs its triggers) before it serves."""
    if not _checked:
        missing = sorted(set(watched_tables()) - set(installed_tables(connection)))
        if missing:
            log.error(
                "reference data is not cached: tables without their triggers: %s "
                "(run `gongzhi migrate`)",
                ", ".join(missing),
            )
        _checked.append(not missing)
    return _checked[0]


def _read_token() -> str:
    if not _triggers_in_place():
        return "untrusted:" + secrets.token_hex(16)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {TABLE} WHERE id = 1")  # noqa: S608 (a constant)
        row = cursor.fetchone()
    # No row (deleted by hand; a flush leaves it, it has no model): a token of its own, so
    # nothing cached is trusted until the next change writes the row again.
    return str(row[0]) if row else "missing:" + secrets.token_hex(16)


def token() -> str:
    """The current reference data version (remembered for the rest of a request)."""
    pin = _pin.get()
    if pin is not None and pin.token is not None:
        return pin.token
    value = _read_token()
    if pin is not None and (not pin.wrote or not connection.in_atomic_block):
        pin.token, pin.wrote = value, False
    return value


@contextmanager
def pinned() -> Iterator[None]:
    """Read the token at most once in the block, as in a request (see the module's
    docstring: a write through the connection drops what was read)."""
    reset = _pin.set(_Pin())
    try:
        yield
    finally:
        _pin.reset(reset)


def _begin_request(**_kwargs: Any) -> None:
    _pin.set(_Pin())


def _end_request(**_kwargs: Any) -> None:
    _pin.set(None)


def _watch_writes(
    execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
) -> Any:
    pin = _pin.get()
    if pin is not None and not sql.lstrip()[:6].upper().startswith("SELECT"):
        pin.token, pin.wrote = None, True
    return execute(sql, params, many, context)


def _on_connection(connection: BaseDatabaseWrapper, **_kwargs: Any) -> None:
    # First in the list: ``connection.execute_wrapper()`` blocks pop the last one.
    if _watch_writes not in connection.execute_wrappers:
        connection.execute_wrappers.insert(0, _watch_writes)


request_started.connect(_begin_request, dispatch_uid="gongzhi.core.refdata.begin")
request_finished.connect(_end_request, dispatch_uid="gongzhi.core.refdata.end")
connection_created.connect(_on_connection, dispatch_uid="gongzhi.core.refdata.connection")
if connection.connection is not None:  # already connected when this module loads
    _on_connection(connection)


# --- Copies ----------------------------------------------------------------------------------


def cached(name: str, load: Callable[[], T]) -> T:
    """This process's copy of ``name``, loaded by ``load()`` when the token changed."""
    current = token()
    found = _copies.get(name)
    if found is not None and found[0] == current:
        return found[1]  # type: ignore[no-any-return]
    value = load()
    _copies[name] = (current, value)
    return value


def memo(name: str, key: Hashable, load: Callable[[], T]) -> T:
    """``load()`` once per ``key`` while the token holds (a lazily filled table)."""
    table: dict[Hashable, Any] = cached(name, dict)
    try:
        return table[key]  # type: ignore[no-any-return]
    except KeyError:
        value = table[key] = load()
        return value


def forget() -> None:
    """Drop this process's copies (as a freshly started process has none)."""
    _copies.clear()


# --- Triggers ----------------------------------------------------------------------------------


def _sqlite_triggers(connection: BaseDatabaseWrapper) -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s",
            [_TRIGGER_PREFIX + "%"],
        )
        return [row[0] for row in cursor.fetchall()]


def installed_tables(connection: BaseDatabaseWrapper) -> list[str]:
    """The tables that carry the triggers now (for checks and tests)."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
                "WHERE t.tgname = %s",
                [_TRIGGER_PREFIX + "bump"],
            )
        else:  # one trigger per operation: a table counts only with all three
            cursor.execute(
                "SELECT tbl_name FROM sqlite_master WHERE type = 'trigger' AND name LIKE %s "
                "GROUP BY tbl_name HAVING count(*) = 3",
                [_TRIGGER_PREFIX + "%"],
            )
        return sorted(row[0] for row in cursor.fetchall())


def install(connection: BaseDatabaseWrapper) -> list[str]:
    """Give every watched table its triggers (idempotent; run after each ``migrate``, which
    also repairs tables SQLite rebuilt, losing their triggers). Returns the tables."""
    existing = set(connection.introspection.table_names())
    if TABLE not in existing:
        return []
    tables = [t for t in watched_tables() if t in existing]
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE OR REPLACE FUNCTION {_PG_FUNCTION}() RETURNS trigger "  # noqa: S608
                "LANGUAGE plpgsql AS $$ BEGIN "
                f"INSERT INTO {TABLE} (id, token) "
                "VALUES (1, replace(gen_random_uuid()::text, '-', '')) "
                "ON CONFLICT (id) DO UPDATE SET token = EXCLUDED.token; "
                "RETURN NULL; END $$"
            )
            for table in tables:
                cursor.execute(
                    f"CREATE OR REPLACE TRIGGER {_TRIGGER_PREFIX}bump "
                    f"AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON {quote(table)} "
                    f"FOR EACH STATEMENT EXECUTE FUNCTION {_PG_FUNCTION}()"
                )
        elif connection.vendor == "sqlite":
            for table in tables:
                for operation in ("INSERT", "UPDATE", "DELETE"):
                    name = quote(f"{_TRIGGER_PREFIX}{table}_{operation.lower()}")
                    # Plain UPDATE and INSERT: an outer "INSERT OR IGNORE" would impose its
                    # conflict policy on an "INSERT OR REPLACE" here, and neither conflicts.
                    fresh = "lower(hex(randomblob(16)))"
                    cursor.execute(
                        f"CREATE TRIGGER IF NOT EXISTS {name} AFTER {operation} "  # noqa: S608
                        f"ON {quote(table)} BEGIN "
                        f"UPDATE {TABLE} SET token = {fresh} WHERE id = 1; "
                        f"INSERT INTO {TABLE} (id, token) SELECT 1, {fresh} "
                        f"WHERE NOT EXISTS (SELECT 1 FROM {TABLE} WHERE id = 1); END"
                    )
        else:  # pragma: no cover (the project runs on SQLite and PostgreSQL only)
            raise NotImplementedError(f"reference data triggers on {connection.vendor}")
    recheck()
    return tables


def recheck() -> None:
    """Check again, at the next read of the token, that every watched table has its
    triggers (``install`` does this itself)."""
    _checked.clear()


def uninstall(connection: BaseDatabaseWrapper) -> None:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for table in installed_tables(connection):
                cursor.execute(f"DROP TRIGGER IF EXISTS {_TRIGGER_PREFIX}bump ON {quote(table)}")
            cursor.execute(f"DROP FUNCTION IF EXISTS {_PG_FUNCTION}()")
        else:
            for name in _sqlite_triggers(connection):
                cursor.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")


def _after_migrate(sender: Any, using: str = "default", **_kwargs: Any) -> None:
    if getattr(sender, "label", "") != "core":
        return  # once per migrate (post_migrate is sent for every app)
    from django.db import connections

    install(connections[using])


post_migrate.connect(_after_migrate, dispatch_uid="gongzhi.core.refdata.install")
